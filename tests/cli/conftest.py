"""Fixtures of the ``seqlab imdb`` command tests: one torch thread, a tiny IMDB tarball."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "sentiment"))

from tiny_imdb import write_imdb


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models: a second intra-op thread only adds synchronisation, so the module's
    training runs (module-scoped fixtures, set up before the per-test pin) use one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory, one_thread):
    """A tiny aclImdb tarball written by the tests (never the real data set)."""
    return write_imdb(tmp_path_factory.mktemp("imdb"), tarball=True)

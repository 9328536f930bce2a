"""Fixtures for the Trainer tests; the problems themselves live in train_problems.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

# Test files here import train_problems (also used by the torchrun worker script); with
# pytest's importlib mode the test folder is not on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

from train_problems import as_batches, marker_data


@pytest.fixture
def marker_batches() -> tuple[list[dict], list[dict]]:
    """(train, valid) batches of the marker task; uneven last batches on purpose."""
    train = marker_data(600, seed=1)
    valid = marker_data(150, seed=2)
    return as_batches(*train, size=64), as_batches(*valid, size=64)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; two threads on a busy 2-core machine spin
    against each other (measured: a 3-epoch GRU fit took 24 s on 2 threads, 0.7 s on 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

"""One torch thread for the small tensors of these tests.

On a shared 2-core machine two OpenMP threads per process wait on each other at every
parallel region when the cores are oversubscribed; with these tiny ops that made test
steps ~30x slower, while one thread loses nothing.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

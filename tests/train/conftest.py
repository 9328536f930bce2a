"""Fixtures for the Trainer tests; the problems themselves live in train_problems.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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

"""Checkpoint files: safetensors weights, weights_only trainer state, RNG round trips."""

from __future__ import annotations

import datetime
import random

import numpy as np
import pytest
import torch

from seqlab.train.checkpoint import (
    capture_rng,
    load_state,
    load_weights,
    read_weights_metadata,
    restore_rng,
    save_state,
    save_weights,
)


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path):
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 (the global RNG is what is saved)
    random.seed(0)
    save_state(tmp_path / "state.pt", {"rng": capture_rng(), "epoch": 3})
    expected = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    torch.rand(5), np.random.rand(5), random.random()  # noqa: NPY002
    state = load_state(tmp_path / "state.pt")
    restore_rng(state["rng"])
    assert state["epoch"] == 3
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])  # noqa: NPY002
    assert random.random() == expected[2]


def test_weights_with_tied_tensors_and_metadata(tmp_path):
    layer = torch.nn.Linear(3, 3)
    state = {"a": layer.weight, "b": layer.weight, "bias": layer.bias}  # tied like embeddings
    save_weights(tmp_path / "w.safetensors", state, metadata={"step": "7"})
    loaded = load_weights(tmp_path / "w.safetensors")
    assert torch.equal(loaded["a"], layer.weight) and torch.equal(loaded["b"], layer.weight)
    assert read_weights_metadata(tmp_path / "w.safetensors") == {"step": "7"}
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_unreadable_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=r"bad\.safetensors: not a readable safetensors file"):
        load_weights(bad)
    with pytest.raises(ValueError, match="no such weights file"):
        load_weights(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="no such trainer state file"):
        load_state(tmp_path / "missing.pt")


def test_state_file_refuses_pickled_objects(tmp_path):
    # Any class outside torch's weights_only allow-list stands for a malicious payload.
    torch.save({"obj": datetime.date(2020, 1, 1)}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="not a readable trainer state"):
        load_state(tmp_path / "evil.pt")

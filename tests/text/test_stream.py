"""Language-model windows of one token stream."""

import numpy as np
import pytest

from seqlab.text import StreamBatches, concatenate


def test_concatenate_marks_each_document():
    out = concatenate([np.array([5, 6]), np.array([7])], boundary=0)
    assert out.tolist() == [5, 6, 0, 7, 0]
    with pytest.raises(TypeError):
        concatenate([np.array([1])], boundary=0.5)


def test_windows_cover_the_rows_with_targets_one_step_ahead():
    stream = np.arange(1, 102)
    batches = StreamBatches(stream, batch_size=4, bptt=5)
    assert len(batches) == 5 and batches.num_tokens == 100
    first = next(iter(batches))
    assert first["inputs"].shape == (4, 5)
    assert first["inputs"][1].tolist() == [26, 27, 28, 29, 30]
    assert (first["targets"] == first["inputs"] + 1).all()
    seen = sorted(int(b["inputs"][0, 0]) for b in batches)
    assert seen == [1, 6, 11, 16, 21]


def test_shuffled_epochs_are_fixed_by_seed_and_epoch_and_walk_the_stream():
    stream = np.arange(1000)
    batches = StreamBatches(stream, 2, 10, shuffle=True, seed=3, max_batches=20)
    starts = []
    for epoch in range(3):
        batches.set_epoch(epoch)
        order = [int(b["inputs"][0, 0]) for b in batches]
        batches.set_epoch(epoch)
        assert order == [int(b["inputs"][0, 0]) for b in batches]
        starts.append(order)
    # 49 windows: the first two epochs take 40 distinct ones of one permutation.
    assert len(set(starts[0]) | set(starts[1])) == 40
    other = StreamBatches(stream, 2, 10, shuffle=True, seed=4, max_batches=20)
    assert [int(b["inputs"][0, 0]) for b in other] != starts[0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="too short"):
        StreamBatches(np.arange(10), 4, 5)
    with pytest.raises(ValueError, match="bptt"):
        StreamBatches(np.arange(100), 4, 0)
    with pytest.raises(TypeError, match="1-D int"):
        StreamBatches(np.zeros(100), 4, 5)

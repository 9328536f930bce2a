import numpy as np
import pytest
import torch

from seqlab.text import BucketBatches, pad_batch, stratified_split, truncate_ids


def test_truncate_modes():
    ids = np.arange(10)
    assert truncate_ids(ids, 4, "head").tolist() == [0, 1, 2, 3]
    assert truncate_ids(ids, 4, "tail").tolist() == [6, 7, 8, 9]
    assert truncate_ids(ids, 8, "head+tail").tolist() == [0, 1, 4, 5, 6, 7, 8, 9]
    assert truncate_ids(ids, 20, "head+tail") is ids
    assert truncate_ids(ids, None).tolist() == list(range(10))
    with pytest.raises(ValueError, match="truncate mode"):
        truncate_ids(ids, 4, "middle")


def test_pad_batch_and_fixed_width():
    inputs, lengths = pad_batch([np.array([5, 6, 7]), np.array([8])], pad_index=0)
    assert inputs.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    inputs, _ = pad_batch([np.array([5])], length=4)
    assert inputs.tolist() == [[5, 0, 0, 0]]
    with pytest.raises(ValueError, match="does not fit"):
        pad_batch([np.arange(5)], length=4)


def test_stratified_split_keeps_shares_and_is_reproducible():
    labels = np.array([0] * 70 + [1] * 30)
    train, valid = stratified_split(labels, 0.2, seed=0)
    assert len(valid) == 20 and (labels[valid] == 1).sum() == 6
    assert np.intersect1d(train, valid).size == 0
    assert np.union1d(train, valid).tolist() == list(range(100))
    again = stratified_split(labels, 0.2, seed=0)
    assert np.array_equal(again[1], valid)
    assert not np.array_equal(stratified_split(labels, 0.2, seed=1)[1], valid)
    with pytest.raises(ValueError, match="valid_fraction"):
        stratified_split(labels, 1.5)


def _data(n=500, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [rng.integers(2, 50, size=int(k)) for k in rng.integers(1, 300, size=n)]
    return seqs, rng.integers(0, 2, size=n)


def _order(batches):
    return [b["targets"].tolist() + b["lengths"].tolist() for b in batches]


def test_bucket_batches_cover_every_example_once_and_match_len():
    seqs, targets = _data()
    batches = BucketBatches(seqs, targets, 32, shuffle=True, seed=3, pool_batches=4)
    out = list(batches)
    assert len(out) == len(batches)
    assert sum(len(b["targets"]) for b in out) == len(seqs)
    assert sorted(int(x) for b in out for x in b["lengths"]) == sorted(len(s) for s in seqs)
    for b in out:
        assert b["inputs"].dtype == torch.int64 and b["inputs"].shape[1] == b["lengths"].max()
    evaluation = BucketBatches(seqs, targets, 64, shuffle=False)
    assert len(list(evaluation)) == len(evaluation) == 8


def test_bucket_batches_deterministic_per_seed_and_epoch():
    seqs, targets = _data()
    a = BucketBatches(seqs, targets, 32, seed=1)
    b = BucketBatches(seqs, targets, 32, seed=1)
    assert _order(a) == _order(b)
    a.set_epoch(1)
    assert _order(a) != _order(b)
    b.set_epoch(1)
    assert _order(a) == _order(b)
    assert _order(BucketBatches(seqs, targets, 32, seed=2)) != _order(b)


def test_bucketing_cuts_padding():
    seqs, targets = _data(2000)
    real = sum(len(s) for s in seqs)
    bucketed = sum(b["inputs"].numel() for b in BucketBatches(seqs, targets, 32, seed=0))
    shuffled = sum(
        b["inputs"].numel() for b in BucketBatches(seqs, targets, 32, seed=0, pool_batches=1)
    )
    # Lengths are uniform on 1..300: random batches of 32 pad to ~the max (~2x the real
    # tokens); pools of 50 batches sorted by length leave only a few percent of padding.
    assert bucketed < 1.1 * real < shuffled


def test_truncation_fix_length_and_empty_sequences():
    seqs = [np.arange(2, 12), np.array([], dtype=np.int64)]
    batch = next(iter(BucketBatches(seqs, [0, 1], 2, shuffle=False, fix_length=6)))
    assert batch["inputs"].shape == (2, 6)
    assert sorted(batch["lengths"].tolist()) == [1, 6]
    cut = next(iter(BucketBatches(seqs[:1], [0], 1, max_length=4, truncate="tail")))
    assert cut["inputs"].tolist() == [[8, 9, 10, 11]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="differ in length"):
        BucketBatches([np.arange(3)], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        BucketBatches([], [])
    with pytest.raises(ValueError, match="batch_size"):
        BucketBatches([np.arange(3)], [0], 0)

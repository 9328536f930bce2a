"""The prepared-data cache, proportional limits, the unlabelled switch and the progress
bars of :func:`seqlab.sentiment.prepare`, on a tiny aclImdb tarball written by the test.

Work is counted with spies that wrap the real functions (reading the archive, the
tokenizer, the PPMI-SVD vectors) and call through, so nothing is mocked.
"""

import dataclasses
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

import seqlab._progress as progress_module
import seqlab.text as text_module
import seqlab.text.imdb as imdb_module
from seqlab.sentiment import prepare, preset
from seqlab.text import Tokenizer

sys.path.insert(0, str(Path(__file__).parent))

from tiny_imdb import write_imdb


@pytest.fixture
def tarball(tmp_path):
    return write_imdb(tmp_path / "data", tarball=True)


@pytest.fixture
def counters(monkeypatch):
    """Calls of the archive reader (with the splits asked for), the tokenizer and PPMI-SVD."""
    counts = {"read": [], "tokenize": 0, "vectors": 0}
    real_read = imdb_module._read_raw
    real_call = Tokenizer.__call__
    real_vectors = text_module.ppmi_svd_vectors

    def read(source, splits, *args, **kwargs):
        counts["read"].append(tuple(splits))
        return real_read(source, splits, *args, **kwargs)

    def call(self, text):
        counts["tokenize"] += 1
        return real_call(self, text)

    def vectors(*args, **kwargs):
        counts["vectors"] += 1
        return real_vectors(*args, **kwargs)

    monkeypatch.setattr(imdb_module, "_read_raw", read)
    monkeypatch.setattr(Tokenizer, "__call__", call)
    monkeypatch.setattr(text_module, "ppmi_svd_vectors", vectors)
    return counts


def _recipe(**changes):
    recipe = dataclasses.replace(preset("default"), **changes)
    recipe.model.update(embedding_dim=8, hidden_size=8)
    return recipe


def _batched(batches):
    return [(b["inputs"].tolist(), b["targets"].tolist()) for b in batches]


def test_second_call_reads_the_cache_and_says_so(tarball, tmp_path, counters, caplog):
    cache = tmp_path / "cache"
    first = prepare(tarball, _recipe(), cache_dir=cache, progress=False)
    assert not first["from_cache"]
    assert counters["read"] == [("train", "unsup")]
    assert counters["tokenize"] == 140 and counters["vectors"] == 1
    assert len(list((cache / "prepared").glob("*.npz"))) == 1

    with caplog.at_level(logging.INFO, logger="seqlab.sentiment.recipe"):
        second = prepare(tarball, _recipe(), cache_dir=cache, progress=False)
    assert second["from_cache"]
    assert set(second["timings"]) == set(first["timings"])
    assert second["timings"]["tokenise"] == second["timings"]["vectors"] == 0.0
    assert counters["read"] == [("train", "unsup")]  # not read again
    assert counters["tokenize"] == 140 and counters["vectors"] == 1
    assert "read from the cache" in caplog.text and "tokenising and vectors skipped" in caplog.text
    assert second["vocab"] == first["vocab"]
    assert np.array_equal(second["vectors"], first["vectors"])
    assert second["sizes"] == first["sizes"] == {"train": 96, "valid": 24, "unlabelled": 20}
    for name in ("train_batches", "valid_batches"):
        assert _batched(second[name]) == _batched(first[name])


def test_a_setting_or_the_data_changing_makes_a_new_entry(tarball, tmp_path, counters):
    cache = tmp_path / "cache"
    prepare(tarball, _recipe(), cache_dir=cache, progress=False)
    changes = [
        {"max_vocab": 20},
        {"vector_window": 2},
        {"punctuation": "drop"},
        {"use_unsup": False},
    ]
    for change in changes:
        assert not prepare(tarball, _recipe(**change), cache_dir=cache, progress=False)[
            "from_cache"
        ], change
    assert not prepare(tarball, _recipe(), cache_dir=cache, limit=40, progress=False)["from_cache"]
    other_dim = _recipe()
    other_dim.model["embedding_dim"] = 6
    assert not prepare(tarball, other_dim, cache_dir=cache, progress=False)["from_cache"]
    assert prepare(tarball, _recipe(), cache_dir=cache, progress=False)["from_cache"]

    # new data at the same path: other size and modification time
    write_imdb(tmp_path / "other", per_class=50, tarball=True, seed=1).replace(tarball)
    again = prepare(tarball, _recipe(), cache_dir=cache, progress=False)
    # 100 reviews a class in movies of six (three of each class): 9 a class in validation.
    assert not again["from_cache"] and again["sizes"]["train"] == 82


def test_limit_cuts_validation_and_unlabelled_in_proportion(tarball, tmp_path):
    full = prepare(tarball, _recipe(), cache_dir=tmp_path, progress=False)
    assert full["sizes"] == {"train": 96, "valid": 24, "unlabelled": 20}
    cut = prepare(tarball, _recipe(), cache_dir=tmp_path, limit=48, progress=False)
    # validation: 48 * 0.2 / 0.8 = 12; unlabelled: the same half as the training part
    assert cut["sizes"] == {"train": 48, "valid": 12, "unlabelled": 10}
    counts = [sum(len(b["targets"]) for b in cut[n]) for n in ("train_batches", "valid_batches")]
    assert counts == [48, 12]
    given = prepare(tarball, _recipe(), cache_dir=tmp_path, limit=48, valid_limit=20)
    assert given["sizes"]["valid"] == 20
    # the vocabulary counts only the reviews kept
    assert sum(cut["vocab"].counts) < sum(full["vocab"].counts)


def test_no_unlabelled_reads_and_uses_none(tarball, tmp_path, counters):
    prepared = prepare(tarball, _recipe(), cache_dir=tmp_path, unlabelled=False, progress=False)
    assert counters["read"] == [("train",)]
    assert prepared["sizes"]["unlabelled"] == 0 and prepared["recipe"].use_unsup is False
    assert prepared["vectors"] is not None  # from the training part alone
    with pytest.raises(TypeError, match="unlabelled must be a bool"):
        prepare(tarball, _recipe(), cache_dir=tmp_path, unlabelled="no")


def _damage_with_garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 not a zip archive at all")


def _damage_with_a_pickle(path: Path) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, key=np.array([{"a": 1}], dtype=object))


def _damage_the_ids(path: Path) -> None:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["train_ids"] = arrays["train_ids"] + 10_000  # outside the vocabulary
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


@pytest.mark.parametrize("damage", [_damage_with_garbage, _damage_with_a_pickle, _damage_the_ids])
def test_a_damaged_cache_file_is_rebuilt_with_a_warning(tarball, tmp_path, damage, caplog):
    first = prepare(tarball, _recipe(), cache_dir=tmp_path, progress=False)
    (path,) = (tmp_path / "prepared").glob("*.npz")
    damage(path)
    with caplog.at_level(logging.WARNING):
        rebuilt = prepare(tarball, _recipe(), cache_dir=tmp_path, progress=False)
    assert not rebuilt["from_cache"]
    assert f"the cache file {path} is unusable" in caplog.text
    assert rebuilt["vocab"] == first["vocab"]
    assert np.array_equal(rebuilt["vectors"], first["vectors"])
    assert prepare(tarball, _recipe(), cache_dir=tmp_path, progress=False)["from_cache"]


def test_no_cache_writes_nothing(tarball, tmp_path):
    prepare(tarball, _recipe(), cache_dir=tmp_path, use_cache=False, progress=False)
    assert not (tmp_path / "prepared").exists() and not (tmp_path / "tokens").exists()


def test_progress_bars_on_stderr_and_none_when_quiet(tarball, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "PROGRESS_DELAY_S", 0.0)  # draw every bar at once
    prepare(tarball, _recipe(), cache_dir=tmp_path / "a", progress=False)
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == ""

    prepare(tarball, _recipe(), cache_dir=tmp_path / "b", progress=True)
    shown = capsys.readouterr()
    assert shown.out == ""
    for step in (
        "reading aclImdb_train.tar.gz",
        "tokenising train",
        "tokenising unsup",
        "counting the vocabulary",
        "encoding",
        "word vectors (PPMI-SVD)",
    ):
        assert step in shown.err, step

    # a cache hit: one line saying so, on stderr, even without -v
    prepare(tarball, _recipe(), cache_dir=tmp_path / "b", progress=True)
    hit = capsys.readouterr()
    assert "read from the cache" in hit.err and "tokenising train" not in hit.err
    assert len(hit.err.strip().splitlines()) == 1
    prepare(tarball, _recipe(), cache_dir=tmp_path / "b", progress=False)
    assert capsys.readouterr().err == ""


def test_quick_steps_draw_no_bar(tarball, tmp_path, capsys):
    prepare(tarball, _recipe(), cache_dir=tmp_path, progress=True)
    assert "tokenising" not in capsys.readouterr().err

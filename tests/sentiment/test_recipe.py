"""The IMDB recipe as a library (``seqlab.sentiment``), on a tiny aclImdb folder.

``tests/cli/test_imdb.py`` drives the same functions through ``seqlab imdb``; here they
are called directly, with the checks on what they return that the CLI only prints.
"""

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.sentiment import (
    LABELS,
    PIPELINE_FORMAT,
    ImdbRecipe,
    demo,
    evaluate_run,
    load_pipeline,
    predict_texts,
    prepare,
    preset,
    read_recipe,
    read_subset,
    train,
)

sys.path.insert(0, str(Path(__file__).parent))

from tiny_imdb import write_imdb


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: a second intra-op thread only adds synchronisation on a small
    shared machine, so these tests use one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def imdb(tmp_path_factory):
    return write_imdb(tmp_path_factory.mktemp("imdb"))


def _small(**changes) -> ImdbRecipe:
    recipe = dataclasses.replace(preset("default"), **changes)
    recipe.model.update(embedding_dim=16, hidden_size=16)
    recipe.train["epochs"] = 2
    return recipe


@pytest.fixture(scope="module")
def trained(imdb, tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    recipe = _small()
    result = train(imdb, base / "run", recipe, cache_dir=base / "cache", progress=False)
    return recipe, result, base


def test_presets():
    assert preset("default") == ImdbRecipe()
    seed = preset("textbook")
    with pytest.warns(FutureWarning, match="'seed' is now called 'textbook'"):
        assert preset("seed") == seed
    assert (seed.fix_length, seed.max_vocab, seed.min_freq) == (200, 10_000, 10)
    assert seed.model["encoder"] == "rnncell" and seed.train["lr"] == 1e-4
    # each call is a fresh recipe: the CLI edits the dicts of the one it gets
    preset("default").model["hidden_size"] = 1
    assert preset("default").model["hidden_size"] == 64
    with pytest.raises(
        ValueError, match="unknown preset 'best'; choose 'default', 'textbook' or 'pretrained'"
    ):
        preset("best")


def test_prepare_limits_and_stages(imdb, tmp_path):
    recipe = _small(vectors=None)
    prepared = prepare(imdb, recipe, cache_dir=tmp_path, limit=30, valid_limit=10)
    counts = [
        sum(len(batch["targets"]) for batch in prepared[name])
        for name in ("train_batches", "valid_batches")
    ]
    assert counts == [30, 10]
    assert prepared["vectors"] is None
    assert set(prepared["timings"]) == {"tokenise", "vocab", "vectors", "cache", "batches"}
    full = prepare(imdb, recipe, cache_dir=tmp_path)
    assert sum(len(batch["targets"]) for batch in full["valid_batches"]) == 24  # 20% of 120


def test_prepare_ppmi_vectors_and_a_vectors_file(imdb, tmp_path):
    prepared = prepare(imdb, _small(), cache_dir=tmp_path)
    assert prepared["vectors"].shape == (len(prepared["vocab"]), 16)
    glove = tmp_path / "glove.txt"
    glove.write_text("great 0.1 0.2 0.3\nawful -0.1 -0.2 -0.3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="vectors have 3 dimensions but the model's embedding"):
        prepare(imdb, _small(vectors=str(glove)), cache_dir=tmp_path)


def test_train_writes_a_run_folder_that_rebuilds_the_model(trained):
    recipe, result, base = trained
    run = base / "run"
    assert [r["epoch"] for r in result["history"]] == [1, 2]
    assert json.loads((run / "history.json").read_text()) == result["history"]
    assert read_recipe(run) == recipe
    model, tokenizer, vocab, pipeline = load_pipeline(run)
    assert pipeline["format"] == PIPELINE_FORMAT and pipeline["labels"] == list(LABELS)
    assert len(vocab) == len(result["vocab"]) and tokenizer.to_dict() == pipeline["tokenizer"]
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, result["model"].state_dict()[name], rtol=0, atol=0)


def test_evaluate_run_matches_training_figures(trained, imdb):
    _, result, base = trained
    metrics = evaluate_run(base / "run", imdb, cache_dir=base / "cache")
    best = max(result["history"], key=lambda r: r["valid_accuracy"])
    assert metrics["split"] == "valid" and metrics["count"] == 24
    # best weights are saved by valid_accuracy; their accuracy on the same 24 reviews
    # is a ratio of counts, so it matches exactly
    assert metrics["accuracy"] == best["valid_accuracy"]
    with pytest.raises(ValueError, match="split must be 'valid' or 'test', got 'train'"):
        evaluate_run(base / "run", imdb, "train")


def test_predict_texts(trained):
    _, _, base = trained
    predictions = predict_texts(base / "run", ["great wonderful superb", "awful boring dull"])
    assert len(predictions) == 2
    for label, prob in predictions:
        assert label in LABELS and 0.5 <= prob <= 1.0
    with pytest.raises(ValueError, match="text 1 is empty"):
        predict_texts(base / "run", ["good", "  "])
    with pytest.raises(ValueError, match="text 0 has no words the tokenizer keeps"):
        predict_texts(base / "run", ["<br />"])


def test_load_pipeline_rejects_what_is_not_an_imdb_run(trained, tmp_path):
    _, _, base = trained
    with pytest.raises(ValueError, match="no such run folder"):
        load_pipeline(tmp_path / "none")
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("config.json", "model.safetensors", "text_pipeline.json"):
        (partial / name).write_bytes((base / "run" / name).read_bytes())
    with pytest.raises(ValueError, match=r"has no vocab\.json; it is not an IMDB run folder"):
        load_pipeline(partial)
    with pytest.raises(ValueError, match=r"has no text_pipeline\.json"):
        read_recipe(tmp_path)


def test_demo(imdb, tmp_path, monkeypatch):
    import seqlab.datasets

    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    result = demo(imdb)
    assert result["data"] == imdb and len(result["history"]) == 2
    assert np.isfinite(result["history"][-1]["train_loss"])
    assert result["trainer"].run_dir is None  # the demo writes no run folder
    monkeypatch.delenv("SEQLAB_IMDB", raising=False)
    monkeypatch.setattr(seqlab.datasets, "shared_data_dir", lambda: None)
    assert demo() is None


def test_resume_needs_the_same_recipe_and_subset(trained, imdb, tmp_path):
    import shutil

    recipe, result, base = trained
    run = tmp_path / "run"
    shutil.copytree(base / "run", run)  # resuming rewrites files the other tests read
    assert read_subset(run) == {"limit": None, "valid_limit": None}
    with pytest.raises(ValueError, match="trained on limit=None, valid_limit=None reviews, not"):
        train(imdb, run, recipe, cache_dir=base / "cache", resume=True, limit=30)
    other = _small(max_length=50)
    with pytest.raises(ValueError, match="was trained with another recipe"):
        train(imdb, run, other, cache_dir=base / "cache", resume=True)
    with pytest.raises(ValueError, match="has no text_pipeline"):
        train(imdb, tmp_path, recipe, cache_dir=base / "cache", resume=True)
    # the finished run resumes into the same history (nothing left to train)
    again = train(imdb, run, recipe, cache_dir=base / "cache", resume=True, progress=False)
    assert again["history"] == result["history"]

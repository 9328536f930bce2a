"""The recipe's validation split: movies kept apart by default, the random split on request."""

import dataclasses
import json
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.sentiment import ImdbRecipe, evaluate_run, preset, recipe_from_dict, train
from seqlab.sentiment.recipe import _split_train_valid
from seqlab.text import load_imdb_tokenized, movie_of_reviews, read_movie_urls

sys.path.insert(0, str(Path(__file__).parent))

from tiny_imdb import write_imdb


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    return write_imdb(tmp_path_factory.mktemp("imdb"), per_class=45, unsup=6, tarball=True)


def _parts(source: Path, recipe: ImdbRecipe, cache: Path):
    data = load_imdb_tokenized(source, ("train",), cache_dir=cache)["train"]
    train_idx, valid_idx = _split_train_valid(data, recipe)
    return data, train_idx, valid_idx


def test_default_split_keeps_movies_apart(tarball, tmp_path):
    recipe = preset("default")
    assert recipe.valid_split == "movie" and preset("textbook").valid_split == "movie"
    data, train_idx, valid_idx = _parts(tarball, recipe, tmp_path)
    movies = movie_of_reviews(data.ids, read_movie_urls(tarball), "fixture")
    assert not set(movies[train_idx]) & set(movies[valid_idx])
    assert len(valid_idx) == round(0.2 * 45) * 2 and set(data.labels[valid_idx]) == {0, 1}
    # The random split (the fixture's movies have three reviews each) shares movies.
    random = dataclasses.replace(recipe, valid_split="random")
    _, train_r, valid_r = _parts(tarball, random, tmp_path)
    assert set(movies[train_r]) & set(movies[valid_r])
    assert not np.array_equal(valid_r, valid_idx)


def test_movie_split_without_urls_is_a_clear_error(tmp_path):
    source = write_imdb(tmp_path / "data", per_class=12, unsup=2, tarball=True, urls=False)
    with pytest.raises(ValueError, match=r"no train/urls_pos\.txt.*--valid-split random"):
        _parts(source, preset("default"), tmp_path / "cache")
    folder = write_imdb(tmp_path / "tree", per_class=12, unsup=2, urls=False)
    with pytest.raises(ValueError, match=r"no urls files found.*--valid-split random"):
        _parts(folder, preset("default"), tmp_path / "cache")
    _parts(folder, dataclasses.replace(preset("default"), valid_split="random"), tmp_path / "c")


def test_urls_that_do_not_cover_the_reviews_are_an_error(tmp_path):
    tree = write_imdb(tmp_path / "data", per_class=12, unsup=2)
    urls = tree / "train" / "urls_neg.txt"
    urls.write_text("".join(urls.read_text().splitlines(keepends=True)[:5]))
    with pytest.raises(ValueError, match=r"urls_neg\.txt has 5 lines, but review train/neg/5_2"):
        _parts(tree, preset("default"), tmp_path / "cache")


def test_urls_next_to_the_train_tarball(tmp_path):
    tree = write_imdb(tmp_path / "data", per_class=12, unsup=2)
    urls = tmp_path / "aclImdb_train_urls.tar.gz"
    with tarfile.open(urls, "w:gz") as archive:
        for name in ("pos", "neg", "unsup"):
            archive.add(tree / "train" / f"urls_{name}.txt", f"aclImdb/train/urls_{name}.txt")
            (tree / "train" / f"urls_{name}.txt").unlink()
    data = tmp_path / "aclImdb_train.tar.gz"
    with tarfile.open(data, "w:gz") as archive:
        archive.add(tree, arcname="aclImdb")
    shutil.rmtree(tree)
    _, train_idx, valid_idx = _parts(data, preset("default"), tmp_path / "cache")
    assert len(train_idx) + len(valid_idx) == 24


def test_a_run_records_its_split_and_evaluates_on_it(tarball, tmp_path):
    recipe = preset("default")
    recipe.model.update(embedding_dim=8, hidden_size=8)
    recipe.train["epochs"] = 1
    runs = {}
    for split in ("movie", "random"):
        chosen = dataclasses.replace(recipe, valid_split=split, vectors=None)
        out = tmp_path / split
        result = train(tarball, out, chosen, cache_dir=tmp_path / "cache", progress=False)
        saved = json.loads((out / "text_pipeline.json").read_text())["recipe"]
        assert saved["valid_split"] == split
        metrics = evaluate_run(out, tarball, "valid", cache_dir=tmp_path / "cache")
        assert metrics["accuracy"] == pytest.approx(result["history"][-1]["valid_accuracy"])
        runs[split] = metrics
    assert runs["movie"]["count"] == runs["random"]["count"]


def test_a_recipe_saved_without_valid_split_was_random():
    values = dataclasses.asdict(preset("default"))
    del values["valid_split"]
    assert recipe_from_dict(values, "R").valid_split == "random"
    values["valid_split"] = "by-title"
    with pytest.raises(ValueError, match=r"R\.valid_split"):
        recipe_from_dict(values, "R")

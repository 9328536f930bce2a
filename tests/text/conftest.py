"""A tiny aclImdb tree, written by the tests, in the official layout."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest

POSITIVE = ["great", "wonderful", "loved", "superb", "moving", "brilliant"]
NEGATIVE = ["awful", "boring", "hated", "dull", "terrible", "waste"]
FILLER = ["the", "film", "plot", "actor", "scene", "story", "movie", "was", "and", "a"]


def review(rng: np.random.Generator, positive: bool, length: int = 30) -> str:
    cue = POSITIVE if positive else NEGATIVE
    words = [
        str(rng.choice(cue)) if rng.random() < 0.25 else str(rng.choice(FILLER))
        for _ in range(length)
    ]
    return " ".join(words[:10]) + ".<br /><br />" + " ".join(words[10:]) + "!"


def write_tree(
    root: Path, splits=("train", "test"), per_class: int = 20, unsup: int = 10, seed: int = 0
) -> Path:
    """Write ``root/aclImdb/<split>/<pos|neg|unsup>/<id>_<rating>.txt``; return root/aclImdb."""
    rng = np.random.default_rng(seed)
    base = root / "aclImdb"
    for split in splits:
        for label in ("pos", "neg"):
            folder = base / split / label
            folder.mkdir(parents=True)
            for i in range(per_class):
                rating = int(rng.integers(7, 11)) if label == "pos" else int(rng.integers(1, 5))
                text = review(rng, label == "pos")
                (folder / f"{i}_{rating}.txt").write_text(text, encoding="utf-8")
        if split == "train" and unsup:
            folder = base / "train" / "unsup"
            folder.mkdir(parents=True)
            for i in range(unsup):
                (folder / f"{i}_0.txt").write_text(review(rng, bool(i % 2)), encoding="utf-8")
    return base


def write_tarball(tree: Path, path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        archive.add(tree, arcname="aclImdb")
    return path


@pytest.fixture
def imdb_tree(tmp_path) -> Path:
    return write_tree(tmp_path / "src")


@pytest.fixture
def imdb_tarball(tmp_path, imdb_tree) -> Path:
    return write_tarball(imdb_tree, tmp_path / "aclImdb_v1.tar.gz")


@pytest.fixture
def imdb_tools():
    """The writers above, for tests that need a custom tree."""

    class Tools:
        write_tree = staticmethod(write_tree)
        write_tarball = staticmethod(write_tarball)
        review = staticmethod(review)

    return Tools

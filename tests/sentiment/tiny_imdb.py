"""A tiny IMDB-like data set in the aclImdb layout, written by the tests (never the real one).

Reviews are filler words with sentiment cue words mixed in, so a small model learns
something in an epoch or two and accuracy figures are not constant.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

POSITIVE = ["great", "wonderful", "loved", "superb", "moving", "brilliant"]
NEGATIVE = ["awful", "boring", "hated", "dull", "terrible", "waste"]
FILLER = ["the", "film", "plot", "actor", "scene", "story", "movie", "was", "and", "a"]


def review(rng: np.random.Generator, positive: bool, length: int = 25) -> str:
    cue = POSITIVE if positive else NEGATIVE
    words = [str(rng.choice(cue if rng.random() < 0.3 else FILLER)) for _ in range(length)]
    return " ".join(words[:10]) + ".<br /><br />" + " ".join(words[10:]) + "!"


def movie_url(folder: str, i: int) -> str:
    """The fixture's movie of review ``i`` in ``folder``: three reviews a movie, and a
    positive and a negative review share a movie (ids ``tt0000000``, ``tt0000001``, ...)."""
    number = i // 3 if folder != "unsup" else 1000 + i // 3
    return f"http://www.imdb.com/title/tt{number:07d}/usercomments"


def write_imdb(
    root: Path,
    per_class: int = 60,
    unsup: int = 20,
    tarball: bool = False,
    seed: int = 0,
    urls: bool = True,
) -> Path:
    """``root/aclImdb/train/{pos,neg,unsup}/<id>_<rating>.txt``; that folder or a tarball of it.

    ``urls`` also writes ``train/urls_{pos,neg,unsup}.txt`` (line i: the movie of review i,
    :func:`movie_url`), as the official data set has them.
    """
    rng = np.random.default_rng(seed)
    tree = root / "aclImdb"
    for folder, count in (("pos", per_class), ("neg", per_class), ("unsup", unsup)):
        (tree / "train" / folder).mkdir(parents=True)
        if urls:
            lines = "".join(movie_url(folder, i) + "\n" for i in range(count))
            (tree / "train" / f"urls_{folder}.txt").write_text(lines, encoding="utf-8")
        for i in range(count):
            rating = {"pos": 9, "neg": 2, "unsup": 0}[folder]
            text = review(rng, folder == "pos" or (folder == "unsup" and i % 2 == 0))
            (tree / "train" / folder / f"{i}_{rating}.txt").write_text(text, encoding="utf-8")
    if not tarball:
        return tree
    path = root / "aclImdb_train.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(tree, arcname="aclImdb")
    return path

"""Which movie each IMDB review is about, from the aclImdb ``urls_*.txt`` files.

The official data set ships, per labelled folder, a file whose line ``i`` is the IMDB
url of the movie that review id ``i`` comments on (``train/urls_pos.txt`` for
``train/pos/<i>_<rating>.txt``, and so on): ``http://www.imdb.com/title/tt0453418/usercomments``.
Reviews of one movie share names and words, and IMDB's test reviews are about other
movies than its train reviews, so a validation split that keeps movies apart
(:func:`seqlab.text.grouped_split`) predicts the test accuracy better than a random one.

The files are read from a folder (``[aclImdb/]train/urls_*.txt``) or from a tar archive
(the official ``aclImdb_v1.tar.gz`` holds them; so does ``aclImdb_train_urls.tar.gz``).
Archive members go through :func:`tarfile.data_filter` before anything is read: absolute
names, names that leave the archive, links and special files are refused. Every line is
untrusted input: one that is not an IMDB title url is a ValueError naming the file and
the line.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "MAX_URLS_BYTES",
    "URLS_FOLDERS",
    "find_movie_urls",
    "movie_of_reviews",
    "read_movie_urls",
]

#: Label folders that have a urls file.
URLS_FOLDERS = ("pos", "neg", "unsup")
#: Largest urls file read (the official ones are at most 2.5 MB).
MAX_URLS_BYTES = 64 << 20
_URLS_MEMBER = re.compile(r"(?:^|/)train/urls_(pos|neg|unsup)\.txt$")
_TITLE = re.compile(r"^https?://(?:www\.)?imdb\.com/title/(tt\d{1,12})(?:/[A-Za-z0-9_/]*)?$")
_REVIEW_ID = re.compile(r"^(pos|neg|unsup)/(\d+)_\d+$")
# Names of a urls archive next to a train tarball or folder, tried in this order.
_SIBLINGS = ("aclImdb_train_urls.tar.gz", "aclImdb_urls.tar.gz")


def _parse(text: bytes, where: str) -> list[str]:
    """Movie ids (``tt...``), one per line of a urls file; a bad line is a ValueError."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text[: exc.start].count(b"\n") + 1
        raise ValueError(f"{where} line {line}: not UTF-8 text.") from None
    movies = []
    for number, line in enumerate(decoded.splitlines(), start=1):
        match = _TITLE.match(line.strip())
        if match is None:
            shown = line if len(line) <= 80 else line[:77] + "..."
            raise ValueError(
                f"{where} line {number}: not an IMDB title url "
                f"(expected http://www.imdb.com/title/tt<digits>/usercomments): {shown!r}"
            )
        movies.append(match.group(1))
    return movies


def _read_folder(root: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for base in (root, root / "aclImdb"):
        for folder in URLS_FOLDERS:
            path = base / "train" / f"urls_{folder}.txt"
            if folder in out or not path.is_file():
                continue
            if path.stat().st_size > MAX_URLS_BYTES:
                raise ValueError(f"{path}: larger than {MAX_URLS_BYTES:,} bytes; not a urls file.")
            out[folder] = _parse(path.read_bytes(), str(path))
    return out


def _read_tar(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    # Where a member would land if extracted: data_filter checks names against it.
    destination = os.path.realpath(path.parent / f".{path.name}.extract")
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                try:
                    checked = tarfile.data_filter(member, destination)
                except tarfile.FilterError as exc:
                    raise ValueError(f"{path}: member {member.name!r} refused ({exc}).") from None
                if checked.name != member.name:
                    # The filter strips a leading "/": an absolute name is refused here.
                    raise ValueError(f"{path}: member {member.name!r} refused (absolute name).")
                match = _URLS_MEMBER.search(checked.name)
                if match is None or not checked.isfile():
                    continue
                if checked.size > MAX_URLS_BYTES:
                    raise ValueError(
                        f"{path}: member {member.name!r} is larger than {MAX_URLS_BYTES:,} "
                        "bytes; not a urls file."
                    )
                handle = archive.extractfile(checked)
                data = handle.read() if handle is not None else b""
                out[match.group(1)] = _parse(data, f"{path}: {member.name}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ValueError(
            f"{path}: not a readable tar archive ({exc or type(exc).__name__})."
        ) from None
    return out


def read_movie_urls(path: str | os.PathLike) -> dict[str, list[str]]:
    """``{"pos": [...], "neg": [...], "unsup": [...]}``: the movie id of each line.

    ``path`` is a folder (``[aclImdb/]train/urls_*.txt``) or a tar archive holding those
    members. Folders whose file is absent are absent from the result; a source with no
    urls file at all is a ValueError. Lines must be IMDB title urls
    (``http://www.imdb.com/title/tt0453418/usercomments``); any other line is a
    ValueError naming the file and the line number.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}.")
    path = Path(path)
    if path.is_dir():
        out = _read_folder(path)
    elif path.is_file():
        out = _read_tar(path)
    else:
        raise ValueError(f"{path}: no such file or folder (expected IMDB urls files).")
    if not out:
        raise ValueError(
            f"{path}: no train/urls_pos.txt, urls_neg.txt or urls_unsup.txt (the aclImdb "
            "files that give each review's movie)."
        )
    return out


def find_movie_urls(source: str | os.PathLike) -> Path | None:
    """Where the urls files of an IMDB ``source`` are, or None.

    Looked for, in order: inside ``source`` when it is a folder
    (``[aclImdb/]train/urls_pos.txt``); an archive next to it named
    ``<source name without .tar.gz>_urls.tar.gz``, ``aclImdb_train_urls.tar.gz`` or
    ``aclImdb_urls.tar.gz``; ``source`` itself when it is an archive (the official
    ``aclImdb_v1.tar.gz`` holds them; reading it is checked by :func:`read_movie_urls`).
    """
    source = Path(source)
    if source.is_dir():
        for base in (source, source / "aclImdb"):
            if (base / "train" / "urls_pos.txt").is_file():
                return source
    name = source.name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    for sibling in (f"{name}_urls.tar.gz", *_SIBLINGS):
        candidate = source.parent / sibling
        if candidate.is_file() and candidate != source:
            return candidate
    return source if source.is_file() else None


def movie_of_reviews(ids: Sequence[str], urls: dict[str, list[str]], where: str) -> np.ndarray:
    """The movie id of each review id (``"pos/123_8"``, as :class:`TokenizedDataset` has).

    ``where`` names the urls source in errors. A review whose folder has no urls file, or
    whose number has no line, is a ValueError.
    """
    out = []
    for ident in ids:
        match = _REVIEW_ID.match(ident)
        if match is None:
            raise ValueError(f"{ident!r}: not an IMDB review id (<pos|neg|unsup>/<id>_<rating>).")
        folder, number = match.group(1), int(match.group(2))
        lines = urls.get(folder)
        if lines is None:
            raise ValueError(f"{where}: no train/urls_{folder}.txt, needed for review {ident}.")
        if number >= len(lines):
            raise ValueError(
                f"{where}: train/urls_{folder}.txt has {len(lines)} lines, but review "
                f"train/{ident}.txt needs line {number + 1}; the urls do not match the reviews."
            )
        out.append(lines[number])
    return np.asarray(out, dtype=object)

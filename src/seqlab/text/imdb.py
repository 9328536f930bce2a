"""The IMDB movie-review data set (Maas et al. 2011, "Learning Word Vectors for Sentiment
Analysis", ACL), read without extracting anything and without torchtext.

Sources: an ``aclImdb`` folder (or a folder holding one), the official
``aclImdb_v1.tar.gz``, or an archive/folder with only some splits (such as a train-only
tarball holding ``train/{pos,neg,unsup}``). Reviews live in ``<split>/<pos|neg>/<id>_<rating>.txt``:
the label comes from the folder (neg = 0, pos = 1) and the 1-10 rating from the file
name; ``unsup`` (50,000 unlabelled reviews under ``train/unsup``, label -1, rating 0) is
available for pretraining.

Archive members are streamed and decoded in memory; links and names that would escape the
archive (absolute, ``..``) are rejected. Members and files that look like reviews but are
not regular files (devices, FIFOs; in a folder, symbolic links that lead outside the data
root, whether to a file or a folder) are skipped and counted, with a warning. Sizes are
capped: one review (:data:`MAX_REVIEW_BYTES`), the review text read
(:data:`MAX_TOTAL_BYTES`) and the decompressed archive scanned (:data:`MAX_STREAM_BYTES`).
A labelled split must hold both classes. Documents come back sorted by (label folder,
numeric id), so a folder and its tarball give identical data sets and splits.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab._progress import bar, notice, track
from seqlab.io import atomic_write
from seqlab.text.download import download as _download
from seqlab.text.tokenize import Tokenizer

__all__ = [
    "IMDB_FILENAMES",
    "IMDB_SHA256",
    "IMDB_SIZE",
    "IMDB_URL",
    "LABEL_NAMES",
    "MAX_REVIEW_BYTES",
    "MAX_STREAM_BYTES",
    "MAX_TOTAL_BYTES",
    "SPLITS",
    "TextDataset",
    "TokenizedDataset",
    "default_cache_dir",
    "download_imdb",
    "find_imdb",
    "load_imdb",
    "load_imdb_tokenized",
    "resolve_imdb",
    "source_identity",
]

logger = logging.getLogger(__name__)

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_SIZE = 84_125_825
IMDB_FILENAMES = ("aclImdb_v1.tar.gz", "aclImdb_train.tar.gz")
SPLITS = ("train", "test", "unsup")
LABEL_NAMES = ("neg", "pos")
# The tokenised-data cache format; bump it when the file layout changes.
_CACHE_FORMAT = 1

_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_LABEL = {"neg": 0, "pos": 1, "unsup": -1}
# A review with more undecodable bytes than this share is not text in UTF-8 at all.
_MAX_BAD_SHARE = 0.05
# Size caps, so that a hostile archive (a gzip bomb, a huge member) cannot exhaust the
# machine: IMDB's longest review is about 14 KB and the whole data set about 500 MB
# decompressed.
MAX_REVIEW_BYTES = 1 << 20  # one review file or member
MAX_TOTAL_BYTES = 2 << 30  # review text read into memory, all splits together
MAX_STREAM_BYTES = 8 << 30  # decompressed archive bytes scanned, skipped members included
# Marks an entry that looks like a review but is not a regular file inside the data root
# (a device, a FIFO, a folder, a link that leads outside): skipped and counted.
_SKIPPED = object()


@dataclass
class TextDataset:
    """Raw reviews of one split. ``labels``: 0 neg, 1 pos, -1 unlabelled."""

    split: str
    texts: list[str]
    labels: np.ndarray
    ratings: np.ndarray
    ids: list[str]
    source: Path
    replaced_documents: int = 0
    replaced_bytes: int = 0
    skipped_empty: int = 0
    skipped_special: int = 0  # entries that were not regular files (see the module doc)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class TokenizedDataset:
    """Tokenised reviews of one split (what the tokenised-data cache holds)."""

    split: str
    tokens: list[list[str]]
    labels: np.ndarray
    ratings: np.ndarray
    ids: list[str]
    source: Path
    replaced_documents: int = 0
    replaced_bytes: int = 0
    skipped_empty: int = 0
    skipped_special: int = 0
    from_cache: bool = False

    def __len__(self) -> int:
        return len(self.tokens)


def default_cache_dir() -> Path:
    """``$SEQLAB_CACHE``, else ``$XDG_CACHE_HOME/seqlab``, else ``~/.cache/seqlab``."""
    if os.environ.get("SEQLAB_CACHE"):
        return Path(os.environ["SEQLAB_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqlab"


def find_imdb(path: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None):
    """Where IMDB data is: ``path``, else ``$SEQLAB_IMDB``, the cache, the shared data folder.

    Returns a Path or None. An explicit ``path`` that does not exist is a ValueError.
    """
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise ValueError(f"{path}: no such file or folder (expected IMDB data).")
        return path
    candidates = []
    if os.environ.get("SEQLAB_IMDB"):
        candidates.append(Path(os.environ["SEQLAB_IMDB"]))
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    candidates += [cache / "aclImdb_v1.tar.gz", cache / "aclImdb"]
    from seqlab.datasets import shared_data_dir

    shared = shared_data_dir()
    if shared is not None:
        candidates += [shared / "imdb" / name for name in IMDB_FILENAMES]
        candidates.append(shared / "imdb" / "aclImdb")
    return next((c for c in candidates if c.exists()), None)


def download_imdb(cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Fetch the official ``aclImdb_v1.tar.gz`` into ``cache_dir`` (verified, resumable)."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return _download(
        IMDB_URL, cache / "aclImdb_v1.tar.gz", sha256=IMDB_SHA256, size=IMDB_SIZE, progress=progress
    )


def _resolve(path, download: bool, cache_dir) -> Path:
    found = find_imdb(path, cache_dir)
    if found is not None:
        return found
    if download:
        return download_imdb(cache_dir)
    raise ValueError(
        "no IMDB data found: pass a path (an aclImdb folder or aclImdb_v1.tar.gz), set "
        "$SEQLAB_IMDB, or use download=True (seqlab imdb train --download) to fetch "
        f"{IMDB_URL} into {Path(cache_dir) if cache_dir else default_cache_dir()}."
    )


def _check_splits(splits: Sequence[str]) -> tuple[str, ...]:
    if isinstance(splits, str):
        splits = (splits,)
    for split in splits:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    return tuple(dict.fromkeys(splits))


def _split_of(top: str, folder: str) -> str:
    return "unsup" if folder == "unsup" else top


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links resolved, lies under ``root`` (already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def _read_capped(path: str, where: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_REVIEW_BYTES + 1)
    if len(data) > MAX_REVIEW_BYTES:
        raise ValueError(
            f"{where}: larger than {MAX_REVIEW_BYTES:,} bytes, the most a review may have; "
            "this is not IMDB data."
        )
    return data


def _iter_folder(root: Path, wanted: set[str]) -> Iterator[tuple[str, str, int, int, object]]:
    """(top folder, label folder, id, rating, bytes) per review file under ``root``.

    Files of splits not in ``wanted`` are listed (so errors can say what is there) but
    not read: their bytes come back as None. A symbolic link (to a file or a folder) is
    followed only when its target lies under ``root``; other links, devices and FIFOs
    come back with :data:`_SKIPPED` in place of the bytes.
    """
    real_root = root.resolve()
    bases = [root, root / "aclImdb"]
    for base in bases:
        if base != root and base.is_symlink() and not _inside(base, real_root):
            logger.warning("%s: not following %s, a link out of the data folder", root, base)
            continue
        for top in ("train", "test"):
            for folder in ("pos", "neg", "unsup"):
                directory = base / top / folder
                if not directory.is_dir():
                    continue
                if not _inside(directory, real_root):
                    logger.warning(
                        "%s: not following %s, a link out of the data folder", root, directory
                    )
                    yield top, folder, -1, 0, _SKIPPED
                    continue
                with os.scandir(directory) as entries:
                    for entry in entries:
                        match = _MEMBER.search(f"{top}/{folder}/{entry.name}")
                        if match is None:
                            continue
                        number, rating = int(match.group(3)), int(match.group(4))
                        regular = entry.is_file(follow_symlinks=False) or (
                            entry.is_symlink()
                            and entry.is_file()
                            and _inside(Path(entry.path), real_root)
                        )
                        if not regular:
                            yield top, folder, number, rating, _SKIPPED
                            continue
                        data = None
                        if _split_of(top, folder) in wanted:
                            data = _read_capped(entry.path, f"{root}: {top}/{folder}/{entry.name}")
                        yield top, folder, number, rating, data


def _check_gzip_complete(path: Path) -> None:
    """Raise EOFError if a gzip file stops before its end-of-stream marker.

    tarfile's stream mode takes a gzip cut between two members for the archive's end, so a
    truncated download would otherwise load silently with reviews missing.
    """
    with open(path, "rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            return
    scanned = 0
    with gzip.open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            scanned += len(block)
            if scanned > MAX_STREAM_BYTES:
                raise ValueError(
                    f"{path}: decompresses to more than {MAX_STREAM_BYTES:,} bytes; "
                    "refusing to read it (IMDB is about 500 MB)."
                )


def _iter_tar(path: Path, wanted: set[str]) -> Iterator[tuple[str, str, int, int, object]]:
    try:
        # "r|*": a forward-only stream, so nothing is extracted and no index is built.
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                name = member.name
                if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                    raise ValueError(f"{path}: member {name!r} points outside the archive.")
                if member.offset_data + member.size > MAX_STREAM_BYTES:
                    raise ValueError(
                        f"{path}: more than {MAX_STREAM_BYTES:,} bytes decompressed; refusing "
                        "to read further (IMDB is about 500 MB)."
                    )
                match = _MEMBER.search(name)
                if match is None:
                    continue
                if member.issym() or member.islnk():
                    raise ValueError(f"{path}: member {name!r} is a link; refusing to follow it.")
                top, folder = match.group(1), match.group(2)
                number, rating = int(match.group(3)), int(match.group(4))
                if not member.isfile():
                    yield top, folder, number, rating, _SKIPPED
                    continue
                if member.size > MAX_REVIEW_BYTES:
                    raise ValueError(
                        f"{path}: member {name!r} is {member.size:,} bytes, more than the "
                        f"{MAX_REVIEW_BYTES:,} a review may have; this is not IMDB data."
                    )
                data = None
                if _split_of(top, folder) in wanted:
                    handle = archive.extractfile(member)
                    data = handle.read(MAX_REVIEW_BYTES + 1) if handle is not None else b""
                yield top, folder, number, rating, data
        _check_gzip_complete(path)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ValueError(
            f"{path}: not a readable tar archive ({exc or type(exc).__name__}); "
            "if it was downloaded, it may be truncated: delete it and fetch it again."
        ) from None


def _decode(data: bytes, where: str, errors: str) -> tuple[str, int]:
    """Text of a review and how many undecodable bytes were replaced by U+FFFD."""
    if b"\x00" in data:
        raise ValueError(f"{where}: not UTF-8 text (it holds NUL bytes: binary or UTF-16?).")
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise ValueError(
                f"{where}: not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.end]!r}); "
                "use encoding_errors='replace' to replace such bytes."
            ) from None
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    if bad > max(16, _MAX_BAD_SHARE * len(data)):
        raise ValueError(
            f"{where}: not UTF-8 text ({bad} of {len(data)} bytes cannot be decoded); "
            "convert it to UTF-8."
        )
    return text, bad


def _read_raw(
    source: Path, splits: tuple[str, ...], encoding_errors: str, progress: bool = False
) -> dict:
    """Read the wanted splits in one pass; returns {split: TextDataset}."""
    if encoding_errors not in ("replace", "strict"):
        raise ValueError(f"encoding_errors must be 'replace' or 'strict', got {encoding_errors!r}.")
    if source.is_dir():
        items = _iter_folder(source, set(splits))
    elif source.is_file():
        items = _iter_tar(source, set(splits))
    else:
        raise ValueError(f"{source}: not a file or folder.")
    rows: dict[str, list] = {s: [] for s in splits}
    present: set[str] = set()
    # Per split: replaced documents, replaced bytes, empty, skipped special entries.
    stats = {s: [0, 0, 0, 0] for s in splits}
    special: dict[str, int] = {}
    total = 0
    counter = bar(progress, f"reading {source.name}", unit=" reviews")
    for top, folder, number, rating, data in items:
        counter.update(1)
        split = _split_of(top, folder)
        if data is _SKIPPED:
            special[f"{top}/{folder}"] = special.get(f"{top}/{folder}", 0) + 1
            if split in stats:
                stats[split][3] += 1
            continue
        present.add(split)
        if data is None:
            continue
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ValueError(
                f"{source}: more than {MAX_TOTAL_BYTES:,} bytes of review text; refusing to "
                "read further (IMDB is about 130 MB)."
            )
        where = f"{source}: {top}/{folder}/{number}_{rating}.txt"
        text, bad = _decode(data, where, encoding_errors)
        if bad:
            stats[split][0] += 1
            stats[split][1] += bad
        if not text.strip():
            stats[split][2] += 1
            continue
        rows[split].append((folder, number, rating, text))
    counter.close()
    if special:
        logger.warning(
            "%s: skipped %d entries that look like reviews but are not regular files inside "
            "the data (devices, FIFOs, folders, links out of it): %s",
            source,
            sum(special.values()),
            ", ".join(f"{k} {v}" for k, v in sorted(special.items())),
        )
    out = {}
    for split in splits:
        if split not in present:
            held = ", ".join(sorted(present)) or "no aclImdb reviews"
            expected = "train/unsup" if split == "unsup" else f"{split}/pos and {split}/neg"
            raise ValueError(
                f"{source}: no {split!r} reviews (expected {expected} with <id>_<rating>.txt "
                f"files, optionally under aclImdb/); this source holds: {held}."
            )
        ordered = sorted(rows[split], key=lambda r: (r[0], r[1]))
        replaced_docs, replaced_bytes, empty, skipped = stats[split]
        if split != "unsup":
            _check_both_classes(source, split, ordered, special)
        if replaced_docs:
            logger.warning(
                "%s %s: %d reviews had %d undecodable bytes, replaced by U+FFFD",
                source,
                split,
                replaced_docs,
                replaced_bytes,
            )
        if empty:
            logger.warning("%s %s: skipped %d empty reviews", source, split, empty)
        out[split] = TextDataset(
            split=split,
            texts=[r[3] for r in ordered],
            labels=np.array([_LABEL[r[0]] for r in ordered], dtype=np.int64),
            ratings=np.array([r[2] if r[0] != "unsup" else 0 for r in ordered], dtype=np.int64),
            ids=[f"{r[0]}/{r[1]}_{r[2]}" for r in ordered],
            source=source,
            replaced_documents=replaced_docs,
            replaced_bytes=replaced_bytes,
            skipped_empty=empty,
            skipped_special=skipped,
        )
    return out


def _check_both_classes(source: Path, split: str, rows: list, special: dict[str, int]) -> None:
    """A labelled split with reviews of one class only is an error, not a data set."""
    counts = {name: 0 for name in LABEL_NAMES}
    for row in rows:
        counts[row[0]] += 1
    for name in LABEL_NAMES:
        if counts[name] == 0:
            skipped = special.get(f"{split}/{name}", 0)
            note = f" ({skipped} entries there are not regular files and were skipped)"
            raise ValueError(
                f"{source}: no readable {split}/{name} reviews{note if skipped else ''}; "
                f"a sentiment data set needs both classes ({split}/pos holds {counts['pos']}, "
                f"{split}/neg {counts['neg']})."
            )


def load_imdb(
    path: str | os.PathLike | None = None,
    split: str = "train",
    *,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
    encoding_errors: str = "replace",
) -> TextDataset:
    """Raw reviews of one split (``train``, ``test`` or ``unsup``) from ``path``.

    ``path=None`` looks in ``$SEQLAB_IMDB``, the cache and the shared data folder
    (:func:`find_imdb`); with ``download=True`` a missing copy is fetched into the cache.
    Undecodable bytes are replaced and counted (``encoding_errors="replace"``) or are an
    error (``"strict"``); empty reviews are skipped and counted.
    """
    (split,) = _check_splits((split,))
    source = _resolve(path, download, cache_dir)
    return _read_raw(source, (split,), encoding_errors)[split]


def resolve_imdb(
    path: str | os.PathLike | None = None,
    *,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """The IMDB source :func:`load_imdb` would read (:func:`find_imdb`, else a download).

    A ValueError saying where seqlab looked when there is none and ``download`` is false.
    """
    return _resolve(path, download, cache_dir)


def source_identity(source: str | os.PathLike) -> dict:
    """What makes data cached from ``source`` stale, as a JSON-ready dict.

    A file: its resolved path, size and modification time (ns). A folder: its resolved
    path and, per review folder, the modification time and the number of entries.
    """
    return _source_identity(Path(source))


def _source_identity(source: Path) -> dict:
    """What makes a cached tokenisation stale: path, size and modification times."""
    resolved = source.resolve()
    if resolved.is_file():
        stat = resolved.stat()
        return {"path": str(resolved), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    folders = {}
    for base in (resolved, resolved / "aclImdb"):
        for top in ("train", "test"):
            for folder in ("pos", "neg", "unsup"):
                directory = base / top / folder
                if directory.is_dir():
                    stat = directory.stat()
                    folders[str(directory)] = [stat.st_mtime_ns, len(os.listdir(directory))]
    return {"path": str(resolved), "folders": folders}


def _cache_file(cache_dir: Path, split: str, key_data: dict) -> Path:
    key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir / "tokens" / f"imdb-{split}-{key}.tsv"


def _write_cache(path: Path, data: TokenizedDataset, key_data: dict) -> None:
    header = {
        "format": _CACHE_FORMAT,
        "key": key_data,
        "count": len(data),
        "replaced_documents": data.replaced_documents,
        "replaced_bytes": data.replaced_bytes,
        "skipped_empty": data.skipped_empty,
        "skipped_special": data.skipped_special,
    }
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(header) + "\n")
        for tokens, label, rating, ident in zip(
            data.tokens, data.labels, data.ratings, data.ids, strict=True
        ):
            handle.write(f"{label}\t{rating}\t{ident}\t{' '.join(tokens)}\n")


def _read_cache(path: Path, split: str, source: Path) -> TokenizedDataset | None:
    try:
        with open(path, encoding="utf-8", newline="\n") as handle:
            header = json.loads(handle.readline())
            labels, ratings, ids, tokens = [], [], [], []
            for line in handle:
                label, rating, ident, text = line.rstrip("\n").split("\t", 3)
                labels.append(int(label))
                ratings.append(int(rating))
                ids.append(ident)
                tokens.append(text.split(" "))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        logger.warning("ignoring unreadable token cache %s (%s)", path, exc)
        return None
    if header.get("format") != _CACHE_FORMAT or header.get("count") != len(tokens):
        logger.warning("ignoring incomplete or old token cache %s", path)
        return None
    return TokenizedDataset(
        split=split,
        tokens=tokens,
        labels=np.array(labels, dtype=np.int64),
        ratings=np.array(ratings, dtype=np.int64),
        ids=ids,
        source=source,
        replaced_documents=header["replaced_documents"],
        replaced_bytes=header["replaced_bytes"],
        skipped_empty=header["skipped_empty"],
        skipped_special=header.get("skipped_special", 0),
        from_cache=True,
    )


def load_imdb_tokenized(
    path: str | os.PathLike | None = None,
    splits: str | Sequence[str] = ("train",),
    tokenizer: Tokenizer | None = None,
    *,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    encoding_errors: str = "replace",
    progress: bool = False,
) -> dict[str, TokenizedDataset]:
    """Tokenised reviews of ``splits`` as ``{split: TokenizedDataset}``, read in one pass.

    The result of each split is cached under ``cache_dir/tokens/`` keyed by a SHA-256 of
    the tokenizer settings, the split, the decoding mode and the source's identity (its
    resolved path, size and modification time), so a second run with the same settings
    skips reading and tokenising (and says so, :func:`seqlab._progress.notice`). A
    review with no tokens counts as empty and is skipped. ``progress`` shows tqdm bars on
    stderr for reading and tokenising when they take more than a moment.
    """
    splits = _check_splits(splits)
    tokenizer = tokenizer if tokenizer is not None else Tokenizer()
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer must be a seqlab.text.Tokenizer, got {type(tokenizer)!r}.")
    source = _resolve(path, download, cache_dir)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    identity = _source_identity(source)
    out: dict[str, TokenizedDataset] = {}
    keys = {}
    for split in splits:
        keys[split] = {
            "format": _CACHE_FORMAT,
            "dataset": "imdb",
            "split": split,
            "tokenizer": tokenizer.to_dict(),
            "encoding_errors": encoding_errors,
            "source": identity,
        }
        cache_path = _cache_file(cache, split, keys[split])
        if use_cache and cache_path.is_file():
            cached = _read_cache(cache_path, split, source)
            if cached is not None:
                notice(
                    logger,
                    progress,
                    "tokenised IMDB %s (%d reviews) read from the cache %s",
                    split,
                    len(cached),
                    cache_path,
                )
                out[split] = cached
    missing = tuple(s for s in splits if s not in out)
    if missing:
        raw = _read_raw(source, missing, encoding_errors, progress)
        for split in missing:
            part = raw.pop(split)
            tokens, keep = [], []
            texts = track(part.texts, progress, f"tokenising {split}", unit=" reviews")
            for i, toks in enumerate(tokenizer.tokenize_many(texts)):
                if toks:
                    tokens.append(toks)
                    keep.append(i)
            empty = len(part.texts) - len(keep)
            if empty:
                logger.warning("%s %s: skipped %d reviews with no tokens", source, split, empty)
            keep_idx = np.asarray(keep, dtype=np.int64)
            data = TokenizedDataset(
                split=split,
                tokens=tokens,
                labels=part.labels[keep_idx],
                ratings=part.ratings[keep_idx],
                ids=[part.ids[i] for i in keep],
                source=source,
                replaced_documents=part.replaced_documents,
                replaced_bytes=part.replaced_bytes,
                skipped_empty=part.skipped_empty + empty,
                skipped_special=part.skipped_special,
            )
            if use_cache:
                try:
                    _write_cache(_cache_file(cache, split, keys[split]), data, keys[split])
                except OSError as exc:
                    logger.warning("could not write the token cache in %s (%s)", cache, exc)
            out[split] = data
    return {split: out[split] for split in splits}

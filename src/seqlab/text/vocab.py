"""A vocabulary: tokens to ids and back, reproducible, saved as JSON.

Order is fixed by the data alone: the specials first (``<pad>`` = 0, ``<unk>`` = 1), then
tokens by descending frequency, ties broken alphabetically, so the same corpus always
gives the same ids whatever order it was read in.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqlab.io import read_json, write_json
from seqlab.models.registry import MAX_VOCAB_SIZE

__all__ = [
    "PAD",
    "UNK",
    "VOCAB_FORMAT",
    "Vocab",
    "load_vectors",
]

PAD = "<pad>"
UNK = "<unk>"
VOCAB_FORMAT = 1


class Vocab:
    """Token <-> id mapping. Build with :meth:`build`; ``<pad>`` is 0 and ``<unk>`` is 1.

    ``max_size`` counts ordinary tokens only (as torchtext did: ``max_size=10000`` gives
    10,002 entries with the two specials); ``min_freq`` drops rarer tokens.
    """

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None) -> None:
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"a Vocab must start with {PAD!r}, {UNK!r}; got {tokens[:2]}.")
        index = {}
        for i, token in enumerate(tokens):
            if not isinstance(token, str):
                raise TypeError(f"vocabulary entry {i} must be a str, got {token!r}.")
            if token in index:
                raise ValueError(f"vocabulary entry {i} repeats the token {token!r}.")
            index[token] = i
        self.itos: list[str] = tokens
        self.stoi: dict[str, int] = index
        self.counts: list[int] | None = list(counts) if counts is not None else None

    pad_index = 0
    unk_index = 1

    @classmethod
    def build(
        cls,
        token_streams: Iterable[Iterable[str]],
        max_size: int | None = None,
        min_freq: int = 1,
    ) -> Vocab:
        """Count tokens over ``token_streams`` (one iterable of tokens per document)."""
        if max_size is not None and (not isinstance(max_size, int) or max_size < 1):
            raise ValueError(f"max_size must be a positive int or None, got {max_size!r}.")
        if not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an int >= 1, got {min_freq!r}.")
        counter: Counter[str] = Counter()
        for tokens in token_streams:
            counter.update(tokens)
        counter.pop(PAD, None)
        counter.pop(UNK, None)
        ranked = sorted(
            ((tok, n) for tok, n in counter.items() if n >= min_freq),
            key=lambda item: (-item[1], item[0]),
        )
        if max_size is not None:
            ranked = ranked[:max_size]
        return cls([PAD, UNK] + [t for t, _ in ranked], [0, 0] + [n for _, n in ranked])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, self.unk_index)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocab({len(self)} entries)"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens`` (unknown tokens map to ``<unk>`` = 1) as an int64 array."""
        get, unk = self.stoi.get, self.unk_index
        return np.fromiter((get(t, unk) for t in tokens), dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": VOCAB_FORMAT, "tokens": self.itos}
        if self.counts is not None:
            data["counts"] = self.counts
        return data

    @classmethod
    def from_dict(cls, data: Any, source: str = "vocabulary") -> Vocab:
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
            raise ValueError(f"{source}: not a seqlab vocabulary (no 'tokens' list).")
        version = data.get("format", 1)
        if not isinstance(version, int) or version > VOCAB_FORMAT:
            raise ValueError(
                f"{source}: vocabulary format {version!r} is newer than this seqlab reads "
                f"({VOCAB_FORMAT}); upgrade seqlab."
            )
        tokens, counts = data["tokens"], data.get("counts")
        if len(tokens) > MAX_VOCAB_SIZE:
            raise ValueError(
                f"{source}: {len(tokens):,} tokens, more than seqlab builds (at most "
                f"{MAX_VOCAB_SIZE:,})."
            )
        if counts is not None and (
            not isinstance(counts, list)
            or len(counts) != len(tokens)
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
        ):
            raise ValueError(
                f"{source}: 'counts' must be a list of {len(tokens)} non-negative integers."
            )
        try:
            return cls(tokens, counts)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{source}: {exc}") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write the vocabulary as JSON (atomically)."""
        write_json(path, self.to_dict())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such vocabulary file.")
        return cls.from_dict(read_json(path), str(path))


def load_vectors(
    path: str | os.PathLike,
    vocab: Vocab,
    *,
    init_std: float = 0.1,
    seed: int = 0,
) -> tuple[np.ndarray, int]:
    """Read GloVe or word2vec *text* vectors for the tokens of ``vocab``.

    Each line is ``token v1 v2 ... vd``; a word2vec header line (``count dim``) is
    skipped. Returns ``(matrix, found)``: a float32 array of shape ``(len(vocab), d)``
    whose rows for tokens absent from the file are drawn from N(0, init_std^2) (seeded),
    the ``<pad>`` row is zero, and ``found`` counts vocabulary tokens the file covered.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such vectors file.")
    matrix: np.ndarray | None = None
    found = 0
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if line_no == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue
            if len(parts) < 2:
                continue
            if matrix is None:
                dim = len(parts) - 1
                rng = np.random.default_rng(seed)
                matrix = rng.normal(0.0, init_std, size=(len(vocab), dim)).astype(np.float32)
            elif len(parts) - 1 != matrix.shape[1]:
                raise ValueError(
                    f"{path}, line {line_no}: {len(parts) - 1} numbers, expected "
                    f"{matrix.shape[1]} like the first vector line."
                )
            index = vocab.stoi.get(parts[0])
            if index is None:
                continue
            try:
                matrix[index] = np.asarray(parts[1:], dtype=np.float32)
            except ValueError:
                raise ValueError(f"{path}, line {line_no}: a value is not a number.") from None
            found += 1
    if matrix is None:
        raise ValueError(f"{path}: no vectors found (expected lines 'token v1 v2 ...').")
    matrix[vocab.pad_index] = 0.0
    return matrix, found

"""Normalise and tokenise text: lowercase, HTML removed, a fast regex word tokenizer.

A :class:`Tokenizer` is a small frozen dataclass, so it pickles (for DataLoader workers)
and saves as JSON beside a run (:meth:`Tokenizer.to_dict` / :meth:`Tokenizer.from_dict`);
the saved settings rebuild the exact same tokenizer for ``predict``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = [
    "Tokenizer",
]

# IMDB reviews carry their line breaks as "<br />"; any other tag is removed the same way.
_TAG = re.compile(r"<[^>]{0,200}>")
# Words keep inner apostrophes ("don't", "rock'n'roll"); \w covers non-ASCII letters.
_WORD = r"\w+(?:['\u2019]\w+)*"
_WORDS_AND_PUNCT = re.compile(rf"{_WORD}|[^\w\s]")
_WORDS_ONLY = re.compile(_WORD)
_PUNCTUATION_MODES = ("keep", "drop")


@dataclass(frozen=True)
class Tokenizer:
    """Turn a string into a list of tokens.

    Steps, in order: HTML entities unescaped (``&amp;`` -> ``&``), tags such as ``<br />``
    replaced by a space (``strip_html``), lowercased (``lower``), then split by one regular
    expression into words (letters/digits with inner apostrophes) and, when
    ``punctuation="keep"``, each other non-space character as its own token;
    ``punctuation="drop"`` keeps words only (the textbook's cleaning).
    """

    lower: bool = True
    strip_html: bool = True
    punctuation: str = "keep"

    def __post_init__(self) -> None:
        for name in ("lower", "strip_html"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"Tokenizer.{name} must be a bool, got {getattr(self, name)!r}.")
        if self.punctuation not in _PUNCTUATION_MODES:
            raise ValueError(
                f"Tokenizer.punctuation must be one of {_PUNCTUATION_MODES}, "
                f"got {self.punctuation!r}."
            )

    def normalise(self, text: str) -> str:
        """The text after HTML removal and lowercasing, before splitting."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}.")
        if self.strip_html:
            text = _TAG.sub(" ", html.unescape(text))
        if self.lower:
            text = text.lower()
        return text

    def __call__(self, text: str) -> list[str]:
        pattern = _WORDS_AND_PUNCT if self.punctuation == "keep" else _WORDS_ONLY
        return pattern.findall(self.normalise(text))

    def tokenize_many(self, texts: Iterable[str]) -> Iterator[list[str]]:
        """Tokenise each text in turn (a generator, so large corpora stream)."""
        for text in texts:
            yield self(text)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; :meth:`from_dict` rebuilds the same tokenizer."""
        return {"type": "regex", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        if not isinstance(data, dict):
            raise TypeError(f"tokenizer settings must be a dict, got {type(data).__name__}.")
        kind = data.get("type", "regex")
        if kind != "regex":
            raise ValueError(f"unknown tokenizer type {kind!r}; this seqlab knows 'regex'.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"type"})
        if unknown:
            raise ValueError(f"unknown tokenizer settings {unknown}; known: {sorted(known)}.")
        return cls(**{k: v for k, v in data.items() if k in known})

"""Language-model batches: windows of one long token stream (truncated BPTT).

Documents are joined into one stream with a boundary id after each
(:func:`concatenate`); the stream is cut into ``batch_size`` rows of equal length, and a
batch is a window of ``bptt`` steps of every row, with the targets one step ahead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["StreamBatches", "concatenate"]


def concatenate(documents: Sequence[np.ndarray], boundary: int) -> np.ndarray:
    """One int64 stream: each document followed by ``boundary``."""
    if isinstance(boundary, bool) or not isinstance(boundary, (int, np.integer)):
        raise TypeError(f"boundary must be an int id, got {boundary!r}.")
    parts = []
    marker = np.array([boundary], dtype=np.int64)
    for doc in documents:
        parts.append(np.asarray(doc, dtype=np.int64))
        parts.append(marker)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class StreamBatches:
    """Re-iterable ``{"inputs", "targets"}`` windows (``(batch_size, bptt)`` int64 each).

    Parameters
    ----------
    stream : 1-D int token ids.
    batch_size : parallel rows the stream is cut into (row ``b`` is the ``b``-th
        contiguous part of the stream).
    bptt : steps per window; the windows do not overlap and a last partial one is dropped.
    shuffle : visit the windows in the order of a permutation drawn from
        ``numpy.random.default_rng((seed, epoch))`` (see :meth:`set_epoch`); otherwise in
        stream order.
    max_batches : at most this many windows per pass (None: all). With ``shuffle``, each
        epoch takes the next ``max_batches`` windows of one permutation (drawn from
        ``seed``), so successive epochs see different parts of the stream, and a new
        permutation starts when one is used up.

    Notes
    -----
    Each window starts from a zero recurrent state (the state is not carried from window
    to window), so the windows are independent and their order can be shuffled.
    """

    def __init__(
        self,
        stream: np.ndarray,
        batch_size: int,
        bptt: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        max_batches: int | None = None,
    ) -> None:
        stream = np.asarray(stream)
        if stream.ndim != 1 or not np.issubdtype(stream.dtype, np.integer):
            raise TypeError(f"stream must be a 1-D int array, got {stream.dtype} {stream.shape}.")
        for name, value in (("batch_size", batch_size), ("bptt", bptt)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if max_batches is not None and (
            isinstance(max_batches, bool) or not isinstance(max_batches, int) or max_batches < 1
        ):
            raise ValueError(
                f"max_batches must be a positive integer or None, got {max_batches!r}."
            )
        per_row = (len(stream) - 1) // batch_size
        if per_row < bptt:
            raise ValueError(
                f"a stream of {len(stream)} tokens is too short for {batch_size} rows of "
                f"{bptt} steps; use a smaller batch_size or bptt."
            )
        self.inputs = stream[: per_row * batch_size].astype(np.int64).reshape(batch_size, per_row)
        self.targets = (
            stream[1 : per_row * batch_size + 1].astype(np.int64).reshape(batch_size, per_row)
        )
        self.batch_size = batch_size
        self.bptt = bptt
        self.shuffle = shuffle
        self.seed = seed
        self.windows = per_row // bptt
        self.max_batches = max_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose windows the next pass yields."""
        self.epoch = int(epoch)

    def _order(self) -> np.ndarray:
        count = len(self)
        if not self.shuffle:
            return np.arange(count)
        start = self.epoch * count
        cycle, offset = divmod(start, self.windows)
        order = []
        while len(order) < count:
            perm = np.random.default_rng((self.seed, cycle)).permutation(self.windows)
            order.extend(perm[offset:].tolist())
            cycle, offset = cycle + 1, 0
        return np.asarray(order[:count])

    def __len__(self) -> int:
        return min(self.windows, self.max_batches) if self.max_batches else self.windows

    @property
    def num_tokens(self) -> int:
        """Target tokens in one pass."""
        return len(self) * self.batch_size * self.bptt

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for window in self._order():
            cut = slice(int(window) * self.bptt, (int(window) + 1) * self.bptt)
            yield {
                "inputs": torch.from_numpy(np.ascontiguousarray(self.inputs[:, cut])),
                "targets": torch.from_numpy(np.ascontiguousarray(self.targets[:, cut])),
            }

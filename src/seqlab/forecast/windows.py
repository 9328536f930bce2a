"""Sliding windows over a series and splits by time that cannot leak the future.

A window at position ``i`` takes inputs ``values[i : i + lookback]`` (every column) and
targets ``target[i + lookback : i + lookback + horizon]``. Windows start every
``stride`` steps, and the last one ends exactly at the end of the data, so the newest
observations are always used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqlab._validation import check_int

__all__ = ["TimeSplit", "Windows", "make_windows", "time_split"]


@dataclass(frozen=True)
class Windows:
    """``inputs``: (N, lookback, F); ``targets``: (N, horizon); ``starts``: (N,) row of
    each window's first input; ``target_starts``: row of each window's first target."""

    inputs: np.ndarray
    targets: np.ndarray
    starts: np.ndarray

    @property
    def target_starts(self) -> np.ndarray:
        return self.starts + self.inputs.shape[1]

    def __len__(self) -> int:
        return self.inputs.shape[0]


def window_starts(n: int, lookback: int, horizon: int, stride: int = 1) -> np.ndarray:
    """Start rows of the windows over ``n`` rows, aligned so the last one ends at row n-1."""
    last = n - lookback - horizon
    if last < 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(last, -1, -stride, dtype=np.int64)[::-1]


def make_windows(
    values,
    lookback: int,
    horizon: int,
    *,
    stride: int = 1,
    target_column: int = 0,
    columns: list[str] | None = None,
    name: str = "series",
) -> Windows:
    """Cut ``values`` (1-D, or 2-D with rows = time) into (input, target) windows.

    Raises ValueError naming both lengths when the series is shorter than
    ``lookback + horizon``, and naming the column and row when a NaN falls inside a
    window (NaN outside every window, e.g. before the first start, is harmless).
    """
    lookback = check_int(lookback, "lookback", minimum=1)
    horizon = check_int(horizon, "horizon", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (rows = time), got shape {array.shape}.")
    n, width = array.shape
    if not 0 <= target_column < width:
        raise ValueError(f"target_column {target_column} is out of range for {width} columns.")
    if n < lookback + horizon:
        raise ValueError(
            f"{name} is too short: windows need lookback + horizon = {lookback} + {horizon} "
            f"= {lookback + horizon} observations, got {n}. Use a shorter lookback or horizon, "
            "or a longer series."
        )
    starts = window_starts(n, lookback, horizon, stride)
    first, end = int(starts[0]), int(starts[-1]) + lookback + horizon
    covered = array[first:end]
    if np.isnan(covered).any():
        row, col = np.argwhere(np.isnan(covered))[0]
        label = columns[col] if columns is not None else f"column {col}"
        raise ValueError(
            f"{name}: NaN in {label!r} at row {first + int(row)} falls inside a window "
            f"(lookback {lookback}, horizon {horizon}). Fill or drop missing values first."
        )
    # (N, lookback + horizon, F) views, then split into inputs and the target's future.
    span = np.lib.stride_tricks.sliding_window_view(array, lookback + horizon, axis=0)
    span = np.moveaxis(span[starts], -1, 1)
    inputs = np.ascontiguousarray(span[:, :lookback, :])
    targets = np.ascontiguousarray(span[:, lookback:, target_column])
    return Windows(inputs=inputs, targets=targets, starts=starts)


@dataclass(frozen=True)
class TimeSplit:
    """Row boundaries: train ``[0, valid_start)``, validation ``[valid_start, test_start)``,
    test ``[test_start, n)``."""

    n: int
    valid_start: int
    test_start: int

    @property
    def train(self) -> slice:
        return slice(0, self.valid_start)

    @property
    def valid(self) -> slice:
        return slice(self.valid_start, self.test_start)

    @property
    def test(self) -> slice:
        return slice(self.test_start, self.n)


def _boundary(point, n: int, index, what: str) -> int:
    if point is None:
        return n
    if isinstance(point, float) and not isinstance(point, bool):
        if not 0.0 <= point < 1.0:
            raise ValueError(f"{what} as a fraction must be in [0, 1), got {point}.")
        return n - round(point * n)
    if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
        if not 0 <= point <= n:
            raise ValueError(f"{what} as a row count must be in [0, {n}], got {point}.")
        return n - int(point)
    if index is None or not isinstance(index, pd.DatetimeIndex):
        raise TypeError(
            f"{what}={point!r}: a date needs a series with a DatetimeIndex; "
            "pass a fraction (0.2) or a row count instead."
        )
    # Everything on or after the date belongs to the later part.
    return int(index.searchsorted(pd.Timestamp(point), side="left"))


def time_split(series, *, test=0.2, valid=None) -> TimeSplit:
    """Split by time into train / validation / test.

    ``test`` and ``valid`` each give the size of the later part: a fraction of all rows
    (float), a number of rows (int), or a start date (str / Timestamp; needs a
    DatetimeIndex). ``valid`` sits just before ``test``. No shuffling: every training
    row precedes every validation row, which precedes every test row.
    """
    n = len(series)
    index = getattr(series, "index", None)
    test_start = _boundary(test, n, index, "test")
    if valid is None:
        valid_start = test_start
    elif isinstance(valid, (str, pd.Timestamp)):
        valid_start = _boundary(valid, n, index, "valid")
    else:
        valid_start = test_start - (n - _boundary(valid, n, index, "valid"))
    if not 0 < valid_start <= test_start <= n:
        raise ValueError(
            f"the split leaves no training rows or is out of order: train [0, {valid_start}), "
            f"valid [{valid_start}, {test_start}), test [{test_start}, {n})."
        )
    return TimeSplit(n=n, valid_start=valid_start, test_start=test_start)

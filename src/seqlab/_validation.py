"""Input checks shared by every sub-package.

Errors follow one rule: TypeError for a wrong type, ValueError for a bad value, and the
message says what was expected, what was received, and what to do next.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def as_float_series(y: Any, name: str = "y", *, allow_nan: bool = False) -> np.ndarray:
    """Return ``y`` as a 1-D float64 array, or raise a clear error.

    Accepts lists, tuples, numpy arrays, pandas Series and single-column DataFrames.
    Rejects: non-numeric values, 2-D data with more than one column, empty input, inf,
    and NaN unless ``allow_nan`` (then an all-NaN input is still rejected).
    """
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {type(y).__name__}.")
    if hasattr(y, "to_numpy"):
        values = y.to_numpy()
    else:
        values = np.asarray(y)
    if values.ndim == 2 and 1 in values.shape and values.size > 0:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got an array of shape {values.shape}. "
            "Pass one series at a time (e.g. df['col'] or array[:, 0])."
        )
    if values.dtype == object or not np.issubdtype(values.dtype, np.number):
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            bad = _first_non_numeric(values)
            raise ValueError(
                f"{name} must be numeric; position {bad[0]} holds {bad[1]!r}."
            ) from None
    if np.iscomplexobj(values):
        raise TypeError(f"{name} must be real-valued, got complex numbers.")
    values = values.astype(np.float64, copy=True)
    if values.size == 0:
        raise ValueError(f"{name} is empty; it needs at least one observation.")
    if np.isinf(values).any():
        pos = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(f"{name} contains inf at position {pos}; remove or replace it.")
    nan = np.isnan(values)
    if nan.all():
        raise ValueError(f"{name} is all NaN; there is nothing to fit.")
    if nan.any() and not allow_nan:
        pos = int(np.flatnonzero(nan)[0])
        raise ValueError(
            f"{name} contains NaN (first at position {pos}); this method cannot handle "
            "missing values. Fill or drop them first."
        )
    return values


def _first_non_numeric(values: np.ndarray) -> tuple[int, Any]:
    for i, v in enumerate(values):
        try:
            float(v)
        except (TypeError, ValueError):
            return i, v
    return -1, None


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, rejecting bools, floats and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return value

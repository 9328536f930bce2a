"""Regressor (``exog``) checks shared by ARIMA, auto_arima, the many-series driver and
the forecasters: one parser for regressors at fit time, one check for their future rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def first_nonfinite(values: np.ndarray) -> tuple[int, int] | None:
    """``(row, column)`` of the first NaN/inf in a 2-D array, or None when all are finite."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    row, col = np.argwhere(bad)[0]
    return int(row), int(col)


def as_exog(
    exog: Any, n: int, what: str = "exog", *, per: str = "observation", finite: bool = True
) -> tuple[np.ndarray, list[str]]:
    """Regressors as an ``(n, k)`` float64 array plus their column names.

    Accepts a DataFrame (names from its columns), a Series (its name, else ``x1``) or
    array-like data, 1-D meaning one regressor (names ``x1, x2, ...``). The index of
    pandas input is not used: rows are matched by position.

    Parameters
    ----------
    exog
        The regressors.
    n
        Number of rows required.
    what
        Name used in error messages.
    per
        What one row stands for, for the row-count message ("observation",
        "forecast step").
    finite
        Refuse NaN and inf.

    Raises
    ------
    TypeError
        ``exog`` is a string.
    ValueError
        Not 2-D, not numeric, the wrong number of rows, no columns, or (with ``finite``)
        a NaN/inf value, named by column and row.
    """
    names = None
    if isinstance(exog, pd.DataFrame):
        names = [str(c) for c in exog.columns]
        values = exog.to_numpy()
    elif isinstance(exog, pd.Series):
        names = [str(exog.name) if exog.name is not None else "x1"]
        values = exog.to_numpy()[:, None]
    else:
        if isinstance(exog, (str, bytes)):
            raise TypeError(f"{what} must be a 2-D array of numbers, got {type(exog).__name__}.")
        values = np.asarray(exog)
        if values.ndim == 1:
            values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{what} must be 2-D (rows x regressors), got shape {values.shape}.")
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric.") from None
    if values.shape[0] != n:
        raise ValueError(f"{what} has {values.shape[0]} rows but {n} are needed (one per {per}).")
    if values.shape[1] == 0:
        raise ValueError(f"{what} has no columns; pass exog=None for no regressors.")
    if names is None:
        names = [f"x{j + 1}" for j in range(values.shape[1])]
    bad = first_nonfinite(values) if finite else None
    if bad is not None:
        row, col = bad
        raise ValueError(
            f"{what} column {names[col]!r} holds {values[row, col]} at row {row}; regressors "
            "must be finite (fill or drop those rows)."
        )
    return values, names


def check_future_exog(
    exog: Any, h: int, k: int, names: Sequence[str] = (), what: str = "exog"
) -> np.ndarray:
    """The ``(h, k)`` future rows of a model's ``k`` regressors, checked.

    Raises
    ------
    ValueError
        ``exog`` is None, or does not hold ``h`` finite rows of ``k`` columns (see
        :func:`as_exog`); the message names the regressors the model was fitted with.
    """
    fitted = f"{k} regressor(s)" + (f" {list(names)}" if names else "")
    if exog is None:
        raise ValueError(
            f"this model was fitted with {fitted}; pass {what}= with their future values "
            f"({h} rows, {k} columns)."
        )
    values, _ = as_exog(exog, h, what, per="forecast step")
    if values.shape[1] != k:
        raise ValueError(
            f"{what} has {values.shape[1]} columns but the model was fitted with {fitted}."
        )
    return values

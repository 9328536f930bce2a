"""Reading a forecasting frame from a CSV: a date index, a target column, feature columns.

Every check names the file, the column and (for bad cells) the line, so the user can
fix the file without reading a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from seqlab.io import order_by_dates, parse_date_column, read_csv_frame

__all__ = ["load_frame", "split_frame"]


def load_frame(
    path: str | os.PathLike,
    target: str,
    features: list[str] | str | None = None,
    *,
    date: str | None = None,
) -> pd.DataFrame:
    """Read ``path`` and return a float frame whose first column is ``target``.

    ``features``: extra input columns (names), ``"all"`` for every other numeric column,
    or None for the target alone. ``date``: the date column; by default a first column
    that parses as dates becomes the index. Errors: a missing target or feature column
    (listing the columns there are), a non-numeric cell (naming column and line), a
    date on several lines (naming them). Rows out of date order are sorted, with a
    ``logging`` warning.
    """
    path = Path(path)
    frame = read_csv_frame(path)
    if frame.empty:
        raise ValueError(f"{path}: no data rows.")
    if not isinstance(target, str):
        raise TypeError(f"target must be a column name (str), got {target!r}.")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if target not in columns:
        raise ValueError(
            f"{path}: no target column named {target!r}; the columns are {columns}. "
            "Pass --target with one of them."
        )

    date_col = date
    if date_col is not None and date_col not in columns:
        raise ValueError(f"{path}: no date column named {date_col!r}; the columns are {columns}.")
    if (
        date_col is None
        and columns[0] != target
        and not pd.api.types.is_numeric_dtype(frame[columns[0]])
    ):
        parsed = pd.to_datetime(frame[columns[0]], errors="coerce", format="mixed")
        if parsed.notna().all():
            date_col = columns[0]

    if features is None:
        feature_cols: list[str] = []
    elif features == "all":
        feature_cols = [
            c
            for c in columns
            if c not in (target, date_col) and pd.api.types.is_numeric_dtype(frame[c])
        ]
    else:
        if isinstance(features, str):
            features = [f.strip() for f in features.split(",") if f.strip()]
        missing = [f for f in features if f not in columns]
        if missing:
            raise ValueError(
                f"{path}: no feature column named {missing[0]!r}; the columns are {columns}."
            )
        feature_cols = [f for f in features if f != target]

    out = pd.DataFrame(index=range(len(frame)))
    for col in [target, *feature_cols]:
        raw = frame[col]
        numbers = pd.to_numeric(raw, errors="coerce")
        bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            kind = "target" if col == target else "feature"
            raise ValueError(
                f"{path}: {kind} column {col!r} must be numeric; line {row + 2} holds "
                f"{raw.iloc[row]!r}."
            )
        out[col] = numbers.to_numpy(dtype=np.float64)
    if out[target].isna().all():
        raise ValueError(f"{path}: target column {target!r} has no values.")
    if date_col is not None:
        dates = parse_date_column(frame, date_col, path)
        out, index = order_by_dates(out, dates, path, date_col)
        out.index = index
    return out


def split_frame(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame | None]:
    """(target Series, feature frame or None) from a :func:`load_frame` result."""
    target = frame.iloc[:, 0]
    features = frame.iloc[:, 1:] if frame.shape[1] > 1 else None
    return target, features

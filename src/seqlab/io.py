"""Files in and out: crash-safe writes and reading a series from a CSV.

Anything seqlab writes goes through :func:`atomic_write` (or its helpers): the data lands
in a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash or Ctrl-C leaves either the old file or the new one, never half.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2, sort_keys=False)
        handle.write("\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read JSON, naming the file and the position in any error."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}).") from None


def read_csv_frame(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV into a DataFrame; a missing, empty or unparsable file is a ValueError
    naming the file (never a pandas traceback)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    try:
        return pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as CSV ({exc}).") from None


def parse_date_column(frame: pd.DataFrame, column, path) -> pd.Series:
    """Parse ``frame[column]`` as dates; the first cell that is not one is a ValueError
    naming the file, the column and its line (header = line 1)."""
    index = pd.to_datetime(frame[column], errors="coerce", format="mixed")
    if index.isna().any():
        row = int(np.flatnonzero(index.isna().to_numpy())[0])
        raise ValueError(
            f"{path}: column {column!r}, line {row + 2}: {frame[column].iloc[row]!r} is not a date."
        )
    return index


def read_series_csv(
    path: str | os.PathLike,
    value: str | int | None = None,
    date: str | int | None = None,
) -> pd.Series:
    """Read one numeric series from a CSV (or a one-column text file).

    ``value`` and ``date`` pick columns by name or 0-based position. Defaults: with one
    column, that column is the series; with two or more, a first column that parses as
    dates is the index and the last numeric column is the value. Errors name the file,
    the column and the (1-based, header = line 1) line of the first bad cell.
    """
    path = Path(path)
    frame = read_csv_frame(path)
    if frame.shape[1] == 1 and _looks_numeric(frame.columns[0]):
        # A one-column file without a header: its first line is data.
        frame = pd.read_csv(path, header=None, names=["value"], skipinitialspace=True)
    if frame.empty:
        raise ValueError(f"{path}: no data rows.")

    value_col = _pick_column(frame, value, path, "value")
    if value_col is None:
        value_col = frame.columns[-1]
    date_col = _pick_column(frame, date, path, "date")
    if date_col is None and frame.shape[1] >= 2 and frame.columns[0] != value_col:
        first = frame.columns[0]
        parsed = pd.to_datetime(frame[first], errors="coerce", format="mixed")
        if parsed.notna().all() and not pd.api.types.is_numeric_dtype(frame[first]):
            date_col = first

    raw = frame[value_col]
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{path}: column {value_col!r}, line {row + 2}: {raw.iloc[row]!r} is not a number."
        )
    series = pd.Series(numbers.to_numpy(dtype=float), name=str(value_col))
    if date_col is not None:
        index = parse_date_column(frame, date_col, path)
        # freq="infer" keeps a regular index's frequency (forecasts extend it) and
        # leaves an irregular one without.
        infer = "infer" if len(series) >= 3 and index.is_unique else None
        series.index = pd.DatetimeIndex(index, name=str(date_col), freq=infer)
    return series


def _looks_numeric(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _pick_column(frame: pd.DataFrame, key: str | int | None, path: Path, role: str):
    if key is None:
        return None
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        pos = int(key)
        if not 0 <= pos < frame.shape[1]:
            raise ValueError(
                f"{path}: {role} column position {pos} is out of range; "
                f"the file has {frame.shape[1]} columns: {list(frame.columns)}."
            )
        return frame.columns[pos]
    if key not in frame.columns:
        raise ValueError(f"{path}: no column named {key!r}; the columns are {list(frame.columns)}.")
    return key

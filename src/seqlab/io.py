"""Files in and out: crash-safe writes, run folders, and reading a series from a CSV.

Anything seqlab writes goes through :func:`atomic_write` (or its helpers): the data lands
in a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash or Ctrl-C leaves either the old file or the new one, never half.

Run folders
-----------
Every saved forecaster is a folder holding ``run.json`` (the manifest) and the files it
lists, written by :func:`write_run_folder` and read by
:func:`seqlab._schema.read_run_manifest`. The manifest is a JSON object::

    {"format": "seqlab-run", "format_version": 2,
     "kind": "recurrent_forecaster", "class": "seqlab.forecast.neural.RecurrentForecaster",
     "seqlab_version": "0.1.0",
     "params": {...},          # constructor parameters, as get_params() gives them
     "state": {...},           # fitted state that is not an array (JSON values)
     "files": ["data.safetensors", "model.safetensors"]}

Arrays and weights are safetensors files, everything else JSON: nothing is unpickled
on load. ``run.json`` is removed first and written last, after every listed file is
complete, so a folder whose writing was interrupted has no manifest and does not load.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

__all__ = [
    "RUN_FORMAT",
    "RUN_FORMAT_VERSION",
    "RUN_MANIFEST",
    "atomic_write",
    "order_by_dates",
    "parse_date_column",
    "read_csv_frame",
    "read_json",
    "read_series_csv",
    "write_json",
    "write_run_folder",
]

logger = logging.getLogger(__name__)

#: The manifest every run folder holds; see the module docstring.
RUN_MANIFEST = "run.json"
#: The value of the manifest's ``format`` key.
RUN_FORMAT = "seqlab-run"
#: The run-folder layout this seqlab writes (format 1 had no manifest).
RUN_FORMAT_VERSION = 2


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    The file gets the permissions ``open`` would give a new file (0666 less the umask),
    not ``mkstemp``'s private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
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


def write_run_folder(
    run_dir: str | os.PathLike,
    *,
    kind: str,
    cls: type,
    params: Mapping[str, Any],
    state: Mapping[str, Any],
    files: Mapping[str, bytes | Callable[[Path], None]],
    replaces: Iterable[str] = (),
) -> Path:
    """Write a run folder: each of ``files``, then ``run.json`` naming them.

    Parameters
    ----------
    run_dir
        The folder; made if missing. A run already in it is replaced.
    kind
        What the folder holds (``"arima"``, ``"recurrent_forecaster"``, ...): the loader
        dispatches on it.
    cls
        The saved object's class, recorded by its qualified name (for readers; loading
        never imports a class named in a file).
    params, state
        JSON values: the constructor parameters and the fitted state.
    files
        File name -> its content (bytes) or a function that writes the file atomically
        at the path it is given (such as a safetensors weights writer).
    replaces
        Names of older manifests (format 1: ``forecaster.json``, ``arima.json``) removed
        first, so the folder is never read as an older run with newer files.

    Returns
    -------
    Path
        ``run_dir``.

    Raises
    ------
    ValueError
        ``run_dir`` is a file, or a file name is not a plain name or is ``run.json``.

    Notes
    -----
    On any error (or Ctrl-C) the files written so far and the manifest are removed, and
    the folder too when this call created it and it is left empty.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir}: exists and is not a folder; give a folder for the run.")
    for name in files:
        if not isinstance(name, str) or Path(name).name != name or name == RUN_MANIFEST:
            raise ValueError(
                f"run file name {name!r} must be a plain file name other than run.json."
            )
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in (RUN_MANIFEST, *replaces):
        (run_dir / name).unlink(missing_ok=True)
    manifest = {
        "format": RUN_FORMAT,
        "format_version": RUN_FORMAT_VERSION,
        "kind": kind,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "seqlab_version": _seqlab_version(),
        "params": dict(params),
        "state": dict(state),
        "files": sorted(files),
    }
    try:
        for name, content in files.items():
            if isinstance(content, bytes):
                with atomic_write(run_dir / name, "wb") as handle:
                    handle.write(content)
            else:
                content(run_dir / name)
        write_json(run_dir / RUN_MANIFEST, manifest)
    except BaseException:
        for name in (RUN_MANIFEST, *files):
            with contextlib.suppress(OSError):
                (run_dir / name).unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()
        raise
    return run_dir


def _seqlab_version() -> str:
    import seqlab

    return str(seqlab.__version__)


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


def order_by_dates(
    frame: pd.DataFrame, dates: pd.Series, path: str | os.PathLike, column: Any
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Rows of ``frame`` in date order, and their dates as an index.

    ``dates`` are the parsed dates of ``frame[column]`` (row-aligned with ``frame``). Rows
    out of order are sorted (stable), with a ``logging`` warning saying so; a regular
    index keeps its inferred frequency, so forecasts extend it.

    Raises
    ------
    ValueError
        A date appears on more than one line; the message gives the date and its
        (1-based, header = line 1) line numbers.
    """
    values = pd.DatetimeIndex(dates)
    duplicated = values.duplicated(keep=False)
    if duplicated.any():
        first = values[duplicated][0]
        lines = [str(i + 2) for i in np.flatnonzero(values == first)]
        shown = ", ".join(lines[:-1][:4]) + (", ... and " if len(lines) > 5 else " and ")
        count = int(values.duplicated().sum())
        raise ValueError(
            f"{path}: column {column!r}: {first.date() if first == first.normalize() else first} "
            f"appears on lines {shown}{lines[-1]} "
            f"({count} repeated date{'s' if count > 1 else ''} in all); a series needs one "
            "value per date."
        )
    if not values.is_monotonic_increasing:
        direction = "run backwards" if values.is_monotonic_decreasing else "are not in order"
        logger.warning(
            "%s: the dates in column %r %s; sorted them into increasing order.",
            path,
            column,
            direction,
        )
        order = np.argsort(values.to_numpy(), kind="stable")
        frame = frame.iloc[order]
        values = values[order]
    infer = "infer" if len(values) >= 3 else None
    return frame, pd.DatetimeIndex(values, name=str(column), freq=infer)


def read_series_csv(
    path: str | os.PathLike,
    value: str | int | None = None,
    date: str | int | None = None,
) -> pd.Series:
    """Read one numeric series from a CSV (or a one-column text file).

    ``value`` and ``date`` pick columns by name or 0-based position. Defaults: with one
    column, that column is the series; with two or more, the first non-numeric column
    whose cells all parse as dates is the index and the last numeric column is the value
    (a ``logging`` warning names it when there was more than one to choose from). Rows
    are returned in date order (sorted with a warning when the file's are not).

    Raises
    ------
    ValueError
        Naming the file, the column and the (1-based, header = line 1) line of the first
        bad cell; a date on several lines (with the lines); a file that holds several
        series in long form (``unique_id, ds, y``), pointing to ``seqlab.ts.fit_many``.
    """
    path = Path(path)
    frame = read_csv_frame(path)
    if frame.shape[1] == 1 and _looks_numeric(frame.columns[0]):
        # A one-column file without a header: its first line is data.
        frame = pd.read_csv(path, header=None, names=["value"], skipinitialspace=True)
    if frame.empty:
        raise ValueError(f"{path}: no data rows.")

    date_col = _pick_column(frame, date, path, "date")
    value_col = _pick_column(frame, value, path, "value")
    dates = None
    if date_col is None and frame.shape[1] >= 2:
        for column in frame.columns:
            if column == value_col or pd.api.types.is_numeric_dtype(frame[column]):
                continue
            parsed = pd.to_datetime(frame[column], errors="coerce", format="mixed")
            if parsed.notna().all():
                date_col, dates = column, parsed
                break
    _refuse_long_form(frame, path, date_col, dates)
    if value_col is None:
        numeric = [
            c for c in frame.columns if c != date_col and pd.api.types.is_numeric_dtype(frame[c])
        ]
        others = [c for c in frame.columns if c != date_col]
        if not others:
            raise ValueError(f"{path}: only a date column {date_col!r}; no values to read.")
        # With no numeric column, the last one is read so that its first bad cell is named.
        value_col = numeric[-1] if numeric else others[-1]
        if len(numeric) > 1:
            logger.warning(
                "%s: no value column named; using %r, the last numeric column (the others: "
                "%s). Name another with value= (--value on the command line).",
                path,
                value_col,
                ", ".join(repr(c) for c in numeric[:-1]),
            )

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
        if dates is None:
            dates = parse_date_column(frame, date_col, path)
        order, index = order_by_dates(series.to_frame(), dates, path, date_col)
        series = pd.Series(order.iloc[:, 0].to_numpy(), index=index, name=str(value_col))
    return series


def _refuse_long_form(frame: pd.DataFrame, path: Path, date_col: Any, dates: Any) -> None:
    """Several series stacked in one file (``unique_id, ds, y``) are not one series."""
    ids = None
    if "unique_id" in frame.columns and frame["unique_id"].nunique() > 1:
        ids = "unique_id"
    elif date_col is not None:
        if dates is None:
            dates = pd.to_datetime(frame[date_col], errors="coerce", format="mixed")
        if dates.duplicated().any():
            for column in frame.columns:
                if column == date_col or _mostly_numeric(frame[column]):
                    continue
                if (
                    frame[column].nunique() > 1
                    and not frame.assign(__dates__=dates.to_numpy())
                    .duplicated([column, "__dates__"])
                    .any()
                ):
                    ids = column
                    break
    if ids is not None:
        count = frame[ids].nunique()
        raise ValueError(
            f"{path} holds {count} series in long form (column {ids!r} names them); fit "
            "them with seqlab.ts.fit_many (seqlab ts many), or select one series first."
        )


def _mostly_numeric(column: pd.Series) -> bool:
    """A value column with a few bad cells is still numbers, not series names."""
    if pd.api.types.is_numeric_dtype(column):
        return True
    return bool(pd.to_numeric(column, errors="coerce").notna().mean() >= 0.5)


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

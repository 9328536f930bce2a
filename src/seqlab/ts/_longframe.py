"""The long frame of many series and the per-series jobs run over it, in one place.

Both front doors for many series go through this module: :func:`seqlab.ts.fit_many`
(auto ARIMA on every series) and :class:`seqlab.forecast.Forecasts` (any models). It
holds what they share:

- :func:`check_long_frame` and :func:`prepare`: a long frame ``unique_id, ds, y`` (plus
  regressor columns) cut into validated :class:`Series` (sorted, unique, regular stamps;
  numeric target; finite regressors);
- :class:`Calendar` and :func:`infer_calendar`: how the stamps step (a pandas offset for
  dates, a Period frequency, an integer step) and the ``h`` stamps after a series' end;
- :func:`future_regressors`: the regressor rows of those ``h`` stamps, from a second frame;
- :class:`Job`, :class:`LocalCall` and :func:`run_batches`: fit a fresh copy of each
  model to each series (and each rolling-origin window) in batches on the "serial",
  "process", "dask" or "ray" backend.

A model here is any object with ``fit(y)`` / ``fit(y, X)`` and ``forecast(h, level=...)``
(``X=`` too when it takes regressors) whose result has ``mean``, ``lower[level]`` and
``upper[level]``; this module never imports one.

Two policies for a bad series: *strict* (``Forecasts``) raises ``ValueError`` naming the
series; *lenient* (``fit_many``) keeps the message as the series' ``error`` and goes on
with the others. Problems of the whole frame (missing columns, unparseable stamps, an
unknown frequency) raise under both.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqlab._progress import bar as progress_bar
from seqlab._validation import as_float_series, check_int
from seqlab.ts._exog import check_future_exog, first_nonfinite

logger = logging.getLogger(__name__)

BACKENDS = ("serial", "process", "dask", "ray")


# ------------------------------------------------------------------- the frame
def check_long_frame(
    df: Any, id_col: str, time_col: str, target_col: str, name: str = "df"
) -> None:
    """Check that ``df`` is a long frame: a DataFrame with the id, time and target columns.

    ``name`` is the argument's name in the messages.

    Raises
    ------
    TypeError
        When ``df`` is not a pandas DataFrame.
    ValueError
        When a column is missing; the message names the missing ones, the keyword
        arguments that rename them, and the columns ``df`` has.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {missing}; it needs {id_col!r}, {time_col!r}, "
            f"{target_col!r} (pass id_col=/time_col=/target_col= for other names). "
            f"Its columns are {list(df.columns)}."
        )


def check_workers(backend: str, n_jobs: int | None, batch_size: int | None) -> int:
    """Check the backend and batch size; return the number of workers.

    ``n_jobs`` defaults to the number of cores and may be at most four per core.

    Raises
    ------
    TypeError
        ``n_jobs`` or ``batch_size`` is not an integer.
    ValueError
        An unknown backend, or a count below 1 or above the limit.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    cores = os.cpu_count() or 1
    n_jobs = check_int(cores if n_jobs is None else n_jobs, "n_jobs", minimum=1)
    if n_jobs > 4 * cores:
        raise ValueError(
            f"n_jobs={n_jobs} is more workers than this machine can run usefully; the limit "
            f"is {4 * cores} (four per core)."
        )
    if batch_size is not None:
        check_int(batch_size, "batch_size", minimum=1)
    return n_jobs


def _is_text(column: pd.Series) -> bool:
    """Strings (object or pandas' string dtype): date stamps read from a CSV."""
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def parse_stamps(frame: pd.DataFrame, time_col: str, name: str = "df") -> pd.DataFrame:
    """``frame`` with text stamps parsed as dates (a copy when they are; else ``frame``).

    Raises
    ------
    ValueError
        A stamp that is present but not a date; the message gives its row.
    """
    column = frame[time_col]
    if not _is_text(column):
        return frame
    parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    bad = parsed.isna() & column.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{name} {time_col!r} holds {column.iloc[i]!r} (row {i}): not a date.")
    return frame.assign(**{time_col: parsed})


# ------------------------------------------------------------------ the calendar
@dataclass(frozen=True)
class Calendar:
    """How stamps step forward: ``kind`` "date" (``step`` a pandas offset), "period"
    (``step`` the Periods' frequency) or "int" (``step`` a positive number)."""

    kind: str
    step: Any

    def after(self, last: Any, h: int) -> pd.Index:
        """The ``h`` stamps after ``last``."""
        if self.kind == "date":
            return pd.date_range(last, periods=h + 1, freq=self.step)[1:]
        if self.kind == "period":
            return pd.period_range(last, periods=h + 1, freq=self.step)[1:]
        return pd.Index(last + self.step * np.arange(1, h + 1))

    def following(self, stamps: pd.Index) -> pd.Index:
        """The stamp one step after each of ``stamps`` (vectorised where pandas can)."""
        if self.kind == "period":
            return stamps + 1
        with warnings.catch_warnings():
            # offsets without a vectorised form (custom business days) go element-wise
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            return stamps + self.step

    def off_step(self, stamp: Any) -> bool:
        """True when a date ``stamp`` is not on the offset (e.g. mid-month for "MS")."""
        return self.kind == "date" and not self.step.is_on_offset(stamp)

    @property
    def name(self) -> str:
        """The step as people write it ("MS", "B", 5)."""
        return getattr(self.step, "freqstr", None) or str(self.step)


def _as_offset(freq: Any) -> Any:
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency (e.g. 'MS', 'D', 'B', 'W-SUN', 'QS'): {exc}"
        ) from None


def _commonest(counts: dict[Any, int], what: str, strict: bool) -> Any:
    """The step most series have; with ``strict``, an error unless they all agree."""
    if strict and len(counts) > 1:
        raise ValueError(what)
    return max(counts, key=counts.get)


def infer_calendar(
    frame: pd.DataFrame, id_col: str, time_col: str, freq: Any = None, *, strict: bool = True
) -> Calendar:
    """The :class:`Calendar` of the stamps of ``frame`` (text stamps already parsed).

    Dates take ``freq`` when given, else the frequency pandas infers from each series of
    at least three distinct stamps; integers (or whole-number floats) step by the
    smallest positive difference within a series. When series disagree, ``strict``
    raises, else the step of the most series wins (the others then fail their own
    regularity check).

    Raises
    ------
    TypeError
        The stamps are neither dates, Periods nor numbers.
    ValueError
        ``freq`` is not a frequency, or does not fit the stamps; no series has an
        inferable frequency; the series disagree (``strict`` only).
    """
    ds = frame[time_col]
    if isinstance(ds.dtype, pd.PeriodDtype):
        if freq is not None and _as_offset(freq) != ds.dtype.freq:
            raise ValueError(
                f"freq={freq!r} disagrees with the Periods of {time_col!r} "
                f"(frequency {ds.dtype.freq.freqstr}); leave freq out for Periods."
            )
        return Calendar("period", ds.dtype.freq)
    if pd.api.types.is_datetime64_any_dtype(ds):
        if freq is not None:
            return Calendar("date", _as_offset(freq))
        inferred: dict[str, Any] = {}
        counts: dict[str, int] = {}
        for _, group in frame.groupby(id_col, sort=False):
            stamps = pd.DatetimeIndex(group[time_col].dropna().drop_duplicates())
            if len(stamps) < 3:
                continue
            # freq="infer" gives the offset itself (infer_freq's string is deprecated).
            guess = pd.DatetimeIndex(stamps.sort_values(), freq="infer").freq
            if guess is not None:
                inferred.setdefault(guess.freqstr, guess)
                counts[guess.freqstr] = counts.get(guess.freqstr, 0) + 1
        if not inferred:
            raise ValueError(
                f"cannot infer the frequency of {time_col!r} (series too short or irregular, "
                "e.g. trading days with holidays); pass freq= (e.g. 'MS', 'D', 'B', or a "
                "pandas CustomBusinessDay with the holidays)."
            )
        what = (
            f"the series of {time_col!r} have different frequencies "
            f"({', '.join(sorted(inferred))}); the frequency is ambiguous: pass freq=."
        )
        return Calendar("date", inferred[_commonest(counts, what, strict)])
    if pd.api.types.is_numeric_dtype(ds) and not pd.api.types.is_bool_dtype(ds):
        if freq is not None:
            raise ValueError(f"freq={freq!r} is only for dates; {time_col!r} holds numbers.")
        values = ds.to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        if not np.array_equal(finite, np.round(finite)):
            raise TypeError(
                f"{time_col!r} holds numbers that are not whole ({finite[finite % 1 != 0][0]}); "
                "stamps must be dates, pandas Periods or integers."
            )
        steps: dict[int, int] = {}
        for _, group in frame.groupby(id_col, sort=False):
            diffs = np.diff(np.sort(group[time_col].dropna().to_numpy()))
            positive = diffs[diffs > 0]
            if positive.size:
                step = int(positive.min())
                steps[step] = steps.get(step, 0) + 1
        what = (
            f"the series of {time_col!r} step by different amounts {sorted(steps)}; "
            "use one step for all series."
        )
        return Calendar("int", _commonest(steps, what, strict) if steps else 1)
    raise TypeError(
        f"{time_col!r} must hold dates, pandas Periods or integers, got dtype {ds.dtype}."
    )


# -------------------------------------------------------------------- the series
@dataclass(frozen=True)
class Series:
    """One series of the frame: ``y``, regressors ``X`` (rows by columns) and the stamps
    ``ds`` (a pandas Index), or, for a series that failed its checks, ``error``."""

    uid: Any
    y: np.ndarray
    X: np.ndarray | None
    ds: Any
    error: str | None = None


def _check_series(
    uid: Any,
    ds: pd.Index,
    target: np.ndarray,
    exog: np.ndarray | None,
    names: tuple[str, str, list[str]],
    calendar: Calendar,
    allow_nan: bool,
) -> Series:
    """Check one series, its rows already in time order (``names``: the time column,
    the target column and the regressor columns)."""
    time_col, target_col, exog_cols = names

    def failed(message: str) -> Series:
        return Series(uid, np.empty(0), None, pd.Index([]), message)

    if ds.hasnans:
        return failed(f"{time_col} has missing values.")
    if not ds.is_unique:
        duplicated = ds.duplicated()
        return failed(
            f"duplicate {time_col} {ds[duplicated][0]} ({int(duplicated.sum())} repeated rows); "
            "each (unique_id, ds) must appear once."
        )
    if calendar.off_step(ds[0]):
        return failed(
            f"{time_col} {ds[0]} is not a stamp of the frequency {calendar.name}; "
            "pass the right freq=."
        )
    expected = calendar.following(ds[:-1])
    mismatch = np.flatnonzero(np.asarray(expected != ds[1:]))
    if mismatch.size:
        i = int(mismatch[0]) + 1
        return failed(
            f"gap in {time_col} after {ds[i - 1]}: next is {ds[i]}, expected {expected[i - 1]} "
            f"({ds[i]} does not follow {ds[i - 1]} at the frequency {calendar.name}). Fill the "
            "missing rows (y may be NaN where a model allows it) or pass the right freq=."
        )
    try:
        y = as_float_series(target, target_col, allow_nan=allow_nan)
    except (TypeError, ValueError) as exc:
        return failed(str(exc))
    if exog is not None:
        bad = first_nonfinite(exog)
        if bad is not None:
            row, col = bad
            return failed(
                f"regressor {exog_cols[col]!r} is NaN/inf at {time_col} {ds[row]}; "
                "regressors must be complete."
            )
    return Series(uid, y, exog, ds)


def prepare(
    df: Any,
    id_col: str,
    time_col: str,
    target_col: str,
    freq: Any = None,
    *,
    strict: bool = True,
    allow_nan: bool = False,
) -> tuple[list[Series], Calendar, list[str]]:
    """Cut a long frame into checked series, in the order of their first row.

    Every column besides the id, stamps and target is a regressor. Stamps may be text
    (parsed as dates), dates, Periods or integers; each series must have unique stamps
    at the calendar's step with no gaps, a numeric target (NaN only with ``allow_nan``,
    and never all NaN) and finite regressors.

    Returns
    -------
    series : list of Series
        One per id; with ``strict=False`` a series that failed a check has ``error`` set.
    calendar : Calendar
        See :func:`infer_calendar`.
    exog_cols : list of str
        The regressor columns.

    Raises
    ------
    TypeError, ValueError
        From :func:`check_long_frame`, :func:`parse_stamps` and :func:`infer_calendar`;
        ValueError for an empty frame or a missing id, and (``strict``) for the first
        series that fails a check, named.
    """
    check_long_frame(df, id_col, time_col, target_col)
    if df.empty:
        raise ValueError("df has no rows.")
    frame = parse_stamps(df, time_col)
    if frame[id_col].isna().any():
        raise ValueError(f"{id_col!r} has missing values; every row needs a series id.")
    calendar = infer_calendar(frame, id_col, time_col, freq, strict=strict)
    exog_cols = [c for c in frame.columns if c not in (id_col, time_col, target_col)]
    # One stable sort by (series in order of first appearance, stamp), then slices: the
    # same rows and order as grouping and sorting each series, without a frame per series.
    codes, uids = pd.factorize(frame[id_col], sort=False)
    stamps = pd.Index(frame[time_col])
    key = stamps.asi8 if hasattr(stamps, "asi8") else stamps.to_numpy()
    order = np.lexsort((key, codes))
    stamps = stamps.take(order)
    target = frame[target_col].to_numpy()[order]
    exog = frame[exog_cols].to_numpy(dtype=np.float64)[order] if exog_cols else None
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(uids)))]
    names = (time_col, target_col, exog_cols)
    out = []
    for k, uid in enumerate(uids):
        a, b = bounds[k], bounds[k + 1]
        part = None if exog is None else exog[a:b]
        series = _check_series(uid, stamps[a:b], target[a:b], part, names, calendar, allow_nan)
        if strict and series.error is not None:
            raise ValueError(f"series {uid!r}: {series.error}")
        out.append(series)
    return out, calendar, exog_cols


def future_regressors(
    future: Any,
    series: list[Series],
    calendar: Calendar,
    h: int,
    exog_cols: list[str],
    id_col: str,
    time_col: str,
    *,
    name: str = "X_df",
    strict: bool = True,
) -> tuple[list[np.ndarray | None], list[str | None]]:
    """The ``(h, k)`` future regressor rows of every series, from the frame ``future``
    (``unique_id, ds`` and the regressor columns; ``name`` is its argument's name).

    Returns one array per series (None without regressors or for a series that already
    failed) and one error per series (None when fine); with ``strict`` the first error
    raises instead.

    Raises
    ------
    TypeError
        ``future`` is not a DataFrame.
    ValueError
        ``future`` is given without regressors in the frame, or missing with them; it
        lacks a column; (``strict``) a series lacks a forecast step or has a NaN/inf.
    """
    if not exog_cols:
        if future is not None:
            raise ValueError(
                f"{name} was given but df has no regressor columns (columns besides "
                f"{id_col!r}, {time_col!r} and the target)."
            )
        return [None] * len(series), [None] * len(series)
    if future is None:
        message = (
            f"df has regressors {exog_cols}; pass {name}= with {id_col!r}, {time_col!r} and "
            f"their values for the {h} steps after each series' end."
        )
        if strict:
            raise ValueError(message)
        return [None] * len(series), [message] * len(series)
    if not isinstance(future, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(future).__name__}.")
    missing = [c for c in (id_col, time_col, *exog_cols) if c not in future.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {missing}; it needs {id_col!r}, {time_col!r} and "
            f"every regressor of df ({exog_cols})."
        )
    future = parse_stamps(future, time_col, name)
    by_id = {uid: part.set_index(time_col) for uid, part in future.groupby(id_col, sort=False)}
    values: list[np.ndarray | None] = []
    errors: list[str | None] = []
    for s in series:
        if s.error is not None:
            values.append(None)
            errors.append(None)
            continue
        array, error = _future_rows(s, by_id, calendar, h, exog_cols, time_col, name)
        if strict and error is not None:
            raise ValueError(f"series {s.uid!r}: {error}")
        values.append(array)
        errors.append(error)
    return values, errors


def _future_rows(
    s: Series,
    by_id: dict,
    calendar: Calendar,
    h: int,
    exog_cols: list[str],
    time_col: str,
    name: str,
) -> tuple[np.ndarray | None, str | None]:
    stamps = calendar.after(s.ds[-1], h)
    rows = by_id.get(s.uid)
    present = stamps.isin(rows.index) if rows is not None else np.zeros(h, bool)
    if not present.all():
        first = stamps[int(np.flatnonzero(~present)[0])]
        return None, (
            f"future regressors are missing for {time_col} {first} "
            f"({int((~present).sum())} of the {h} forecast steps); {name} needs a row for each."
        )
    try:
        array = check_future_exog(rows.loc[stamps, exog_cols], h, len(exog_cols), exog_cols, name)
    except ValueError as exc:
        return None, str(exc)
    return array, None


# ------------------------------------------------------------------------ jobs
@dataclass(frozen=True)
class Job:
    """One series and its windows: the models are fitted on the first ``ends[w]`` rows and
    forecast the ``h`` rows after them; ``X_future`` holds the regressors after the last
    row (forecasting past the end), else they come from ``X`` itself (cross-validation)."""

    position: int
    uid: Any
    y: np.ndarray
    X: np.ndarray | None
    ends: tuple[int, ...]
    X_future: np.ndarray | None = None


@dataclass(frozen=True)
class JobResult:
    """What the worker sends back for one :class:`Job`.

    ``columns`` maps an output column (``<alias>``, ``<alias>-lo-<level>``,
    ``<alias>-hi-<level>``) to the ``(windows * h,)`` forecasts; ``fitted`` the fitted
    models (``keep`` mode); ``details`` what ``describe`` said of each alias' last fit;
    ``seconds`` the job's time. A failure leaves ``error`` (the exception's message),
    ``error_type`` (its class name) and ``where`` (the model and window) set and the rest
    empty.
    """

    position: int
    columns: dict[str, np.ndarray] | None
    fitted: dict[str, Any] | None
    details: dict[str, Any] | None
    seconds: float
    error: str | None = None
    error_type: str | None = None
    where: str | None = None


def forecast_columns(
    alias: str, fc: Any, levels: tuple, h: int, what: str
) -> dict[str, np.ndarray]:
    """The output columns of one forecast ``fc`` (``mean``, ``lower``, ``upper``).

    Raises
    ------
    ValueError
        The mean does not hold ``h`` values, or a level in ``levels`` is missing (the
        model cannot honour it).
    """
    mean = np.asarray(fc.mean, dtype=np.float64).reshape(-1)
    if mean.size != h:
        raise ValueError(f"model {alias!r} returned {mean.size} values for h={h} ({what}).")
    out = {alias: mean}
    for lv in levels:
        if lv not in fc.lower or lv not in fc.upper:
            raise ValueError(
                f"model {alias!r} gave no {lv:g}% interval ({what}); it cannot honour "
                f"level={lv:g}. Ask for levels it supports, or leave level out."
            )
        out[f"{alias}-lo-{lv:g}"] = np.asarray(fc.lower[lv], dtype=np.float64).reshape(-1)
        out[f"{alias}-hi-{lv:g}"] = np.asarray(fc.upper[lv], dtype=np.float64).reshape(-1)
    return out


def forecast_with(model: Any, h: int, levels: tuple, X_future: np.ndarray | None) -> Any:
    """``model.forecast(h, level=levels)``, with ``X=X_future`` when there are regressors."""
    if X_future is None:
        return model.forecast(h, level=levels)
    return model.forecast(h, level=levels, X=X_future)


class LocalCall:
    """A picklable ``batch of Jobs -> list of JobResult`` function: a fresh copy of each
    model is fitted to each window of each series, then forecasts ``h`` steps.

    ``keep``: fit on all rows of the (single) window, keep the fitted models, forecast
    nothing. ``describe``: a picklable function of a fitted model whose result goes to
    ``JobResult.details``. The worker never raises for one series: its error comes back
    in the result.
    """

    def __init__(
        self,
        models: dict[str, Any],
        h: int,
        levels: tuple,
        keep: bool = False,
        describe: Callable[[Any], Any] | None = None,
    ) -> None:
        self.models, self.h, self.levels = models, h, levels
        self.keep, self.describe = keep, describe

    def __call__(self, batch: list[Job]) -> list[JobResult]:
        return [self._one(job) for job in batch]

    def _one(self, job: Job) -> JobResult:
        start = time.perf_counter()
        columns: dict[str, list[np.ndarray]] = {}
        fitted: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for alias, prototype in self.models.items():
            for end in job.ends:
                what = f"series {job.uid!r}, {end} training rows"
                try:
                    model = copy.deepcopy(prototype)
                    model = (
                        model.fit(job.y[:end])
                        if job.X is None
                        else model.fit(job.y[:end], job.X[:end])
                    )
                    if self.describe is not None:
                        details[alias] = self.describe(model)
                    if self.keep:
                        fitted[alias] = model
                        continue
                    X_future = job.X_future
                    if job.X is not None and X_future is None:
                        X_future = job.X[end : end + self.h]
                    fc = forecast_with(model, self.h, self.levels, X_future)
                    for name, values in forecast_columns(
                        alias, fc, self.levels, self.h, what
                    ).items():
                        columns.setdefault(name, []).append(values)
                except Exception as exc:  # one bad series must never stop the batch
                    return JobResult(
                        job.position, None, None, None, time.perf_counter() - start,
                        str(exc), type(exc).__name__, f"model {alias!r} on {what}",
                    )  # fmt: skip
        joined = {name: np.concatenate(parts) for name, parts in columns.items()}
        seconds = time.perf_counter() - start
        return JobResult(job.position, joined, fitted or None, details or None, seconds)


# -------------------------------------------------------------------- backends
def _run_serial(batches, call, on_done) -> None:
    for i, batch in enumerate(batches):
        try:
            on_done(i, call(batch), None)
        except Exception as exc:
            on_done(i, None, exc)


def _run_process(batches, call, on_done, n_jobs: int) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork where the platform has it: spawned workers re-import the caller's __main__,
    # which breaks scripts without an ``if __name__ == "__main__"`` guard.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
        futures = {pool.submit(call, batch): i for i, batch in enumerate(batches)}
        for future in as_completed(futures):
            try:
                on_done(futures[future], future.result(), None)
            except Exception as exc:
                on_done(futures[future], None, exc)


def _run_dask(batches, call, on_done, n_jobs: int) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed, get_client
    except ImportError:
        raise ValueError(
            "backend='dask' needs dask.distributed: pip install 'seqlab[dask]'."
        ) from None
    try:
        client = get_client()
        owned = None
    except ValueError:
        cluster = LocalCluster(
            n_workers=n_jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )  # fmt: skip
        client = Client(cluster)
        owned = (client, cluster)
    try:
        futures = [client.submit(call, batch, pure=False) for batch in batches]
        index = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            try:
                on_done(index[future.key], future.result(), None)
            except Exception as exc:
                on_done(index[future.key], None, exc)
    finally:
        if owned is not None:
            owned[0].close()
            owned[1].close()


def _run_ray(batches, call, on_done, n_jobs: int) -> None:
    try:
        import ray
    except ImportError:
        raise ValueError("backend='ray' needs ray: pip install 'seqlab[ray]'.") from None
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=n_jobs, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(_apply)
        pending = {remote.remote(call, batch): i for i, batch in enumerate(batches)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                try:
                    on_done(i, ray.get(ref), None)
                except Exception as exc:
                    on_done(i, None, exc)
    finally:
        if started:
            ray.shutdown()


def _apply(call: Callable, batch: list) -> list:
    return call(batch)


def run_batches(
    jobs: Sequence[Any],
    call: Callable[[list], list],
    backend: str,
    n_jobs: int,
    batch_size: int | None = None,
    progress: bool = True,
) -> tuple[list[Any], list[tuple[list[Any], BaseException]]]:
    """Run ``call`` over ``jobs`` in batches on ``backend``; results in the order of ``jobs``.

    ``batch_size`` defaults to about four batches per worker. Every backend runs the same
    ``call`` on the same batches, so the results are the same.

    Returns
    -------
    results : list
        One result per job, None for the jobs of a batch that failed as a whole (a worker
        died, a result did not come back).
    failures : list of (batch, exception)
        The batches that failed as a whole.
    """
    if not jobs:
        return [], []
    if batch_size is None:
        workers = 1 if backend == "serial" else n_jobs
        batch_size = max(1, math.ceil(len(jobs) / (4 * workers)))
    batches = [list(jobs[i : i + batch_size]) for i in range(0, len(jobs), batch_size)]
    outputs: list[list[Any] | None] = [None] * len(batches)
    failures: list[tuple[list[Any], BaseException]] = []
    bar = progress_bar(progress, "series", len(jobs), "series")

    def on_done(i: int, result: list[Any] | None, exc: BaseException | None) -> None:
        if exc is not None:
            logger.error("batch %d failed as a whole: %s", i, exc)
            failures.append((batches[i], exc))
        outputs[i] = result
        bar.update(len(batches[i]))

    workers = min(n_jobs, len(batches))
    try:
        if backend == "serial":
            _run_serial(batches, call, on_done)
        elif backend == "process":
            _run_process(batches, call, on_done, workers)
        elif backend == "dask":
            _run_dask(batches, call, on_done, n_jobs)
        elif backend == "ray":
            _run_ray(batches, call, on_done, n_jobs)
        else:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    finally:
        bar.close()
    results: list[Any] = []
    for batch, output in zip(batches, outputs, strict=True):
        results.extend(output if output is not None else [None] * len(batch))
    return results, failures

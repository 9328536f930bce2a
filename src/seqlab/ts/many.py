"""``fit_many``: auto_arima on every series of a long DataFrame, serially or in parallel.

Input is the long layout statsforecast and darts users know: one row per (series, time)
with columns ``unique_id``, ``ds`` (dates or integers) and ``y``; any other column is a
regressor (``exog``), whose future values come in ``future`` (same ids, the next ``h``
``ds`` values). Output is a :class:`ManyResult` with a long ``forecasts`` frame
(``unique_id, ds, mean, lower_80, upper_80, lower_95, upper_95``) and a ``models`` frame
(one row per series: chosen orders, criterion, notes, and the error if it failed).

Every series is checked on its own (duplicate ``ds``, gaps in ``ds``, NaN regressors,
missing future regressors, too few observations); a problem with one series becomes
the ``error`` of its row and never stops the others. The series are cut into batches
and the batches run on one of four backends:

- ``"serial"``: in this process;
- ``"process"``: a ``concurrent.futures.ProcessPoolExecutor`` (forked workers where the
  platform allows, else spawned: then the caller needs an ``if __name__ == "__main__"``
  guard);
- ``"dask"``: the current ``distributed`` client, or a temporary local cluster on
  127.0.0.1 (``pip install seqlab[dask]``);
- ``"ray"``: the running Ray instance, or a temporary local one
  (``pip install seqlab[ray]``).

A batch that fails as a whole (a worker died) turns into error rows for its series, so no
series is ever silently lost. Every backend runs the same function on the same inputs,
so results are identical (checked in ``tests/ts/test_many.py``).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqlab._progress import bar as progress_bar
from seqlab._validation import check_horizon, check_int, check_levels, check_period
from seqlab.ts._exog import check_future_exog, first_nonfinite

logger = logging.getLogger(__name__)

BACKENDS = ("serial", "process", "dask", "ray")
_MODEL_COLUMNS = [
    "unique_id", "model", "p", "d", "q", "P", "D", "Q", "m", "constant", "ic", "ic_value",
    "n_obs", "n_models", "seconds", "message", "error",
]  # fmt: skip


@dataclass(frozen=True)
class ManyResult:
    """Forecasts and fitted orders of every series (see the module docstring)."""

    forecasts: pd.DataFrame
    models: pd.DataFrame

    @property
    def errors(self) -> pd.DataFrame:
        """The rows of ``models`` whose series could not be fitted."""
        return self.models[self.models["error"].notna()]


@dataclass(frozen=True)
class _Task:
    """One series, validated and ready for auto_arima (plain arrays: cheap to ship)."""

    uid: Any
    y: np.ndarray
    exog: np.ndarray | None
    exog_names: tuple[str, ...]
    future_exog: np.ndarray | None
    future_ds: np.ndarray
    error: str | None = None


# ------------------------------------------------------------------ validation
def _infer_step(ds: pd.Series, freq: str | None) -> Any:
    """The step of ``ds``: a pandas offset for dates, an integer for integer stamps."""
    if pd.api.types.is_datetime64_any_dtype(ds):
        if freq is not None:
            return pd.tseries.frequencies.to_offset(freq)
        if ds.size >= 3:
            index = pd.DatetimeIndex(ds)
            if index.is_unique:
                # freq="infer" gives the offset itself (pandas 3 warns on infer_freq's str).
                inferred = pd.DatetimeIndex(index, freq="infer").freq
                if inferred is not None:
                    return inferred
        return None
    diffs = np.diff(ds.to_numpy())
    positive = diffs[diffs > 0]
    return int(positive.min()) if positive.size else 1


def _common_step(frame: pd.DataFrame, id_col: str, time_col: str, freq: str | None) -> Any:
    """One step for the whole frame: ``freq`` if given, else the commonest inferred one."""
    ds = frame[time_col]
    if not pd.api.types.is_datetime64_any_dtype(ds):
        if freq is not None:
            raise ValueError(f"freq={freq!r} is only for date stamps; {time_col!r} holds numbers.")
        return None
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    counts: dict[Any, int] = {}
    for _, group in frame.groupby(id_col, sort=False):
        step = _infer_step(group[time_col].drop_duplicates().sort_values(), None)
        if step is not None:
            counts[step] = counts.get(step, 0) + 1
    if not counts:
        raise ValueError(
            f"cannot infer the frequency of {time_col!r} from any series (too short or "
            "irregular); pass freq= (e.g. 'MS', 'D', 'QS')."
        )
    return max(counts, key=counts.get)


def _check_series(
    uid: Any,
    group: pd.DataFrame,
    time_col: str,
    target_col: str,
    exog_cols: list[str],
    step: Any,
    h: int,
    future: pd.DataFrame | None,
) -> _Task:
    def failed(message: str) -> _Task:
        return _Task(uid, np.empty(0), None, tuple(exog_cols), None, np.empty(0), message)

    group = group.sort_values(time_col, kind="stable")
    ds = group[time_col]
    duplicated = ds.duplicated()
    if duplicated.any():
        return failed(
            f"duplicate ds {ds[duplicated].iloc[0]} ({int(duplicated.sum())} repeated rows); "
            "each (unique_id, ds) must appear once."
        )
    if ds.isna().any():
        return failed("ds has missing values.")
    is_date = pd.api.types.is_datetime64_any_dtype(ds)
    if is_date:
        if step is None:
            return failed("cannot tell the frequency of ds; pass freq=.")
        expected = pd.date_range(ds.iloc[0], periods=ds.size, freq=step)
        mismatch = np.flatnonzero(expected.to_numpy() != ds.to_numpy())
        future_ds = pd.date_range(ds.iloc[-1], periods=h + 1, freq=step)[1:].to_numpy()
    else:
        local = _infer_step(ds, None)
        expected = ds.iloc[0] + local * np.arange(ds.size)
        mismatch = np.flatnonzero(expected != ds.to_numpy())
        future_ds = ds.iloc[-1] + local * np.arange(1, h + 1)
    if mismatch.size:
        i = int(mismatch[0])
        return failed(
            f"gap in ds after {ds.iloc[i - 1]}: next is {ds.iloc[i]}, expected {expected[i]}. "
            "Fill the missing rows (y may be NaN) so the series is regular."
        )
    raw = group[target_col]
    numbers = pd.to_numeric(raw, errors="coerce")
    not_numbers = numbers.isna() & raw.notna()
    if not_numbers.any():
        i = int(np.flatnonzero(not_numbers.to_numpy())[0])
        return failed(f"{target_col} holds {raw.iloc[i]!r} at ds {ds.iloc[i]}: not a number.")
    y = numbers.to_numpy(dtype=float)
    if np.isnan(y).all():
        return failed(f"{target_col} is all missing (or non-numeric).")
    exog = future_exog = None
    if exog_cols:
        exog = group[exog_cols].to_numpy(dtype=float)
        bad = first_nonfinite(exog)
        if bad is not None:
            row, col = bad
            return failed(
                f"regressor {exog_cols[col]!r} is NaN/inf at ds {ds.iloc[row]}; "
                "regressors must be complete."
            )
        if future is None:
            return failed(
                f"the frame has regressors {exog_cols}; pass future= with their values for "
                f"the next {h} ds of each series."
            )
        rows = future[future["__uid__"] == uid].set_index("__ds__")
        missing = [d for d in future_ds if d not in rows.index]
        if missing:
            return failed(
                f"future regressors are missing for ds {missing[0]} "
                f"({len(missing)} of the {h} forecast steps)."
            )
        try:
            future_exog = check_future_exog(
                rows.loc[future_ds, exog_cols], h, len(exog_cols), exog_cols, what="future"
            )
        except ValueError as error:
            return failed(str(error))
    return _Task(uid, y, exog, tuple(exog_cols), future_exog, np.asarray(future_ds))


# ------------------------------------------------------------------- worker
def _fit_one(task: _Task, h: int, level: tuple[float, ...], m: int, options: dict) -> tuple:
    """Fit one series; never raises (an exception becomes the row's error)."""
    from seqlab.ts.auto import auto_arima

    start = time.perf_counter()
    row: dict[str, Any] = {"unique_id": task.uid, "n_obs": int(task.y.size)}
    if task.error is not None:
        row["error"] = task.error
        return row, None
    try:
        exog = None
        if task.exog is not None:
            exog = pd.DataFrame(task.exog, columns=list(task.exog_names))
        result = auto_arima(task.y, m, exog=exog, **options)
        future = None
        if task.future_exog is not None:
            future = pd.DataFrame(task.future_exog, columns=list(task.exog_names))
        forecast = result.forecast(h, level=level, exog=future)
    except Exception as exc:  # one bad series must never stop the batch
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["seconds"] = time.perf_counter() - start
        return row, None
    p, d, q = result.order
    P, D, Q, period = result.seasonal_order
    row.update(
        model=result.label, p=p, d=d, q=q, P=P, D=D, Q=Q, m=period or 1,
        constant=bool(result.constant), ic=result.ic, ic_value=float(result.ic_value),
        n_models=len(result.tried), message="; ".join(result.messages) or None,
        seconds=time.perf_counter() - start,
    )  # fmt: skip
    columns = {"mean": np.asarray(forecast.mean, dtype=float)}
    for lv in forecast.lower:
        columns[f"lower_{lv:g}"] = np.asarray(forecast.lower[lv], dtype=float)
        columns[f"upper_{lv:g}"] = np.asarray(forecast.upper[lv], dtype=float)
    return row, (task.future_ds, columns)


def _fit_batch(
    tasks: list[_Task], h: int, level: tuple[float, ...], m: int, options: dict
) -> list[tuple]:
    return [(task.uid, *_fit_one(task, h, level, m, options)) for task in tasks]


# ------------------------------------------------------------------ backends
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


def _apply(call: Callable, batch: list[_Task]) -> list[tuple]:
    return call(batch)


class _BatchCall:
    """A picklable ``batch -> results`` function carrying the fit options."""

    def __init__(self, h: int, level: tuple[float, ...], m: int, options: dict) -> None:
        self.h, self.level, self.m, self.options = h, level, m, options

    def __call__(self, batch: list[_Task]) -> list[tuple]:
        return _fit_batch(batch, self.h, self.level, self.m, self.options)


# ---------------------------------------------------------------- fit_many
def check_long_frame(df: Any, id_col: str, time_col: str, target_col: str) -> None:
    """Check that ``df`` is a long frame: a DataFrame with the id, time and target columns.

    Raises
    ------
    TypeError
        When ``df`` is not a pandas DataFrame.
    ValueError
        When a column is missing; the message names the missing ones, the keyword
        arguments that rename them, and the columns ``df`` has.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ValueError(
            f"df lacks the column(s) {missing}; it needs {id_col!r}, {time_col!r}, "
            f"{target_col!r} (pass id_col=/time_col=/target_col= for other names). "
            f"Its columns are {list(df.columns)}."
        )


def fit_many(
    df: pd.DataFrame,
    h: int,
    m: int = 1,
    *,
    level: Sequence[float] = (80, 95),
    future: pd.DataFrame | None = None,
    backend: str = "serial",
    n_jobs: int | None = None,
    batch_size: int | None = None,
    freq: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    progress: bool = True,
    **auto_arima_options: Any,
) -> ManyResult:
    """Fit :func:`~seqlab.ts.auto.auto_arima` to every series of ``df`` and forecast ``h`` steps.

    ``df``: long frame with ``unique_id, ds, y`` (names changeable with ``id_col``,
    ``time_col``, ``target_col``); other columns are regressors, and ``future`` must then
    hold ``unique_id, ds`` and those columns for the next ``h`` steps of every series.
    ``m``: seasonal period. ``backend``: "serial", "process", "dask" or "ray";
    ``n_jobs``: workers (default: all cores; at most four per core); ``batch_size``:
    series per task (default: about four tasks per worker). ``freq``: pandas frequency
    of date stamps (inferred when None). ``progress``: a tqdm bar of series done. Other
    keywords go to ``auto_arima`` (``ic``, ``stepwise``, ``approximation``, ...).
    """
    h = check_horizon(h)
    m = check_period(m)
    check_long_frame(df, id_col, time_col, target_col)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    if n_jobs is None:
        n_jobs = os.cpu_count() or 1
    n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
    most = 4 * (os.cpu_count() or 1)
    if n_jobs > most:
        raise ValueError(
            f"n_jobs={n_jobs} is more workers than this machine can run usefully; the limit "
            f"is {most} (four per core)."
        )
    level = check_levels(level)
    exog_cols = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    frame = df.copy()
    if frame[time_col].dtype == object:
        parsed = pd.to_datetime(frame[time_col], errors="coerce", format="mixed")
        if parsed.notna().all():
            frame[time_col] = parsed
    future_frame = _check_future(future, exog_cols, id_col, time_col)
    step = _common_step(frame, id_col, time_col, freq)

    tasks = [
        _check_series(uid, group, time_col, target_col, exog_cols, step, h, future_frame)
        for uid, group in frame.groupby(id_col, sort=False)
    ]
    if not tasks:
        raise ValueError("df has no rows.")
    if batch_size is None:
        workers = 1 if backend == "serial" else n_jobs
        batch_size = max(1, math.ceil(len(tasks) / (4 * workers)))
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    batches = [tasks[i : i + batch_size] for i in range(0, len(tasks), batch_size)]
    call = _BatchCall(h, level, m, dict(auto_arima_options))
    outputs: list[list[tuple] | None] = [None] * len(batches)

    bar = progress_bar(progress, "series", len(tasks), "series")

    def on_done(i: int, result: list[tuple] | None, exc: BaseException | None) -> None:
        if exc is not None:
            logger.error("batch %d failed as a whole: %s", i, exc)
            message = f"the worker running this batch failed: {type(exc).__name__}: {exc}"
            result = [
                (t.uid, {"unique_id": t.uid, "n_obs": int(t.y.size), "error": message}, None)
                for t in batches[i]
            ]
        outputs[i] = result
        bar.update(len(batches[i]))

    runners: dict[str, Callable] = {
        "serial": lambda: _run_serial(batches, call, on_done),
        "process": lambda: _run_process(batches, call, on_done, min(n_jobs, len(batches))),
        "dask": lambda: _run_dask(batches, call, on_done, n_jobs),
        "ray": lambda: _run_ray(batches, call, on_done, n_jobs),
    }
    try:
        runners[backend]()
    finally:
        bar.close()
    return _assemble(outputs, id_col, time_col)


def _check_future(
    future: pd.DataFrame | None, exog_cols: list[str], id_col: str, time_col: str
) -> pd.DataFrame | None:
    if future is None:
        return None
    if not isinstance(future, pd.DataFrame):
        raise TypeError(f"future must be a pandas DataFrame, got {type(future).__name__}.")
    missing = [c for c in (id_col, time_col, *exog_cols) if c not in future.columns]
    if missing:
        raise ValueError(
            f"future lacks the column(s) {missing}; it needs {id_col!r}, {time_col!r} and "
            f"every regressor of df ({exog_cols})."
        )
    out = future.copy()
    ds = out[time_col]
    if ds.dtype == object:
        parsed = pd.to_datetime(ds, errors="coerce", format="mixed")
        if parsed.notna().all():
            ds = parsed
    out["__uid__"] = out[id_col]
    out["__ds__"] = ds
    return out


def _assemble(outputs: Iterable[list[tuple] | None], id_col: str, time_col: str) -> ManyResult:
    rows, pieces = [], []
    for batch in outputs:
        for uid, row, forecast in batch or ():
            rows.append(row)
            if forecast is None:
                continue
            future_ds, columns = forecast
            piece = pd.DataFrame({id_col: uid, time_col: future_ds, **columns})
            pieces.append(piece)
    models = pd.DataFrame(rows).reindex(columns=_MODEL_COLUMNS)
    models = models.rename(columns={"unique_id": id_col})
    if pieces:
        forecasts = pd.concat(pieces, ignore_index=True)
    else:
        forecasts = pd.DataFrame(columns=[id_col, time_col, "mean"])
    return ManyResult(forecasts=forecasts, models=models)

"""``fit_many``: auto_arima on every series of a long DataFrame, serially or in parallel.

Input is the long layout statsforecast and darts users know: one row per (series, time)
with columns ``unique_id``, ``ds`` (dates, pandas Periods or integers) and ``y``; any
other column is a regressor (``exog``), whose future values come in ``future`` (same
ids, the next ``h`` ``ds`` values). Output is a :class:`ManyResult` with a long
``forecasts`` frame (``unique_id, ds, mean, lower_80, upper_80, lower_95, upper_95``)
and a ``models`` frame (one row per series: chosen orders, criterion, notes, and the
error if it failed).

``fit_many`` is the auto ARIMA case of :class:`seqlab.forecast.Forecasts`: both prepare
the frame, step the calendar and run the per-series jobs with
:mod:`seqlab.ts._longframe`, so ``fit_many(df, h, m)`` and
``Forecasts([AutoArimaForecaster(m)]).forecast(df, h)`` give the same forecasts at the
same dates. What differs is the policy for a bad series: here every series is checked
on its own (duplicate ``ds``, gaps in ``ds``, NaN regressors, missing future regressors,
too few observations) and a problem with one series becomes the ``error`` of its row
and never stops the others; ``y`` may hold NaN (auto_arima skips missing values).

The series are cut into batches and the batches run on one of four backends:

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqlab._validation import check_horizon, check_levels, check_period
from seqlab.ts._longframe import (
    Job,
    LocalCall,
    check_long_frame,
    check_workers,
    future_regressors,
    prepare,
    run_batches,
)

__all__ = ["ManyResult", "fit_many"]

_MODEL_COLUMNS = [
    "unique_id", "model", "p", "d", "q", "P", "D", "Q", "m", "constant", "ic", "ic_value",
    "n_obs", "n_models", "seconds", "message", "error",
]  # fmt: skip
_ALIAS = "mean"


@dataclass(frozen=True)
class ManyResult:
    """Forecasts and fitted orders of every series (see the module docstring)."""

    forecasts: pd.DataFrame
    models: pd.DataFrame

    @property
    def errors(self) -> pd.DataFrame:
        """The rows of ``models`` whose series could not be fitted."""
        return self.models[self.models["error"].notna()]


class _AutoArima:
    """auto_arima behind the ``fit(y, X)`` / ``forecast(h, level, X)`` interface of the
    per-series jobs; the regressors keep their column names for auto_arima's messages."""

    def __init__(self, m: int, options: dict, exog_names: tuple[str, ...]) -> None:
        self.m, self.options, self.exog_names = m, options, exog_names

    def _frame(self, X: np.ndarray | None) -> pd.DataFrame | None:
        return None if X is None else pd.DataFrame(X, columns=list(self.exog_names))

    def fit(self, y: np.ndarray, X: np.ndarray | None = None) -> _AutoArima:
        from seqlab.ts.auto import auto_arima

        self.result_ = auto_arima(y, self.m, exog=self._frame(X), **self.options)
        return self

    def forecast(self, h: int, level: Sequence[float] = (80, 95), X: np.ndarray | None = None):
        return self.result_.forecast(h, level=level, exog=self._frame(X))


def _describe(model: _AutoArima) -> dict[str, Any]:
    """The ``models`` row of a fitted series."""
    result = model.result_
    p, d, q = result.order
    P, D, Q, period = result.seasonal_order
    return dict(
        model=result.label, p=p, d=d, q=q, P=P, D=D, Q=Q, m=period or 1,
        constant=bool(result.constant), ic=result.ic, ic_value=float(result.ic_value),
        n_models=len(result.tried), message="; ".join(result.messages) or None,
    )  # fmt: skip


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
    of date stamps (inferred when None: the frequency most series have). ``progress``:
    a tqdm bar of series done. Other keywords go to ``auto_arima`` (``ic``,
    ``stepwise``, ``approximation``, ...).

    Raises
    ------
    TypeError, ValueError
        For a bad frame as a whole or bad arguments; a bad series is an error row of
        ``models`` instead.
    """
    h = check_horizon(h)
    m = check_period(m)
    check_long_frame(df, id_col, time_col, target_col)
    n_jobs = check_workers(backend, n_jobs, batch_size)
    levels = check_levels(level)
    series, calendar, exog_cols = prepare(
        df, id_col, time_col, target_col, freq, strict=False, allow_nan=True
    )
    futures, future_errors = future_regressors(
        future, series, calendar, h, exog_cols, id_col, time_col, name="future", strict=False
    )
    rows: list[dict[str, Any]] = []
    jobs = []
    for i, s in enumerate(series):
        error = s.error or future_errors[i]
        rows.append({"unique_id": s.uid, "n_obs": int(s.y.size)})
        if error is not None:
            rows[-1]["error"] = error
        else:
            jobs.append(Job(i, s.uid, s.y, s.X, (s.y.size,), futures[i]))
    model = _AutoArima(m, dict(auto_arima_options), tuple(exog_cols))
    call = LocalCall({_ALIAS: model}, h, levels, describe=_describe)
    results, failures = run_batches(jobs, call, backend, n_jobs, batch_size, progress)
    failed = {}
    for batch, exc in failures:
        message = f"the worker running this batch failed: {type(exc).__name__}: {exc}"
        failed.update({job.position: message for job in batch})
    pieces = []
    for job, result in zip(jobs, results, strict=True):
        row = rows[job.position]
        if result is None:
            row["error"] = failed[job.position]
            continue
        row["seconds"] = result.seconds
        if result.error is not None:
            row["error"] = f"{result.error_type}: {result.error}"
            continue
        row.update(result.details[_ALIAS])
        stamps = calendar.after(series[job.position].ds[-1], h)
        columns = {_rename(name): values for name, values in result.columns.items()}
        pieces.append(pd.DataFrame({id_col: job.uid, time_col: stamps, **columns}))
    models = pd.DataFrame(rows).reindex(columns=_MODEL_COLUMNS)
    models = models.rename(columns={"unique_id": id_col})
    if pieces:
        forecasts = pd.concat(pieces, ignore_index=True)
    else:
        forecasts = pd.DataFrame(columns=[id_col, time_col, _ALIAS])
    return ManyResult(forecasts=forecasts, models=models)


def _rename(column: str) -> str:
    """``mean-lo-80`` -> ``lower_80``, ``mean-hi-80`` -> ``upper_80``."""
    if column.startswith(f"{_ALIAS}-lo-"):
        return "lower_" + column.rsplit("-", 1)[1]
    if column.startswith(f"{_ALIAS}-hi-"):
        return "upper_" + column.rsplit("-", 1)[1]
    return column

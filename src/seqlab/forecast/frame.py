"""``Forecasts``: many series in one long frame, many models, one call (statsforecast's shape).

Input is the long layout statsforecast, neuralforecast and darts users know: one row per
(series, time) with columns ``unique_id``, ``ds`` and ``y`` (names changeable). ``ds``
holds dates (a pandas frequency, given as ``freq=`` or inferred), pandas Periods, or
integers. Every other column is a regressor; its future values come in ``X_df``
(``unique_id, ds`` and the same columns for the ``h`` steps after each series' end).

Output is a long frame with one row per (series, future date)::

    unique_id  ds  <alias>  <alias>-lo-80  <alias>-hi-80  <alias>-lo-95  <alias>-hi-95 ...

one block per model, where ``<alias>`` is the model's key in a ``models`` dict, else its
``alias`` attribute, else its ``label``; :meth:`Forecasts.cross_validation` adds
``cutoff`` (the last date a window's models saw) and ``y`` (the actual value).

Two kinds of model:

- *local* models (every :class:`~seqlab.forecast.base.Forecaster`: baselines, ARIMA,
  auto ARIMA, recurrent, hybrid): a fresh copy is fitted to each series on its own. The
  series run in batches on the "serial", "process", "dask" or "ray" backend; every
  backend runs the same function on the same inputs, so the results are identical.
- *global* models (a class attribute ``is_global = True``, e.g.
  :class:`~seqlab.forecast.neural.GlobalRecurrentForecaster`): one model is fitted to
  all series at once, in this process, and forecasts each of them.

A model takes regressors when its ``forecast`` method has an ``X`` parameter (it is then
fitted with ``fit(y, X)`` and forecast with ``forecast(h, level, X=future)``); a frame
with regressor columns and a model that cannot use them is refused, never silently
reduced to the target alone. A requested ``level`` that a model does not return is an
error too.

The frame's checks, the calendar of future dates and the per-series jobs are those of
:mod:`seqlab.ts._longframe`, which :func:`seqlab.ts.fit_many` runs too: ``fit_many`` is
this class with one auto ARIMA model (``mean``, ``lower_<level>``, ``upper_<level>``
columns) that keeps a bad series as an error row instead of raising.

Cross-validation windows follow statsforecast's definition: with ``n`` observations,
window ``i = 0 .. n_windows - 1`` forecasts the rows
``[n - h - (n_windows - 1 - i) * step_size, ... + h)``, so the last window ends at the
last observation; the models see only the rows before each window (the ``cutoff`` is
the date of the last of them) and are refitted for every window.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from seqlab._validation import check_horizon, check_int, check_levels
from seqlab.forecast import metrics as _metrics
from seqlab.forecast.conformal import ConformalScores, _change_scale
from seqlab.ts._longframe import (
    Calendar,
    Job,
    JobResult,
    LocalCall,
    Series,
    check_long_frame,
    check_workers,
    forecast_columns,
    forecast_with,
    future_regressors,
    prepare,
    run_batches,
)

__all__ = ["Forecasts", "evaluate"]


logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------- models
def _is_global(model: Any) -> bool:
    return bool(getattr(model, "is_global", False))


def _takes_regressors(model: Any) -> bool:
    forecast = getattr(model, "forecast", None)
    if forecast is None:
        return False
    try:
        return "X" in inspect.signature(forecast).parameters
    except (TypeError, ValueError):
        return False


def _named_models(models: Any) -> dict[str, Any]:
    if isinstance(models, Mapping):
        named = {str(k): v for k, v in models.items()}
    elif isinstance(models, Sequence) and not isinstance(models, (str, bytes)):
        named = {}
        for model in models:
            alias = getattr(model, "alias", None) or getattr(model, "label", None)
            alias = str(alias or type(model).__name__)
            if alias in named:
                raise ValueError(
                    f"two models are called {alias!r}; pass a dict {{alias: model}} to name them."
                )
            named[alias] = model
    else:
        raise TypeError(
            f"models must be a list of forecasters or a dict alias -> forecaster, "
            f"got {type(models).__name__}."
        )
    if not named:
        raise ValueError("models is empty; pass at least one forecaster.")
    for alias, model in named.items():
        if isinstance(model, type):
            raise TypeError(
                f"model {alias!r} is a class; pass an instance, e.g. {model.__name__}()."
            )
        if not (
            callable(getattr(model, "fit", None)) and callable(getattr(model, "forecast", None))
        ):
            raise TypeError(f"model {alias!r} has no fit/forecast methods: {model!r}.")
        if "-lo-" in alias or "-hi-" in alias or alias in ("unique_id", "ds", "y", "cutoff"):
            raise ValueError(f"alias {alias!r} would clash with the output's column names.")
    return named


# ------------------------------------------------------------------- workers
def _run_local(
    jobs: list[Job],
    call: LocalCall,
    backend: str,
    n_jobs: int,
    batch_size: int | None,
    progress: bool = True,
) -> list[JobResult]:
    """Run the local models' jobs on a backend; the first failure raises."""
    results, failures = run_batches(jobs, call, backend, n_jobs, batch_size, progress)
    if failures:
        exc = failures[0][1]
        hint = ""
        if call.keep:
            hint = (
                " fit() on a parallel backend sends the fitted models back by pickle; "
                "forecast(df, h) and cross_validation return arrays only, or use "
                "backend='serial'."
            )
        raise RuntimeError(
            f"a {backend} worker failed on a batch of series: {type(exc).__name__}: {exc}.{hint}"
        )
    for result in results:
        if result.error is not None:
            raise ValueError(f"{result.where}: {result.error}")
    return results


# --------------------------------------------------------------------- Forecasts
class Forecasts:
    """Fit many models to many series of one long frame; forecast, cross-validate.

    Parameters
    ----------
    models : list or dict
        Unfitted forecasters (copied, never changed). A dict gives each its alias (the
        output column); a list takes each model's ``alias`` attribute, else its
        ``label``. Aliases must be unique.
    freq : str or pandas offset, optional
        The frequency of date stamps ("MS", "D", "B", "W-SUN", a ``CustomBusinessDay``).
        Inferred from the series when None; an error says so when it cannot be inferred
        or the series disagree. Not used for Periods (they carry theirs) or integers.
    backend : {"serial", "process", "dask", "ray"}
        Where local models run, as in :func:`seqlab.ts.fit_many`.
    n_jobs : int, optional
        Workers for the parallel backends (default: all cores; at most four per core).
    batch_size : int, optional
        Series per task (default: about four tasks per worker).
    id_col, time_col, target_col : str
        Column names of the series id, the stamps and the target.
    conformal_windows : int, optional
        None: each model gives its own intervals. ``k``: :meth:`forecast` and
        :meth:`cross_validation` give every model cross-series split-conformal intervals
        instead: each model is also fitted before each of the ``k`` windows of ``h`` rows
        that precede a forecast origin, its errors there are divided by the series'
        scale at that window's origin (mean absolute first difference of the rows
        before it) and pooled over all series per step; the conformal quantile of step
        ``j`` times a series' scale at the forecast origin is the half-width (see
        :mod:`seqlab.forecast.conformal`). It costs ``k`` more fits per model and
        window, and the coverage it promises is over series, not for each one.
    progress : bool
        A tqdm bar of series done on stderr, drawn once local models have run two
        seconds (default True).

    Raises
    ------
    TypeError, ValueError
        From the methods, for bad frames and arguments; a model that fails on a series
        raises ValueError naming the model and the series.
    """

    def __init__(
        self,
        models: Any,
        freq: Any = None,
        backend: str = "serial",
        *,
        n_jobs: int | None = None,
        batch_size: int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        conformal_windows: int | None = None,
        progress: bool = True,
    ) -> None:
        self.models = models
        self.freq = freq
        self.backend = backend
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.conformal_windows = conformal_windows
        self.progress = progress

    # -- checks -------------------------------------------------------------------
    def _setup(self) -> tuple[dict[str, Any], int]:
        named = _named_models(self.models)
        n_jobs = check_workers(self.backend, self.n_jobs, self.batch_size)
        if self.conformal_windows is not None:
            check_int(self.conformal_windows, "conformal_windows", minimum=1)
        return named, n_jobs

    def _series(self, df: Any) -> tuple[list[Series], Calendar, list[str]]:
        return prepare(df, self.id_col, self.time_col, self.target_col, self.freq)

    def _futures(
        self, X_df: Any, series: list[Series], calendar: Calendar, h: int, exog_cols: list[str]
    ) -> list[np.ndarray | None]:
        futures, _ = future_regressors(
            X_df, series, calendar, h, exog_cols, self.id_col, self.time_col
        )
        return futures

    def _check_regressors(self, named: dict[str, Any], exog_cols: list[str]) -> None:
        if not exog_cols:
            return
        unable = [
            alias
            for alias, model in named.items()
            if _is_global(model) or not _takes_regressors(model)
        ]
        if unable:
            raise ValueError(
                f"df has regressor columns {exog_cols}, but model(s) {unable} cannot use "
                "regressors (their forecast() takes no X); drop those columns, or forecast "
                "those models on a frame of unique_id, ds, y only."
            )

    # -- fit / predict ------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> Forecasts:
        """Fit every model to every series of ``df`` and keep the fitted models.

        On a parallel backend the fitted local models come back to this process by
        pickle; :meth:`forecast` avoids that when only the forecasts are needed.
        """
        named, n_jobs = self._setup()
        series, calendar, exog_cols = self._series(df)
        self._check_regressors(named, exog_cols)
        local = {a: m for a, m in named.items() if not _is_global(m)}
        jobs = [Job(i, s.uid, s.y, s.X, (s.y.size,), None) for i, s in enumerate(series)]
        results = (
            _run_local(
                jobs,
                LocalCall(local, 1, (), keep=True),
                self.backend,
                n_jobs,
                self.batch_size,
                self.progress,
            )
            if local
            else []
        )
        self.fitted_local_ = [result.fitted for result in results]
        self.fitted_global_ = {
            alias: _fit_global(alias, model, [s.y for s in series])
            for alias, model in named.items()
            if _is_global(model)
        }
        self.aliases_ = list(named)
        self.series_ = series
        self.calendar_ = calendar
        self.exog_cols_ = exog_cols
        return self

    def predict(
        self, h: int, level: Sequence[float] | None = None, X_df: Any = None
    ) -> pd.DataFrame:
        """Forecast ``h`` steps after each series' end with the models :meth:`fit` kept."""
        if not hasattr(self, "series_"):
            raise ValueError("This Forecasts is not fitted yet. Call 'fit' first.")
        h = check_horizon(h)
        levels = check_levels(level)
        if levels and self.conformal_windows is not None:
            raise ValueError(
                "conformal_windows needs fits before the forecast origin, which fit() did not "
                "keep; use forecast(df, h, level) for conformal intervals, or level=None."
            )
        series = self.series_
        futures = self._futures(X_df, series, self.calendar_, h, self.exog_cols_)
        blocks: dict[str, list[np.ndarray]] = {}
        for i, s in enumerate(series):
            for alias, model in (self.fitted_local_[i] or {}).items():
                what = f"series {s.uid!r}"
                try:
                    fc = forecast_with(model, h, levels, futures[i])
                    cols = forecast_columns(alias, fc, levels, h, what)
                except ValueError as exc:
                    raise ValueError(f"model {alias!r} on {what}: {exc}") from None
                for name, values in cols.items():
                    blocks.setdefault(name, []).append(values)
        for alias, model in self.fitted_global_.items():
            for name, values in _forecast_global(alias, model, h, levels, series).items():
                blocks[name] = values
        return self._frame(series, [(s.y.size,) for s in series], h, blocks, levels, cv=False)

    def forecast(
        self,
        df: pd.DataFrame,
        h: int,
        level: Sequence[float] | None = None,
        X_df: Any = None,
    ) -> pd.DataFrame:
        """Fit every model to every series of ``df`` and forecast ``h`` steps ahead.

        Returns the long frame ``unique_id, ds, <alias>, <alias>-lo-<level>,
        <alias>-hi-<level>, ...`` with the ``h`` stamps after each series' end. The
        fitted models are not kept (see :meth:`fit`).
        """
        named, n_jobs = self._setup()
        h = check_horizon(h)
        levels = check_levels(level)
        series, calendar, exog_cols = self._series(df)
        self._check_regressors(named, exog_cols)
        futures = self._futures(X_df, series, calendar, h, exog_cols)
        jobs = [Job(i, s.uid, s.y, s.X, (s.y.size,), futures[i]) for i, s in enumerate(series)]
        ends = [(s.y.size,) for s in series]
        blocks = self._run(named, jobs, series, ends, h, levels, n_jobs)
        self._conformal(named, series, ends, h, levels, n_jobs, blocks)
        self.calendar_ = calendar
        return self._frame(series, ends, h, blocks, levels, cv=False, calendar=calendar)

    def cross_validation(
        self,
        df: pd.DataFrame,
        h: int,
        n_windows: int = 1,
        step_size: int | None = None,
        level: Sequence[float] | None = None,
    ) -> pd.DataFrame:
        """Rolling-origin forecasts of every model on every series (refit per window).

        Window ``i`` of a series of ``n`` rows forecasts rows
        ``[n - h - (n_windows - 1 - i) * step_size, ... + h)`` from the rows before them
        (statsforecast's definition: the last window ends at the last observation).
        ``step_size`` defaults to ``h``.

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, cutoff, y`` and the model columns, one row per (series,
            window, step); ``cutoff`` is the stamp of the last row the models saw.

        Raises
        ------
        ValueError
            A series is too short for the windows (its name and length are given).
        """
        named, n_jobs = self._setup()
        h = check_horizon(h)
        n_windows = check_int(n_windows, "n_windows", minimum=1)
        step_size = h if step_size is None else check_int(step_size, "step_size", minimum=1)
        levels = check_levels(level)
        series, calendar, exog_cols = self._series(df)
        self._check_regressors(named, exog_cols)
        span = h + (n_windows - 1) * step_size
        ends = []
        for s in series:
            if s.y.size - span < 1:
                raise ValueError(
                    f"series {s.uid!r} has {s.y.size} rows; {n_windows} window(s) of h={h} "
                    f"every {step_size} need more than h + (n_windows - 1) * step_size = {span}."
                )
            ends.append(tuple(s.y.size - span + w * step_size for w in range(n_windows)))
        jobs = [Job(i, s.uid, s.y, s.X, ends[i], None) for i, s in enumerate(series)]
        blocks = self._run(named, jobs, series, ends, h, levels, n_jobs)
        self._conformal(named, series, ends, h, levels, n_jobs, blocks)
        return self._frame(series, ends, h, blocks, levels, cv=True, calendar=calendar)

    # -- internals ----------------------------------------------------------------
    def _conformal(self, named, series, ends, h, levels, n_jobs, blocks) -> None:
        """Replace every model's interval columns in ``blocks`` by cross-series conformal
        ones (see ``conformal_windows``); nothing without it or without levels."""
        k = self.conformal_windows
        if k is None or not levels:
            return
        cal_ends = []
        for s, targets in zip(series, ends, strict=True):
            cal = tuple(end - h * (k - j) for end in targets for j in range(k))
            if min(cal) < 2:
                raise ValueError(
                    f"series {s.uid!r} has {min(targets)} rows before its first forecast "
                    f"origin; conformal_windows={k} windows of h={h} need more than {k * h + 1}."
                )
            cal_ends.append(cal)
        jobs = [Job(i, s.uid, s.y, s.X, cal_ends[i], None) for i, s in enumerate(series)]
        cal_blocks = self._run(named, jobs, series, cal_ends, h, (), n_jobs)
        n_targets = len(ends[0])
        for alias in named:
            # scores[w]: (series * k, h) for target window w
            scores = [[] for _ in range(n_targets)]
            for i, s in enumerate(series):
                forecasts = cal_blocks[alias][i].reshape(n_targets, k, h)
                for w in range(n_targets):
                    for j in range(k):
                        origin = cal_ends[i][w * k + j]
                        error = np.abs(s.y[origin : origin + h] - forecasts[w, j])
                        scores[w].append(error / _change_scale(s.y[:origin]))
            calibrations = [
                ConformalScores.from_forecasts(
                    np.stack(rows),
                    np.zeros((len(rows), h)),
                    source=f"{len(rows)} windows: {k} before the origin of each of "
                    f"{len(series)} series",
                    remedy="Raise conformal_windows or give more series, or leave level out.",
                )
                for rows in scores
            ]
            for lv in levels:
                lower, upper = [], []
                try:
                    widths = [cal.half_widths(h, lv) for cal in calibrations]
                except ValueError as exc:
                    raise ValueError(f"model {alias!r}: {exc}") from None
                for i, s in enumerate(series):
                    mean = blocks[alias][i].reshape(n_targets, h)
                    scale = np.array([_change_scale(s.y[:end]) for end in ends[i]])[:, None]
                    half = np.stack(widths) * scale  # (targets, h)
                    lower.append((mean - half).reshape(-1))
                    upper.append((mean + half).reshape(-1))
                blocks[f"{alias}-lo-{lv:g}"] = lower
                blocks[f"{alias}-hi-{lv:g}"] = upper

    def _run(self, named, jobs, series, ends, h, levels, n_jobs) -> dict[str, Any]:
        if self.conformal_windows is not None:
            levels = ()  # the models' own intervals are replaced (and may not exist)
        local = {a: m for a, m in named.items() if not _is_global(m)}
        blocks: dict[str, Any] = {}
        if local:
            call = LocalCall(local, h, levels, keep=False)
            results = _run_local(jobs, call, self.backend, n_jobs, self.batch_size, self.progress)
            for result in results:
                for name, values in result.columns.items():
                    blocks.setdefault(name, []).append(values)
        for alias, model in named.items():
            if not _is_global(model):
                continue
            per_window = []
            for w in range(len(ends[0])):
                fitted = _fit_global(
                    alias, model, [s.y[: e[w]] for s, e in zip(series, ends, strict=True)]
                )
                per_window.append(_forecast_global(alias, fitted, h, levels, series))
            for name in per_window[0]:
                # series-major, then window, then step, like the local blocks
                blocks[name] = [
                    np.concatenate([window[name][i] for window in per_window])
                    for i in range(len(series))
                ]
        return blocks

    def _frame(
        self,
        series: list[Series],
        ends: list[tuple[int, ...]],
        h: int,
        blocks: dict[str, list[np.ndarray]],
        levels: tuple,
        *,
        cv: bool,
        calendar: Calendar | None = None,
    ) -> pd.DataFrame:
        calendar = calendar or self.calendar_
        positions, stamps, cutoffs, actual = [], [], [], []
        for i, (s, series_ends) in enumerate(zip(series, ends, strict=True)):
            for end in series_ends:
                positions.append(np.full(h, i))
                if cv:
                    stamps.append(s.ds[end : end + h])
                    cutoffs.append(s.ds[[end - 1] * h])
                    actual.append(s.y[end : end + h])
                else:
                    stamps.append(calendar.after(s.ds[-1], h))
        uids = pd.Index([s.uid for s in series])
        columns: dict[str, Any] = {
            self.id_col: uids.take(np.concatenate(positions)),
            self.time_col: _concat_index(stamps),
        }
        if cv:
            columns["cutoff"] = _concat_index(cutoffs)
            columns[self.target_col] = np.concatenate(actual)
        order = []
        for alias in _named_models(self.models):
            order.append(alias)
            for lv in levels:
                order += [f"{alias}-lo-{lv:g}", f"{alias}-hi-{lv:g}"]
        for name in order:
            columns[name] = np.concatenate(blocks[name])
        return pd.DataFrame(columns)


def _concat_index(parts: list[Any]) -> Any:
    return pd.Index(parts[0]).append([pd.Index(p) for p in parts[1:]]) if parts else pd.Index([])


def _fit_global(alias: str, model: Any, values: list[np.ndarray]) -> Any:
    try:
        return copy.deepcopy(model).fit(values)
    except ValueError as exc:
        raise ValueError(f"global model {alias!r}: {exc}") from None


def _forecast_global(
    alias: str, model: Any, h: int, levels: tuple, series: list[Series]
) -> dict[str, Any]:
    """Column name -> one ``(h,)`` array per series, in the order of ``series``."""
    try:
        forecasts = model.forecast(h, level=levels)
        if isinstance(forecasts, Mapping):
            forecasts = list(forecasts.values())
        out: dict[str, list[np.ndarray]] = {}
        for s, fc in zip(series, forecasts, strict=True):
            for name, values in forecast_columns(alias, fc, levels, h, f"series {s.uid!r}").items():
                out.setdefault(name, []).append(values)
    except ValueError as exc:
        raise ValueError(f"global model {alias!r}: {exc}") from None
    return out


# ---------------------------------------------------------------------- evaluate
_POINT = ("mae", "rmse", "smape", "mase")
_INTERVAL = ("coverage", "width")


def evaluate(
    cv: pd.DataFrame,
    metrics: Sequence[str] = ("mae", "rmse", "smape", "mase", "coverage", "width"),
    *,
    train_df: pd.DataFrame | None = None,
    season_length: int = 1,
    models: Sequence[str] | None = None,
    level: Sequence[float] | None = None,
    agg: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Score a :meth:`Forecasts.cross_validation` frame per series and per model.

    Each metric pools every (window, step) row of a series, except MASE, which is the
    mean over the series' windows of the window's MASE, scaled by the in-sample
    seasonal naive MAE (lag ``season_length``) of the rows of ``train_df`` up to that
    window's cutoff (the information the model had). Interval metrics are per level:
    ``coverage-<level>`` is the percentage of actuals inside ``[lo, hi]`` (to be
    compared with the level itself) and ``width-<level>`` the mean of ``hi - lo``.

    Parameters
    ----------
    cv : pandas.DataFrame
        Output of ``cross_validation`` (``unique_id, ds, cutoff, y`` and model columns);
        the output of ``forecast`` merged with the actuals as ``y`` works too (no MASE).
    metrics : sequence of str
        Any of "mae", "rmse", "smape", "mase", "coverage", "width".
    train_df : pandas.DataFrame, optional
        The frame that was cross-validated (``unique_id, ds, y``); needed for "mase".
    season_length : int
        The MASE scale's lag ``m``.
    models : sequence of str, optional
        Aliases to score (default: every model column of ``cv``).
    level : sequence of float, optional
        Levels for the interval metrics (default: every level present in ``cv``).
    agg : {None, "mean"}
        None: one row per (series, metric); "mean": the mean over series, one row per
        metric.

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id, metric`` (just ``metric`` with ``agg="mean"``) and one
        column per model.

    Raises
    ------
    ValueError
        An unknown metric, a missing column, "mase" without ``train_df``, or a model
        without the requested level's interval columns.
    """
    if not isinstance(cv, pd.DataFrame):
        raise TypeError(f"cv must be a pandas DataFrame, got {type(cv).__name__}.")
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in _POINT + _INTERVAL]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(_POINT + _INTERVAL)}.")
    if agg not in (None, "mean"):
        raise ValueError(f"agg must be None or 'mean', got {agg!r}.")
    season_length = check_int(season_length, "season_length", minimum=1)
    missing = [c for c in (id_col, target_col) if c not in cv.columns]
    if missing:
        raise ValueError(f"cv lacks the column(s) {missing}; pass a cross_validation frame.")
    reserved = {id_col, time_col, target_col, "cutoff"}
    if models is None:
        models = [
            c for c in cv.columns if c not in reserved and "-lo-" not in c and "-hi-" not in c
        ]
    else:
        absent = [m for m in models if m not in cv.columns]
        if absent:
            raise ValueError(
                f"cv has no column(s) {absent}; its models are ... {list(cv.columns)}."
            )
    if level is None:
        found = {c.rsplit("-lo-", 1)[1] for c in cv.columns if "-lo-" in c}
        levels = sorted(found, key=float)
    else:
        levels = [f"{lv:g}" for lv in check_levels(level)]
    scales = None
    if "mase" in metrics:
        if train_df is None:
            raise ValueError("metric 'mase' needs train_df= (the frame that was cross-validated).")
        if "cutoff" not in cv.columns:
            raise ValueError("metric 'mase' needs the 'cutoff' column of a cross_validation frame.")
        scales = _mase_scales(cv, train_df, season_length, id_col, time_col, target_col)
    rows = []
    for uid, part in cv.groupby(id_col, sort=False):
        y = part[target_col].to_numpy(dtype=np.float64)
        for metric in metrics:
            names = [metric] if metric in _POINT else [f"{metric}-{lv}" for lv in levels]
            for name in names:
                row: dict[str, Any] = {id_col: uid, "metric": name}
                for alias in models:
                    row[alias] = _score(metric, name, alias, part, y, scales, uid)
                rows.append(row)
    table = pd.DataFrame(rows, columns=[id_col, "metric", *models])
    if agg == "mean":
        table = table.drop(columns=id_col).groupby("metric", sort=False).mean().reset_index()
    return table


def _score(metric, name, alias, part, y, scales, uid) -> float:
    f = part[alias].to_numpy(dtype=np.float64)
    if metric == "mae":
        return _metrics.mae(y, f)
    if metric == "rmse":
        return _metrics.rmse(y, f)
    if metric == "smape":
        return _metrics.smape(y, f)
    if metric == "mase":
        per_window = []
        for cutoff, rows in part.groupby("cutoff", sort=False).indices.items():
            error = _metrics.mae(y[rows], f[rows])
            scale = scales[(uid, cutoff)]
            per_window.append(
                (0.0 if error == 0 else float("inf")) if scale == 0 else error / scale
            )
        return float(np.mean(per_window))
    level = name.split("-", 1)[1]
    lo_col, hi_col = f"{alias}-lo-{level}", f"{alias}-hi-{level}"
    if lo_col not in part.columns or hi_col not in part.columns:
        raise ValueError(f"model {alias!r} has no {level}% interval columns ({lo_col}, {hi_col}).")
    lower, upper = part[lo_col].to_numpy(np.float64), part[hi_col].to_numpy(np.float64)
    if metric == "coverage":
        return _metrics.coverage(y, lower, upper)
    return _metrics.interval_width(lower, upper)


def _mase_scales(cv, train_df, m, id_col, time_col, target_col) -> dict:
    check_long_frame(train_df, id_col, time_col, target_col, "train_df")
    history = {
        uid: part.sort_values(time_col) for uid, part in train_df.groupby(id_col, sort=False)
    }
    scales = {}
    for (uid, cutoff), _ in cv.groupby([id_col, "cutoff"], sort=False):
        if uid not in history:
            raise ValueError(f"train_df has no series {uid!r}; MASE needs its history.")
        part = history[uid]
        seen = part.loc[part[time_col] <= cutoff, target_col].to_numpy(dtype=np.float64)
        scales[(uid, cutoff)] = _metrics.mase_scale(seen, m)
    return scales

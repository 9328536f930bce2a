"""Rolling-origin evaluation (time-series cross-validation) of any forecasters.

Origins ``o_0 < o_1 < ...`` are row counts: at origin ``o`` a model sees rows
``[0, o)`` (``window="expanding"``) or ``[o - window_size, o)`` (``"sliding"``) and
forecasts rows ``[o, o + horizon)``. The first origin is ``initial``, the next ones
come every ``step`` rows while a full horizon of actuals remains (Tashman 2000,
"Out-of-sample tests of forecasting accuracy"; Hyndman & Athanasopoulos, FPP3 5.10).

Re-estimation: at origin number ``k`` a model is refit when ``k % refit_every == 0``
(``refit_every=None``: only at the first origin, the usual train/test evaluation); in
between, a model that defines ``update(y, X)`` only absorbs the new observations
with its parameters kept, and a model without ``update`` (the baselines, whose fit is
bookkeeping) is refit. Each model is deep-copied first, so the caller's objects are
left untouched. A model that cannot give an interval at a level (a recurrent model
whose hold-out holds too few errors; :class:`~seqlab.forecast.conformal.LevelUnavailableError`)
keeps its point forecasts, with NaN interval columns and a logged warning.

Scores: MAE, RMSE, MAPE and sMAPE pool every (origin, step) point; MASE is the mean
over origins of each origin's MASE, scaled by that origin's training rows (the
information a forecaster had then).
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqlab._progress import bar as progress_bar
from seqlab._validation import as_float_series, check_int
from seqlab.forecast import metrics
from seqlab.forecast.base import Forecaster, check_features, check_levels
from seqlab.forecast.conformal import LevelUnavailableError

__all__ = ["BacktestResult", "backtest", "origins"]


logger = logging.getLogger(__name__)


def origins(n: int, horizon: int, initial: int, step: int = 1) -> np.ndarray:
    """Origins (training row counts) ``initial, initial + step, ...`` with a full horizon left."""
    if initial < 1:
        raise ValueError(f"initial must leave at least one training row, got {initial}.")
    if initial + horizon > n:
        raise ValueError(
            f"no forecast origin fits: initial {initial} + horizon {horizon} = "
            f"{initial + horizon} rows are needed, the series has {n}."
        )
    return np.arange(initial, n - horizon + 1, step, dtype=np.int64)


@dataclass
class BacktestResult:
    """``forecasts``: one row per (model, origin, step) with ``actual``, ``mean`` and
    interval columns; ``metrics``: one row per model; ``by_step``: per model and step."""

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    by_step: pd.DataFrame
    series: pd.Series

    def table(self) -> str:
        return self.metrics.to_string(float_format=lambda v: f"{v:.4g}")

    def plot(
        self,
        path: str | os.PathLike | None = None,
        *,
        model: str | None = None,
        windows: int = 3,
        context: int | None = None,
        ax=None,
    ):
        """The last ``windows`` origins' forecasts over the actuals around them.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Where to write the PNG; nothing is written without it.
        model : str, optional
            Draw only this model, with its intervals. By default every model is drawn;
            intervals are shaded when there is only one model.
        windows : int
            How many of the last origins to draw (all of them when there are fewer).
            Each draws its whole horizon from its cutoff (a dotted line).
        context : int, optional
            Observed rows shown before the first drawn origin; default: one horizon.
        ax : matplotlib.axes.Axes, optional
            Draw into this axes; by default a new figure is made.

        Returns
        -------
        matplotlib.figure.Figure
            See :func:`seqlab.plot.plot_backtest`.
        """
        from seqlab.plot import plot_backtest

        windows = check_int(windows, "windows", minimum=1)
        names = list(self.metrics.index)
        if model is not None:
            if model not in names:
                raise ValueError(f"no model named {model!r}; the models are {names}.")
            names = [model]
        frame = self.forecasts[self.forecasts["model"].isin(names)]
        start_rows = (frame["row"] - frame["step"] + 1).to_numpy()
        shown = np.unique(start_rows)[-windows:]
        horizon = int(frame["step"].max())
        context = horizon if context is None else check_int(context, "context", minimum=0)
        first = max(int(shown[0]) - context, 0)
        last = int(frame.loc[start_rows == shown[-1], "row"].max())
        index = self.series.index
        shaded = len(names) == 1
        drawn = []
        for origin in shown:
            for name in names:
                part = frame[(start_rows == origin) & (frame["model"] == name)]
                x = index[part["row"].to_numpy()]
                intervals = {}
                if shaded:
                    for col in part.columns:
                        upper = col.replace("lower", "upper")
                        if col.startswith("lower_") and part[col].notna().all():
                            intervals[float(col.split("_", 1)[1])] = (
                                pd.Series(part[col].to_numpy(), index=x),
                                pd.Series(part[upper].to_numpy(), index=x),
                            )
                drawn.append(
                    {
                        "cutoff": index[int(origin) - 1],
                        "model": name,
                        "mean": pd.Series(part["mean"].to_numpy(), index=x),
                        "intervals": intervals,
                    }
                )
        label = names[0] if len(names) == 1 else "Backtest"
        return plot_backtest(
            self.series.iloc[first : last + 1],
            drawn,
            path,
            title=f"{label}: the last {len(shown)} of {np.unique(start_rows).size} origins, "
            f"horizon {horizon}",
            ax=ax,
        )


def _named(models) -> dict[str, Forecaster]:
    if isinstance(models, Mapping):
        named = dict(models)
    elif isinstance(models, Sequence) and not isinstance(models, str):
        named = {}
        for model in models:
            name = getattr(model, "label", type(model).__name__)
            if name in named:
                raise ValueError(
                    f"two models are labelled {name!r}; pass a dict {{name: model}} instead."
                )
            named[name] = model
    else:
        raise TypeError(
            f"models must be a dict or a list of forecasters, got {type(models).__name__}."
        )
    if not named:
        raise ValueError("models is empty; pass at least one forecaster.")
    for name, model in named.items():
        if not (hasattr(model, "fit") and hasattr(model, "predict")):
            raise TypeError(f"model {name!r} has no fit/predict methods: {model!r}.")
    return named


def backtest(
    models,
    series,
    horizon: int,
    *,
    X=None,
    initial: int | float = 0.8,
    step: int = 1,
    window: str = "expanding",
    window_size: int | None = None,
    refit_every: int | None = 1,
    level: Sequence[float] | None = (80, 95),
    m: int = 1,
    progress: bool = True,
) -> BacktestResult:
    """Rolling-origin backtest of ``models`` (a dict name -> forecaster, or a list).

    ``initial``: the first origin, as a row count (int) or a fraction of the series
    (float). ``window_size`` (sliding only) defaults to ``initial``. ``X``: feature
    rows aligned with ``series``, passed (cut like the series) to each ``fit``. ``m``:
    the seasonal period of the MASE scale. ``progress``: a tqdm bar of fits on stderr,
    drawn once the backtest has run two seconds.
    """
    named = _named(models)
    values = as_float_series(series, "series")
    index = getattr(series, "index", None)
    index = index if isinstance(index, pd.Index) else pd.RangeIndex(values.size)
    n = values.size
    features = check_features(X, n)
    horizon = check_int(horizon, "horizon", minimum=1)
    step = check_int(step, "step", minimum=1)
    if refit_every is not None:
        refit_every = check_int(refit_every, "refit_every", minimum=1)
    m = check_int(m, "m", minimum=1)
    levels = check_levels(level)
    if isinstance(initial, float):
        if not 0.0 < initial < 1.0:
            raise ValueError(f"initial as a fraction must be in (0, 1), got {initial}.")
        initial = round(initial * n)
    initial = check_int(initial, "initial", minimum=1)
    if window not in ("expanding", "sliding"):
        raise ValueError(f"window must be 'expanding' or 'sliding', got {window!r}.")
    if window == "sliding":
        window_size = (
            initial if window_size is None else check_int(window_size, "window_size", minimum=2)
        )
        if window_size > initial:
            raise ValueError(f"window_size {window_size} exceeds the first origin {initial}.")
    cut_points = origins(n, horizon, initial, step)

    rows = []
    scores = []
    fit_times: dict[str, float] = {}
    bar = progress_bar(progress, "backtest", len(named) * len(cut_points), "origin")
    try:
        for name, prototype in named.items():
            model = copy.deepcopy(prototype)
            can_update = callable(getattr(model, "update", None))
            fit_seconds = 0.0
            bar.set_postfix_str(name, refresh=False)
            for k, origin in enumerate(cut_points):
                bar.update(1)
                start = 0 if window == "expanding" else origin - window_size
                y_train = values[start:origin]
                x_train = None if features is None else features[start:origin]
                due = k == 0 if refit_every is None else k % refit_every == 0
                if due or not can_update:
                    began = time.perf_counter()
                    _call(model.fit, y_train, x_train)
                    fit_seconds += time.perf_counter() - began
                else:
                    _call(model.update, y_train, x_train)
                try:
                    fc = model.forecast(horizon, level=levels)
                except LevelUnavailableError as exc:
                    # The table keeps the point forecasts; the interval columns stay NaN.
                    if k == 0:
                        logger.warning("backtest %s: no intervals: %s", name, exc)
                    fc = model.forecast(horizon, level=None)
                actual = values[origin : origin + horizon]
                mean = np.asarray(fc.mean, dtype=np.float64)
                for s in range(horizon):
                    row = {
                        "model": name,
                        "origin": index[origin - 1],
                        "row": int(origin + s),
                        "time": index[origin + s],
                        "step": s + 1,
                        "actual": actual[s],
                        "mean": mean[s],
                    }
                    for lv in levels:
                        row[f"lower_{lv:g}"] = fc.lower[lv][s] if lv in fc.lower else np.nan
                        row[f"upper_{lv:g}"] = fc.upper[lv][s] if lv in fc.upper else np.nan
                    rows.append(row)
                scores.append(
                    {
                        "model": name,
                        "origin": int(origin),
                        "mase": metrics.mase(actual, mean, y_train, m),
                    }
                )
            logger.info(
                "backtest %s: %d origins, %.2f s fitting", name, len(cut_points), fit_seconds
            )
            fit_times[name] = fit_seconds
    finally:
        bar.close()  # also on an error: the bar is cleared, not left half drawn

    forecasts = pd.DataFrame(rows)
    per_origin = pd.DataFrame(scores)
    table = []
    for name in named:
        part = forecasts[forecasts["model"] == name]
        y, f = part["actual"].to_numpy(), part["mean"].to_numpy()
        table.append(
            {
                "model": name,
                "mae": metrics.mae(y, f),
                "rmse": metrics.rmse(y, f),
                "mape": metrics.mape(y, f),
                "smape": metrics.smape(y, f),
                "mase": float(per_origin.loc[per_origin["model"] == name, "mase"].mean()),
                "origins": len(cut_points),
                "fit_seconds": fit_times[name],
            }
        )
    by_step = []
    for (name, s), part in forecasts.groupby(["model", "step"], sort=False):
        y, f = part["actual"].to_numpy(), part["mean"].to_numpy()
        scale = np.array(
            [
                metrics.mase_scale(_train(values, o, window, window_size), m)
                for o in part["row"] - (s - 1)
            ]
        )
        by_step.append(
            {
                "model": name,
                "step": s,
                "mae": metrics.mae(y, f),
                "rmse": metrics.rmse(y, f),
                "mase": float(np.mean(np.abs(y - f) / scale)),
            }
        )
    return BacktestResult(
        forecasts=forecasts,
        metrics=pd.DataFrame(table).set_index("model"),
        by_step=pd.DataFrame(by_step).set_index(["model", "step"]),
        series=pd.Series(values, index=index),
    )


def _call(method, y: np.ndarray, x: np.ndarray | None) -> None:
    # Baselines take only y; pass features only where there are some.
    if x is None:
        method(y)
    else:
        method(y, x)


def _train(values: np.ndarray, origin: int, window: str, window_size: int | None) -> np.ndarray:
    start = 0 if window == "expanding" else origin - window_size
    return values[start:origin]

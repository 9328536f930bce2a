"""Split-conformal prediction intervals from a forecaster's own rolling-origin errors.

A model that has no predictive distribution (the recurrent forecasters, the hybrid)
still has errors it made on data it did not train on: its validation hold-out. From
each origin ``o_k`` inside the hold-out the fitted model forecasts the next ``H`` steps
and each step ``j`` gives a nonconformity score

    s_{k,j} = |y_{o_k + j} - f_{o_k + j | o_k}|

in the units the model forecasts in (a network's scaled space, each series scaled by
its own training rows, so a global model can pool its series' scores). Steps past the
end of the data are missing (NaN), so step ``j`` has ``n_j`` scores.

For a level ``L`` (percent) the half-width at step ``j`` is the split-conformal
quantile (Vovk, Gammerman & Shafer 2005; Lei, G'Sell, Rinaldo, Tibshirani &
Wasserman 2018, eq. (3) for the finite-sample correction)

    q_j = the ceil((n_j + 1) L / 100)-th smallest of the n_j scores of step j,

and the interval is ``f_{T+j} +- q_j`` (mapped back through the model's scaling). If
the calibration errors and the future error are exchangeable, the interval covers
with probability at least ``L / 100`` (and below
``L / 100 + 1 / (n_j + 1)`` for continuous scores); per-step quantiles follow
Stankeviciute, Alaa & van der Schaar (2021), "Conformal time-series forecasting",
without their Bonferroni correction, so the coverage is per step, not joint over the
horizon. When ``ceil((n_j + 1) L / 100) > n_j`` no finite quantile exists: the level
cannot be honoured and :meth:`ConformalScores.half_widths` raises ValueError saying how
many scores it needs.

:class:`ConformalForecaster` gives any forecaster (ARIMA, the baselines, the hybrid) such
intervals by holding out its last rows: split conformal with the parameters estimated
before the hold-out.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqlab._validation import check_horizon, check_int, check_levels
from seqlab.forecast.base import Forecast, Forecaster

__all__ = [
    "ConformalForecaster",
    "ConformalScores",
    "LevelUnavailableError",
    "conformal_quantile",
    "needed_scores",
]


def _change_scale(values: np.ndarray) -> float:
    """Mean absolute first difference of ``values`` (a series' scale at an origin, which
    cross-series conformal scores are divided by); floored at a tiny fraction of the
    level so a flat stretch cannot divide by 0."""
    if values.size < 2:
        return max(abs(float(values[0])), 1.0) if values.size else 1.0
    scale = float(np.mean(np.abs(np.diff(values))))
    return max(scale, 1e-8 * (1.0 + float(np.mean(np.abs(values)))))


class LevelUnavailableError(ValueError):
    """A model cannot give an interval at the requested level (too few calibration errors,
    a horizon past the calibrated one, or no calibration at all)."""


def needed_scores(level: float) -> int:
    """The fewest scores ``n`` for which ``ceil((n + 1) level / 100) <= n``."""
    # ceil((n+1) a) <= n  <=>  (n+1) a <= n  <=>  n >= a / (1 - a)
    fraction = level / 100.0
    return max(1, math.ceil(fraction / (1.0 - fraction) - 1e-12))


def conformal_quantile(scores, level: float) -> float:
    """The split-conformal quantile: the ``ceil((n + 1) level / 100)``-th smallest score.

    Raises
    ------
    ValueError
        Fewer than :func:`needed_scores` (``level``) scores.
    """
    values = np.sort(np.asarray(scores, dtype=np.float64))
    n = values.size
    rank = math.ceil((n + 1) * level / 100.0 - 1e-12)
    if rank > n:
        raise ValueError(
            f"a {level:g}% conformal interval needs at least {needed_scores(level)} "
            f"calibration errors, got {n}."
        )
    return float(values[max(rank, 1) - 1])


@dataclass(frozen=True)
class ConformalScores:
    """Calibration scores ``(K, H)`` of one fitted model (NaN where a step is missing).

    ``source`` says where they came from and ``remedy`` what gives more of them; both
    go into the error raised for a level that cannot be honoured.
    """

    scores: np.ndarray
    source: str
    remedy: str

    @classmethod
    def from_forecasts(
        cls,
        actual: np.ndarray,
        forecast: np.ndarray,
        *,
        source: str,
        remedy: str,
    ) -> ConformalScores:
        """Scores ``|actual - forecast|`` from ``(K, H)`` arrays."""
        actual = np.asarray(actual, dtype=np.float64)
        forecast = np.asarray(forecast, dtype=np.float64)
        if actual.shape != forecast.shape or actual.ndim != 2:
            raise ValueError(
                f"actual and forecast must be (K, H) arrays of one shape, got "
                f"{actual.shape} and {forecast.shape}."
            )
        return cls(scores=np.abs(actual - forecast), source=source, remedy=remedy)

    @property
    def horizon(self) -> int:
        return int(self.scores.shape[1])

    def counts(self) -> np.ndarray:
        """Number of scores per step, (H,)."""
        return np.sum(~np.isnan(self.scores), axis=0)

    def half_widths(self, h: int, level: float) -> np.ndarray:
        """Half-widths ``q_1..q_h`` (in score units) of the ``level`` % interval.

        Raises
        ------
        LevelUnavailableError
            ``h`` exceeds the calibrated horizon, or a step has too few scores for
            ``level`` (the message names the step, the count and the remedy).
        """
        h = check_horizon(h)
        (level,) = check_levels(level)
        if h > self.horizon:
            raise LevelUnavailableError(
                f"conformal intervals were calibrated for {self.horizon} steps ({self.source}); "
                f"h={h} is further. {self.remedy}"
            )
        out = np.empty(h)
        for j in range(h):
            column = self.scores[:, j]
            column = column[~np.isnan(column)]
            if column.size < needed_scores(level):
                raise LevelUnavailableError(
                    f"a {level:g}% conformal interval needs at least {needed_scores(level)} "
                    f"calibration errors per step; step {j + 1} has {column.size} "
                    f"({self.source}). {self.remedy}"
                )
            out[j] = conformal_quantile(column, level)
        return out


class ConformalForecaster(Forecaster):
    """Any forecaster with split-conformal intervals from its own rolling-origin errors.

    ``fit(y)`` with ``n`` observations and ``V = hold_out``: a copy of ``model`` is fitted
    to ``y[:n - V]``; from each origin ``o = n - V .. n - 1`` it forecasts ``horizon``
    steps from ``y[:o]`` (after ``update(y[:o])`` where the model has ``update``, which
    keeps the parameters estimated on ``y[:n - V]``; else after a refit on ``y[:o]``)
    and the absolute errors score each step (the module docstring gives the quantile).
    Then a fresh copy is fitted to all of ``y`` and gives the point forecasts, with
    the half-widths of the hold-out around them. The model's own intervals, if any, are
    not used. Its parameters never see the hold-out, so the errors are honest
    out-of-sample errors (cross-validation conformal when the model is refitted).

    Parameters
    ----------
    model : Forecaster
        The point forecaster (copied, never changed).
    horizon : int
        The longest ``h`` intervals are wanted for.
    hold_out : int, optional
        Rows held out; default ``horizon + 18``, the fewest for a 95 % interval at step
        ``horizon`` (19 errors).
    """

    def __init__(self, model: Forecaster, horizon: int, hold_out: int | None = None) -> None:
        self.model = model
        self.horizon = horizon
        self.hold_out = hold_out

    @property
    def label(self) -> str:  # type: ignore[override]
        return str(getattr(self.model, "label", type(self.model).__name__))

    def fit(self, y, X=None, *, freq=None) -> ConformalForecaster:
        """Score the model's hold-out errors, then fit it to all of ``y``; ``freq``
        dates the forecasts of a dated ``y`` (see :mod:`seqlab.forecast.base`)."""
        if X is not None:
            raise ValueError(
                "ConformalForecaster forecasts from y alone (X=None); its forecast() "
                "takes no future regressors."
            )
        horizon = check_horizon(self.horizon, "horizon")
        hold_out = horizon + needed_scores(95) - 1 if self.hold_out is None else self.hold_out
        hold_out = check_int(hold_out, "hold_out", minimum=1)
        values = self._series(y, freq=freq)
        first = values.size - hold_out
        if first < 2:
            raise ValueError(
                f"y has {values.size} observations; holding out {hold_out} leaves {first} to "
                "fit on. Use a smaller hold_out or horizon, or a longer series."
            )
        base = copy.deepcopy(self.model).fit(values[:first])
        can_update = callable(getattr(base, "update", None))
        actual = np.full((hold_out, horizon), np.nan)
        forecast = np.empty((hold_out, horizon))
        for k, origin in enumerate(range(first, values.size)):
            if k > 0:
                if can_update:
                    base.update(values[:origin])
                else:
                    base = copy.deepcopy(self.model).fit(values[:origin])
            forecast[k] = base.predict(horizon)
            future = values[origin : origin + horizon]
            actual[k, : future.size] = future
        self.conformal_ = ConformalScores.from_forecasts(
            actual,
            forecast,
            source=f"{hold_out} origins in the last {hold_out} rows",
            remedy="Raise hold_out, or leave level out.",
        )
        self.model_ = copy.deepcopy(self.model).fit(values)
        return self

    def _point(self, h: int) -> np.ndarray:
        h = self._check_h(h)
        return np.asarray(self.model_.predict(h), dtype=np.float64)

    def predict(self, h: int):
        """The model's point forecast (a Series by date when the fitted series had dates)."""
        return self._dated(self._point(h))

    def forecast(self, h: int, level: Sequence[float] | None = (80, 95)) -> Forecast:
        """The model's point forecast with split-conformal intervals per step."""
        levels = check_levels(level)
        mean = self._point(h)
        widths = {lv: self.conformal_.half_widths(h, lv) for lv in levels}
        return self._dated(
            Forecast(
                mean=mean,
                lower={lv: mean - q for lv, q in widths.items()},
                upper={lv: mean + q for lv, q in widths.items()},
            )
        )

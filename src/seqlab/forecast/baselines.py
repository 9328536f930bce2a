"""Benchmark forecasters: naive, seasonal naive, drift and mean, with intervals.

Point forecasts and interval widths follow Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice* (3rd ed.), section 5.2 and Table 5.2 (section 5.5), for a
series ``y_1..y_T``:

==============  ===============================  ===================================
method          forecast ``y_{T+h}``             standard error ``sigma_h``
==============  ===============================  ===================================
mean            ``mean(y)``                      ``sigma * sqrt(1 + 1/T)``
naive           ``y_T``                          ``sigma * sqrt(h)``
seasonal naive  ``y_{T+h-m(k+1)}``               ``sigma * sqrt(k + 1)``
drift           ``y_T + h (y_T - y_1)/(T - 1)``  ``sigma * sqrt(h (1 + h/T))``
==============  ===============================  ===================================

with ``k = floor((h - 1) / m)`` and ``sigma`` the residual standard deviation
``sqrt(sum e_t^2 / (N - K))`` over the ``N`` in-sample one-step residuals, ``K`` being
the number of estimated parameters (1 for mean and drift, 0 otherwise). Intervals are
``mean +- z sigma_h`` with the normal quantile ``z``. The tests compare every number
with values worked out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import norm

from seqlab._validation import check_period
from seqlab.forecast.base import Forecast, Forecaster, check_levels
from seqlab.forecast.conformal import LevelUnavailableError

__all__ = ["Drift", "MeanForecast", "Naive", "SeasonalNaive"]


class _Baseline(Forecaster):
    """Shared fit bookkeeping and interval construction; subclasses give the formulas."""

    #: Parameters estimated (the ``K`` in the residual variance's denominator).
    n_params = 0

    def fit(self, y, X=None, *, freq=None) -> _Baseline:
        """Store ``y`` (features ``X`` are accepted for a common interface and ignored);
        ``freq`` dates the forecasts of a dated ``y`` (see :mod:`seqlab.forecast.base`)."""
        values = self._series(y, freq=freq)
        self._check_length(values)
        self.y_ = values
        resid = self._residuals(values)
        self.resid_ = resid
        dof = resid.size - self.n_params
        self.sigma_ = float(np.sqrt(np.sum(resid**2) / dof)) if dof > 0 else float("nan")
        return self

    def _check_length(self, values: np.ndarray) -> None:
        if values.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 observations, got {values.size}."
            )

    def _residuals(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _se(self, h: int) -> np.ndarray:
        raise NotImplementedError

    def _point(self, h: int) -> np.ndarray:
        raise NotImplementedError

    def predict(self, h: int):
        """The point forecast for the ``h`` steps after the fitted series (a Series by
        date when it had dates, else an ndarray)."""
        return self._dated(self._point(self._check_h(h)))

    def forecast(self, h: int, level: Sequence[float] | None = (80, 95)) -> Forecast:
        """Point forecast and normal intervals at ``level`` percent.

        Raises
        ------
        LevelUnavailableError
            Levels were asked for but the residuals leave no degree of freedom to
            estimate ``sigma`` (Drift on two observations); ``level=None`` or
            ``predict`` still give the point forecast.
        """
        levels = check_levels(level)
        mean = self._point(self._check_h(h))
        if levels and not np.isfinite(self.sigma_):
            raise LevelUnavailableError(
                f"{type(self).__name__} fitted on {self.y_.size} observations has no residual "
                "degree of freedom to estimate sigma, so no interval; it needs at least "
                f"{self.y_.size + 1} observations (predict(h) gives the point forecast)."
            )
        se = self.sigma_ * self._se(h)
        lower, upper = {}, {}
        for lv in levels:
            z = float(norm.ppf(0.5 + lv / 200.0))
            lower[lv] = mean - z * se
            upper[lv] = mean + z * se
        return self._dated(Forecast(mean=mean, lower=lower, upper=upper))


class Naive(_Baseline):
    """Random walk: every future value equals the last observation."""

    label = "naive"

    def _residuals(self, values: np.ndarray) -> np.ndarray:
        return np.diff(values)

    def _point(self, h: int) -> np.ndarray:
        return np.full(h, self.y_[-1])

    def _se(self, h: int) -> np.ndarray:
        return np.sqrt(np.arange(1, h + 1, dtype=np.float64))


class SeasonalNaive(_Baseline):
    """Each future value equals the last observation from the same season (period m)."""

    label = "snaive"

    def __init__(self, m: int = 12) -> None:
        self.m = m

    def _check_length(self, values: np.ndarray) -> None:
        m = check_period(self.m)
        if values.size < m + 1:
            raise ValueError(
                f"SeasonalNaive(m={m}) needs at least m + 1 = {m + 1} observations, "
                f"got {values.size}."
            )

    def _residuals(self, values: np.ndarray) -> np.ndarray:
        return values[self.m :] - values[: -self.m]

    def _point(self, h: int) -> np.ndarray:
        steps = np.arange(1, h + 1)
        k = (steps - 1) // self.m
        # y_{T+h-m(k+1)} in 1-based time is index T-1 + h - m(k+1) in 0-based.
        return self.y_[self.y_.size - 1 + steps - self.m * (k + 1)].astype(np.float64)

    def _se(self, h: int) -> np.ndarray:
        k = (np.arange(1, h + 1) - 1) // self.m
        return np.sqrt(k + 1.0)


class Drift(_Baseline):
    """Random walk with drift: the line through the first and last observations."""

    label = "drift"
    n_params = 1

    def _residuals(self, values: np.ndarray) -> np.ndarray:
        slope = (values[-1] - values[0]) / (values.size - 1)
        return np.diff(values) - slope

    def _point(self, h: int) -> np.ndarray:
        slope = (self.y_[-1] - self.y_[0]) / (self.y_.size - 1)
        return self.y_[-1] + slope * np.arange(1, h + 1, dtype=np.float64)

    def _se(self, h: int) -> np.ndarray:
        steps = np.arange(1, h + 1, dtype=np.float64)
        return np.sqrt(steps * (1.0 + steps / self.y_.size))


class MeanForecast(_Baseline):
    """Every future value equals the mean of the observations."""

    label = "mean"
    n_params = 1

    def _residuals(self, values: np.ndarray) -> np.ndarray:
        return values - values.mean()

    def _point(self, h: int) -> np.ndarray:
        return np.full(h, self.y_.mean())

    def _se(self, h: int) -> np.ndarray:
        return np.full(h, np.sqrt(1.0 + 1.0 / self.y_.size))

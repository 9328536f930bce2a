"""ARIMA and auto ARIMA from ``seqlab.ts`` behind the common forecaster interface.

``ArimaForecaster.update`` runs the Kalman filter over the new data with the fitted
parameters held fixed (``ARIMA.filter``, statsmodels' ``filter(params)``), so a
backtest can refit every k origins and only re-filter in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqlab.forecast.base import Forecast, Forecaster, check_levels
from seqlab.ts import ARIMA, auto_arima

__all__ = ["ArimaForecaster", "AutoArimaForecaster"]


def _as_forecast(result, h: int, level) -> Forecast:
    levels = check_levels(level)
    fc = result.forecast(h, level=levels or (80,))
    return Forecast(
        mean=np.asarray(fc.mean, dtype=np.float64),
        lower={lv: np.asarray(fc.lower[lv], dtype=np.float64) for lv in levels},
        upper={lv: np.asarray(fc.upper[lv], dtype=np.float64) for lv in levels},
    )


class _ArimaBase(Forecaster):
    result_: Any

    def predict(self, h: int):
        """The point forecast (a Series by date when the fitted series had dates)."""
        h = self._check_h(h)
        return self._dated(self.result_.forecast(h, level=(80,)).mean)

    def forecast(self, h: int, level: Sequence[float] | None = (80, 95)) -> Forecast:
        h = self._check_h(h)
        return self._dated(_as_forecast(self.result_, h, level))

    def update(self, y, X=None) -> _ArimaBase:
        """Re-filter ``y`` with the fitted parameters (no re-estimation); a dated ``y``
        keeps the ``freq`` given to ``fit``."""
        self._check_fitted()
        values = self._series(y, keep_freq=True)
        self.result_ = self.result_.model.filter(values, self.result_.params)
        return self

    @property
    def resid_(self) -> np.ndarray:
        """In-sample one-step residuals; the first ``d + D m`` (diffuse start) are dropped."""
        spec = self.result_
        burn = spec.order[1] + spec.seasonal_order[1] * spec.seasonal_order[3]
        return np.asarray(self.result_.resid, dtype=np.float64)[burn:]


class ArimaForecaster(_ArimaBase):
    """A fixed-order (seasonal) ARIMA; arguments as :class:`seqlab.ts.ARIMA`.

    Feature columns ``X`` are ignored: forecasting with regressors needs their future
    values, which the common ``predict(h)`` interface does not carry.
    """

    def __init__(
        self,
        order: Sequence[int] = (1, 1, 0),
        seasonal_order: Sequence[int] = (0, 0, 0, 0),
        trend: str | None = None,
        method: str = "css-mle",
    ) -> None:
        self.order = order
        self.seasonal_order = seasonal_order
        self.trend = trend
        self.method = method

    @property
    def label(self) -> str:  # type: ignore[override]
        return "arima"

    def fit(self, y, X=None, *, freq=None) -> ArimaForecaster:
        """Estimate the model on ``y``; ``freq`` dates the forecasts of a dated ``y``
        (see :mod:`seqlab.forecast.base`). ``X`` is ignored."""
        values = self._series(y, freq=freq)
        model = ARIMA(
            order=tuple(self.order),
            seasonal_order=tuple(self.seasonal_order),
            trend=self.trend,
            method=self.method,
        )
        self.result_ = model.fit(values)
        return self


class AutoArimaForecaster(_ArimaBase):
    """Order chosen per fit by ``seqlab.ts.auto_arima`` (Hyndman & Khandakar 2008).

    ``kwargs`` go to ``auto_arima`` unchanged; ``m`` is the seasonal period.
    """

    label = "auto_arima"

    def __init__(self, m: int = 1, **kwargs: Any) -> None:
        self.m = m
        self.kwargs = kwargs

    def fit(self, y, X=None, *, freq=None) -> AutoArimaForecaster:
        """Choose and estimate the model on ``y``; ``freq`` dates the forecasts of a
        dated ``y`` (see :mod:`seqlab.forecast.base`). ``X`` is ignored."""
        return self._choose(self._series(y, freq=freq))

    def _choose(self, values: np.ndarray) -> AutoArimaForecaster:
        chosen = auto_arima(values, m=self.m, **self.kwargs)
        self.chosen_ = chosen
        self.result_ = chosen.model
        return self

    def update(self, y, X=None) -> AutoArimaForecaster:
        """Re-filter with the chosen model's parameters; a noise-free (deterministic)
        series has no filter, so it is refit instead."""
        self._check_fitted()
        if not hasattr(self.result_, "model"):
            return self._choose(self._series(y, keep_freq=True))
        super().update(y)
        return self

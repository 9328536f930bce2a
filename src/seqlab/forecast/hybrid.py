"""Zhang's hybrid: ARIMA for the linear part, a recurrent network for what it leaves.

Zhang (2003), "Time series forecasting using a hybrid ARIMA and neural network model",
Neurocomputing 50: model ``y_t = L_t + N_t``; fit ARIMA to ``y`` (``L``), fit the
network to ARIMA's in-sample residuals ``e_t`` using their own lags (``N``), and
forecast ``L_hat + N_hat``. Zhang used a feed-forward network; here it is any
:class:`~seqlab.forecast.neural.RecurrentForecaster` on the residual series.

Intervals are split-conformal (:mod:`seqlab.forecast.conformal`) on the hybrid's own
errors: from every origin in the network's validation hold-out (the last residuals,
which the network did not train on), ARIMA is re-filtered on the data up to the origin
with its parameters fixed, the network forecasts from the residuals up to it, and the
absolute errors of their sum give each step's half-width. (A network built with
``refit_full=True`` has trained on that hold-out, so its intervals come out too narrow.)
"""

from __future__ import annotations

import copy

import numpy as np

from seqlab._validation import check_levels
from seqlab.forecast.base import Forecast, Forecaster
from seqlab.forecast.classical import ArimaForecaster
from seqlab.forecast.conformal import ConformalScores, LevelUnavailableError
from seqlab.forecast.neural import RecurrentForecaster

__all__ = ["HybridForecaster"]


class HybridForecaster(Forecaster):
    """``arima`` (default ARIMA(1,1,0)) plus ``network`` (default an LSTM) on residuals.

    Both are copied at ``fit``; the fitted parts are ``arima_`` and ``network_``.
    ``update`` re-filters ARIMA with its parameters fixed and moves the network's window
    to the new residuals, so no re-estimation happens between backtest refits.
    """

    def __init__(
        self,
        arima: ArimaForecaster | None = None,
        network: RecurrentForecaster | None = None,
    ) -> None:
        self.arima = arima
        self.network = network

    @property
    def label(self) -> str:  # type: ignore[override]
        net = self.network.label if self.network is not None else "lstm"
        return f"arima+{net}"

    def fit(self, y, X=None, *, freq=None) -> HybridForecaster:
        """Fit ARIMA to ``y`` and the network to its residuals; ``freq`` dates the
        forecasts of a dated ``y`` (see :mod:`seqlab.forecast.base`). ``X`` is ignored."""
        values = self._series(y, freq=freq)
        arima = copy.deepcopy(self.arima) if self.arima is not None else ArimaForecaster()
        network = (
            copy.deepcopy(self.network)
            if self.network is not None
            else RecurrentForecaster("lstm", lookback=10, horizon=1, mode="recursive")
        )
        arima.fit(values)
        try:
            network.fit(arima.resid_)
        except ValueError as exc:
            raise ValueError(f"fitting the network to the ARIMA residuals failed: {exc}") from None
        self.arima_ = arima
        self.network_ = network
        self.conformal_ = self._calibrate(values)
        return self

    def _calibrate(self, values: np.ndarray) -> ConformalScores | None:
        """Scores of the hybrid's forecasts from the origins of the network's hold-out."""
        network = self.network_
        resid = self.arima_.resid_
        burn = values.size - resid.size
        held = network._valid_rows(resid.size)
        if held == 0:
            return None
        steps = network.horizon if network.mode != "recursive" else held
        origins = np.arange(resid.size - held, resid.size)  # residual rows seen
        nets = network._origin_forecasts(resid, origins, steps)  # (K, steps)
        actual = np.full((origins.size, steps), np.nan)
        forecast = np.empty((origins.size, steps))
        for k, origin in enumerate(origins):
            seen = origin + burn
            arima = copy.deepcopy(self.arima_).update(values[:seen])
            forecast[k] = arima.predict(steps) + nets[k]
            future = values[seen : seen + steps]
            actual[k, : future.size] = future
        return ConformalScores.from_forecasts(
            actual,
            forecast,
            source=f"{origins.size} origins in the network's {held}-row validation hold-out",
            remedy="Raise the network's valid_size (each extra row adds an origin), or leave "
            "level out.",
        )

    def update(self, y, X=None) -> HybridForecaster:
        self._check_fitted()
        self.arima_.update(self._series(y, keep_freq=True))
        self.network_.update(self.arima_.resid_)
        return self

    def _point(self, h: int) -> np.ndarray:
        h = self._check_h(h)
        return np.asarray(self.arima_.predict(h)) + np.asarray(self.network_.predict(h))

    def predict(self, h: int):
        """The point forecast (a Series by date when the fitted series had dates)."""
        return self._dated(self._point(h))

    def forecast(self, h: int, level=(80, 95)) -> Forecast:
        """Point forecast and split-conformal intervals (see the module docstring)."""
        levels = check_levels(level)
        mean = self._point(h)
        calibration = getattr(self, "conformal_", None)
        if levels and calibration is None:
            raise LevelUnavailableError(
                "this HybridForecaster has no calibration errors for intervals: its network "
                "had no validation hold-out (valid_size=0). Refit with valid_size > 0, or "
                "pass level=None."
            )
        widths = {lv: calibration.half_widths(h, lv) for lv in levels}
        return self._dated(
            Forecast(
                mean=mean,
                lower={lv: mean - q for lv, q in widths.items()},
                upper={lv: mean + q for lv, q in widths.items()},
            )
        )

"""Zhang's hybrid: ARIMA for the linear part, a recurrent network for what it leaves.

Zhang (2003), "Time series forecasting using a hybrid ARIMA and neural network model",
Neurocomputing 50: model ``y_t = L_t + N_t``; fit ARIMA to ``y`` (``L``), fit the
network to ARIMA's in-sample residuals ``e_t`` using their own lags (``N``), and
forecast ``L_hat + N_hat``. Zhang used a feed-forward network; here it is any
:class:`~seqlab.forecast.neural.RecurrentForecaster` on the residual series.
"""

from __future__ import annotations

import copy

import numpy as np

from seqlab.forecast.base import Forecaster
from seqlab.forecast.classical import ArimaForecaster
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

    def fit(self, y, X=None) -> HybridForecaster:
        values = self._series(y)
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
        return self

    def update(self, y, X=None) -> HybridForecaster:
        self._check_fitted()
        self.arima_.update(self._series(y))
        self.network_.update(self.arima_.resid_)
        return self

    def predict(self, h: int) -> np.ndarray:
        h = self._check_h(h)
        return self.arima_.predict(h) + self.network_.predict(h)

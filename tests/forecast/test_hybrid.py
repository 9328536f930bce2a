"""Zhang's ARIMA + network hybrid: the sum of its parts, the network fitted on residuals."""

from __future__ import annotations

import numpy as np
import torch

from seqlab.forecast.classical import ArimaForecaster
from seqlab.forecast.hybrid import HybridForecaster
from seqlab.forecast.neural import RecurrentForecaster


def test_forecast_is_arima_plus_network_on_residuals():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    t = np.arange(160)
    # Random walk plus a periodic component ARIMA(1,1,0) cannot capture.
    y = np.cumsum(rng.normal(0, 0.1, t.size)) + np.sin(2 * np.pi * t / 8)
    network = RecurrentForecaster("gru", lookback=16, horizon=4, hidden_size=8, epochs=2)
    model = HybridForecaster(ArimaForecaster((1, 1, 0)), network).fit(y)
    assert model.label == "arima+gru"
    np.testing.assert_allclose(
        model.predict(4), model.arima_.predict(4) + model.network_.predict(4), rtol=0, atol=1e-12
    )
    # The network was fitted on the ARIMA residuals: the same network, same seed, fitted
    # on them directly, gives the same forecasts.
    alone = RecurrentForecaster("gru", lookback=16, horizon=4, hidden_size=8, epochs=2)
    alone.fit(model.arima_.resid_)
    np.testing.assert_allclose(model.network_.predict(4), alone.predict(4), rtol=0, atol=1e-6)
    # update moves both parts to the new end without refitting.
    params = model.arima_.result_.params.copy()
    model.update(y[:140])
    assert model.arima_.result_.params.equals(params)
    assert model.predict(4).shape == (4,)

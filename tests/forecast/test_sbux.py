"""Smoke test on the textbook's series: SBUX daily Close with OHLCV features."""

from __future__ import annotations

import numpy as np
import torch

from seqlab.forecast.backtest import backtest
from seqlab.forecast.baselines import Naive
from seqlab.forecast.data import load_frame, split_frame
from seqlab.forecast.neural import RecurrentForecaster


def test_sbux_lstm_with_features_backtests_end_to_end(shared_data):
    torch.set_num_threads(1)
    frame = load_frame(
        shared_data / "stocks" / "SBUX.csv", "Close", ["Open", "High", "Low", "Volume"]
    )
    y, X = split_frame(frame)
    models = {
        "naive": Naive(),
        "lstm": RecurrentForecaster("lstm", lookback=10, horizon=2, hidden_size=8, epochs=5),
    }
    result = backtest(models, y, 2, X=X, initial=0.8, refit_every=None)
    assert result.metrics.loc["lstm", "origins"] == 50  # rows 202..251 start 2-step forecasts
    assert np.isfinite(result.forecasts["mean"]).all()
    # A daily stock price is close to a random walk: even a briefly trained network must
    # land in naive's neighbourhood, not at a wrong level (level-relative windows).
    assert result.metrics.loc["lstm", "mase"] < 2 * result.metrics.loc["naive", "mase"]

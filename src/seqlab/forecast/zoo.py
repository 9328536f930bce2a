"""Forecasters by name, for the command line and the benchmarks.

========================  ==============================================================
name                      forecaster
========================  ==============================================================
naive, snaive, drift,     the baselines (``snaive`` uses the seasonal period ``m``)
mean
arima                     ``ArimaForecaster(order, seasonal_order)``
auto_arima                ``AutoArimaForecaster(m)``
rnn, lstm, gru, bilstm    ``RecurrentForecaster``, direct multi-output
lstm-recursive, ...       the same cell with the recursive one-step strategy
lstm-seq2seq, ...         the same cell as an encoder-decoder
hybrid                    ARIMA(order) + LSTM on its residuals (Zhang 2003)
========================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqlab.forecast.base import Forecaster
from seqlab.forecast.baselines import Drift, MeanForecast, Naive, SeasonalNaive
from seqlab.forecast.classical import ArimaForecaster, AutoArimaForecaster

__all__ = ["NEURAL", "make_forecaster", "model_names"]

_BASELINES = ("naive", "snaive", "drift", "mean")
_CELLS = ("rnn", "lstm", "gru", "bilstm")
NEURAL = tuple(f"{cell}{suffix}" for cell in _CELLS for suffix in ("", "-recursive", "-seq2seq"))


def model_names() -> list[str]:
    return [*_BASELINES, "arima", "auto_arima", *NEURAL, "hybrid"]


def make_forecaster(
    name: str,
    *,
    horizon: int,
    lookback: int,
    m: int = 1,
    order: Sequence[int] = (1, 1, 0),
    seasonal_order: Sequence[int] = (0, 0, 0, 0),
    **neural: Any,
) -> Forecaster:
    """A new unfitted forecaster called ``name``; ``neural`` goes to recurrent models."""
    if name == "naive":
        return Naive()
    if name == "snaive":
        return SeasonalNaive(m=m)
    if name == "drift":
        return Drift()
    if name == "mean":
        return MeanForecast()
    if name == "arima":
        return ArimaForecaster(order=order, seasonal_order=seasonal_order)
    if name == "auto_arima":
        return AutoArimaForecaster(m=m)
    from seqlab.forecast.neural import RecurrentForecaster

    if name == "hybrid":
        from seqlab.forecast.hybrid import HybridForecaster

        network = RecurrentForecaster("lstm", lookback=lookback, horizon=horizon, **neural)
        return HybridForecaster(ArimaForecaster(order, seasonal_order), network)
    if name in NEURAL:
        cell, _, mode = name.partition("-")
        bidirectional = cell == "bilstm"
        return RecurrentForecaster(
            "lstm" if bidirectional else cell,
            mode=mode or "direct",
            lookback=lookback,
            horizon=horizon,
            bidirectional=bidirectional,
            **neural,
        )
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(model_names())}.")

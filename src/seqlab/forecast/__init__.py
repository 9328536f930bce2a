"""seqlab.forecast: windows, scalers, baselines, ARIMA and recurrent forecasters, backtests,
and the long-frame front door for many series (``Forecasts``, ``evaluate``).

Every forecaster follows one interface (``fit(y, X=None)``, ``predict(h)``,
``forecast(h, level)``; see :mod:`seqlab.forecast.base`). The torch-based names
(recurrent forecasters, the hybrid, run folders) load on first use, so the baselines,
ARIMA forecasters, metrics, backtests and ``Forecasts`` of local models import without
torch; using a torch-based name on a core install raises one ImportError naming
``pip install 'seqlab[torch]'``.
"""

import importlib

import seqlab
from seqlab.forecast.backtest import BacktestResult, backtest
from seqlab.forecast.base import Forecast, Forecaster
from seqlab.forecast.baselines import Drift, MeanForecast, Naive, SeasonalNaive
from seqlab.forecast.classical import ArimaForecaster, AutoArimaForecaster
from seqlab.forecast.conformal import ConformalForecaster
from seqlab.forecast.data import load_frame, split_frame
from seqlab.forecast.frame import Forecasts, evaluate
from seqlab.forecast.metrics import coverage, interval_width, mae, mape, mase, rmse, smape
from seqlab.forecast.runs import load, save
from seqlab.forecast.scalers import MinMaxScaler, StandardScaler
from seqlab.forecast.windows import make_windows, time_split

_LAZY = {
    "RecurrentForecaster": "seqlab.forecast.neural",
    "GlobalRecurrentForecaster": "seqlab.forecast.neural",
    "HybridForecaster": "seqlab.forecast.hybrid",
    "GlobalHybridForecaster": "seqlab.forecast.hybrid",
    "save_forecaster": "seqlab.forecast.runs",
    "load_forecaster": "seqlab.forecast.runs",
    "predict_frame": "seqlab.forecast.runs",
}


def __getattr__(name: str):
    if name in _LAZY:
        seqlab._require(f"seqlab.forecast.{name}", "torch")
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqlab.forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ArimaForecaster",
    "AutoArimaForecaster",
    "BacktestResult",
    "ConformalForecaster",
    "Drift",
    "Forecast",
    "Forecaster",
    "Forecasts",
    "GlobalHybridForecaster",
    "GlobalRecurrentForecaster",
    "HybridForecaster",
    "MeanForecast",
    "MinMaxScaler",
    "Naive",
    "RecurrentForecaster",
    "SeasonalNaive",
    "StandardScaler",
    "backtest",
    "coverage",
    "evaluate",
    "interval_width",
    "load",
    "load_forecaster",
    "load_frame",
    "mae",
    "make_windows",
    "mape",
    "mase",
    "predict_frame",
    "rmse",
    "save",
    "save_forecaster",
    "smape",
    "split_frame",
    "time_split",
]

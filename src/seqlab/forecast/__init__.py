"""seqlab.forecast (exports are added by each module's author as the module lands)."""

from seqlab.forecast.backtest import BacktestResult, backtest
from seqlab.forecast.base import Forecast, Forecaster
from seqlab.forecast.baselines import Drift, MeanForecast, Naive, SeasonalNaive
from seqlab.forecast.data import load_frame, split_frame
from seqlab.forecast.metrics import mae, mape, mase, rmse, smape
from seqlab.forecast.scalers import MinMaxScaler, StandardScaler
from seqlab.forecast.windows import make_windows, time_split

__all__ = [
    "BacktestResult",
    "Drift",
    "Forecast",
    "Forecaster",
    "MeanForecast",
    "MinMaxScaler",
    "Naive",
    "SeasonalNaive",
    "StandardScaler",
    "backtest",
    "load_frame",
    "mae",
    "make_windows",
    "mape",
    "mase",
    "rmse",
    "smape",
    "split_frame",
    "time_split",
]

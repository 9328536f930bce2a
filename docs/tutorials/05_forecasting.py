# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Forecasting a price series: LSTM and BiLSTM beside ARIMA and naive
#
# The chapter ends with a bidirectional LSTM that predicts a stock's price from a window
# of past prices. Whether such a model is any good can only be told against simple
# baselines, on data it has not seen, at many points in time. This tutorial does that:
#
# 1. four forecasters behind one interface: **naive** (tomorrow = today),
#    **ARIMA** (orders chosen by `auto_arima`), an **LSTM** and a **bidirectional LSTM**;
# 2. a **rolling-origin backtest** (`seqlab.forecast.backtest`): fit on the first part
#    of the series, forecast the next 5 days, move the origin forward, repeat;
# 3. errors per model and per step ahead, and whether the **prediction intervals**
#    cover the actual prices as often as they claim.
#
# The data are Starbucks' daily closing prices (`../shared/data/stocks/SBUX.csv`, one
# year) when present; otherwise a simulated random walk of the same length.

# %%
import os
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

QUICK = os.environ.get("SEQLAB_DOCS_QUICK", "1") != "0"
# tqdm.auto (progress bars) asks for ipywidgets inside Jupyter; plain bars are fine here.
warnings.filterwarnings("ignore", message="IProgress not found")
FIGURES = Path(os.environ.get("SEQLAB_DOCS_FIGURES") or tempfile.mkdtemp(prefix="seqlab-05-"))
FIGURES.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)  # tiny networks: one thread is fastest

EPOCHS = 30 if QUICK else 100
REFIT_EVERY = None if QUICK else 4  # None: train once, at the first origin


def show(figure, name=None):
    """Keep a figure as a PNG under FIGURES and display it in a notebook.

    ``figure`` is a matplotlib Figure (saved as ``name``) or the path of a PNG that a
    seqlab plotting function wrote.
    """
    if isinstance(figure, plt.Figure):
        path = FIGURES / name
        figure.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(figure)
    else:
        path = Path(figure)
    if "ipykernel" in sys.modules:
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    else:
        print(f"[figure] {path}")


# %% [markdown]
# ## The series

# %%
from seqlab.datasets import shared_data_dir
from seqlab.plot import plot_forecast, plot_series

shared = shared_data_dir()
prices_file = shared / "stocks" / "SBUX.csv" if shared else None
if prices_file is not None and prices_file.is_file():
    frame = pd.read_csv(prices_file, parse_dates=["Date"], index_col="Date")
    close = frame["Close"]
    source = "SBUX daily close"
else:
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2019-12-11", periods=252, name="Date")
    close = pd.Series(80 * np.exp(np.cumsum(rng.normal(0, 0.02, 252))), index=days, name="Close")
    source = "a simulated random walk (SBUX.csv not found)"
print(f"{source}: {len(close)} days, {close.index[0]:%Y-%m-%d} to {close.index[-1]:%Y-%m-%d}")
show(plot_series({"close": close}, title=source), "prices.png")

# %% [markdown]
# ## Four forecasters, one interface
#
# Every forecaster has `fit(y)`, `predict(h)` and `forecast(h, level)`. The recurrent
# ones read a window of the last `lookback = 20` prices and output the next 5 at once
# (`mode="direct"`); each window is shifted by its last value (`local_level=True`), so
# the network predicts *changes* from today's price rather than the price itself. The
# bidirectional LSTM reads the same window forwards and backwards: both directions see
# only the past, so nothing leaks from the future.
#
# Intervals: ARIMA's come from its model of the errors; naive's from the random walk's
# growing variance; the networks' are *split-conformal*: after training, each network
# forecasts the last `valid_size` days it did not train on, and each step's errors there
# set that step's interval width.

# %%
from seqlab.forecast import AutoArimaForecaster, Naive, RecurrentForecaster, backtest

HORIZON, LOOKBACK = 5, 20
network = {
    "lookback": LOOKBACK,
    "horizon": HORIZON,
    "hidden_size": 32,
    "epochs": EPOCHS,
    "valid_size": 40,  # days held out for early stopping and the conformal intervals
    "seed": 0,
}
models = {
    "naive": Naive(),
    "arima": AutoArimaForecaster(),
    "lstm": RecurrentForecaster(cell="lstm", **network),
    "bilstm": RecurrentForecaster(cell="lstm", bidirectional=True, **network),
}

# %% [markdown]
# ## The rolling-origin backtest
#
# The first origin is at 70% of the series: every model is fitted on the days before
# it and forecasts the next 5. The origin then moves 5 days forward; in between refits
# a model only absorbs the new days (`update`), with its parameters kept. Errors are
# pooled over all origins.

# %%
result = backtest(
    models,
    close,
    HORIZON,
    initial=0.7,
    step=HORIZON,
    refit_every=REFIT_EVERY,
    level=(80, 95),
)
print(result.table())

# %% [markdown]
# MAE and RMSE are in dollars; MAPE and sMAPE in percent; **MASE** divides the error by
# the naive one-step error on the training data, so 1 means "as good as yesterday's
# price one day ahead". The errors grow with the step ahead:

# %%
by_step = result.by_step["mae"].unstack("step")
print(by_step.round(2))

fig, ax = plt.subplots(figsize=(7, 3.6))
for model_name, row in by_step.iterrows():
    ax.plot(row.index, row.to_numpy(), marker="o", label=model_name)
ax.set_xlabel("days ahead")
ax.set_ylabel("MAE ($)")
ax.set_title("Backtest error by forecast step")
ax.grid(alpha=0.3)
ax.legend(frameon=False)
show(fig, "error_by_step.png")

# %% [markdown]
# Do the intervals hold what they promise? An 80% interval should contain the actual
# price about 80% of the time:

# %%
forecasts = result.forecasts
coverage = pd.DataFrame(
    {
        f"{level}% interval": forecasts.assign(
            inside=(forecasts["actual"] >= forecasts[f"lower_{level}"])
            & (forecasts["actual"] <= forecasts[f"upper_{level}"])
        )
        .groupby("model", sort=False)["inside"]
        .mean()
        for level in (80, 95)
    }
)
print(coverage.round(2))

# %% [markdown]
# A coverage well below the level means the intervals are too narrow. For the networks
# that happens easily: their widths come from the errors on a few dozen held-out days,
# and when the price moves more after those days than during them (volatility changes
# all the time in markets) the intervals miss more often. With only a few origins here,
# each coverage figure is itself rough (15 origins x 5 steps, and neighbouring steps
# miss together).
#
# The forecasts from the last three origins, each over its whole horizon, of all models
# against the actual prices, then the LSTM's alone with its intervals:

# %%
show(result.plot(), "backtest_all.png")
show(result.plot(model="lstm"), "backtest_lstm.png")

# %% [markdown]
# Reading the results: on a daily stock price, tomorrow's price is today's plus noise
# that is close to unpredictable, so the naive forecast is very hard to beat, and
# ARIMA's choice for such a series is usually the random walk itself. If the networks
# come out within a few percent of naive, they have learned mostly "stay where you
# are"; a network that claims to be much better than naive on prices deserves
# suspicion (a leak from the future is the usual cause). The bidirectional LSTM has
# nothing more to read than the LSTM (the same past window), so it rarely helps here.
# The backtest, the per-step errors and the interval coverage are the three checks to
# make before believing any forecaster.
#
# ## A forecast from the end of the series

# %%
lstm = RecurrentForecaster(cell="lstm", **network).fit(close, freq="B")
# Trading days skip holidays, so pandas cannot infer their frequency: freq="B" dates
# the forecasts on the business days after the last close.
arima = AutoArimaForecaster().fit(close, freq="B")
future = pd.bdate_range(close.index[-1], periods=HORIZON + 1)[1:]
for name, model in (("lstm", lstm), ("arima", arima)):
    fc = model.forecast(HORIZON, level=(80, 95))
    show(
        plot_forecast(
            close.iloc[-60:],
            pd.Series(fc.mean, index=future),
            intervals={
                lv: (pd.Series(fc.lower[lv], index=future), pd.Series(fc.upper[lv], index=future))
                for lv in (80, 95)
            },
            title=f"{name}: the next {HORIZON} business days, 80% and 95% intervals",
            ylabel="$",
        ),
        f"forecast_{name}.png",
    )
    print(name, fc.to_frame().round(2).to_string(), sep="\n")

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
# # 1. Stationarity and the ARIMA family
#
# A time series is *stationary* when its mean, variance and autocorrelations do not
# change over time. The classical models of this tutorial (AR, MA, ARMA) describe
# stationary series; ARIMA handles a trend by modelling the *differences* of the series
# instead. The plan:
#
# 1. look at a series and test it for stationarity (ADF and KPSS);
# 2. make it stationary: Box-Cox for a changing variance, differencing for a trend;
# 3. fit AR, MA and ARMA models to a series whose true model we know, and read the fit;
# 4. fit ARIMA models to two classic series, check the residuals and forecast with
#    prediction intervals;
# 5. let `auto_arima` choose the orders.
#
# Runs in seconds; `SEQLAB_DOCS_QUICK=0` changes nothing here (the data are small).

# %%
import os
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

QUICK = os.environ.get("SEQLAB_DOCS_QUICK", "1") != "0"
FIGURES = Path(os.environ.get("SEQLAB_DOCS_FIGURES") or tempfile.mkdtemp(prefix="seqlab-01-"))
FIGURES.mkdir(parents=True, exist_ok=True)


def show(figure, name=None):
    """Keep a figure as a PNG under FIGURES and display it in a notebook.

    ``figure`` is a matplotlib Figure, such as every ``seqlab.plot`` function returns;
    it is saved as ``name``.
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
# ## 1. A series that is not stationary
#
# Monthly international airline passengers, 1949-1960 (Box & Jenkins' series G), ships
# with seqlab. The level rises, and so does the size of the seasonal swings: neither the
# mean nor the variance is constant.

# %%
from seqlab.datasets import airline, nile
from seqlab.plot import plot_correlogram, plot_forecast, plot_series
from seqlab.ts import rolling_stats

passengers = airline()
stats = rolling_stats(passengers, window=12)
print(stats.tail(3))
show(
    plot_series(
        {
            "passengers": passengers,
            "rolling mean (12)": stats.iloc[:, 0],
            "rolling sd (12)": stats.iloc[:, 1],
        },
        title="Airline passengers (thousands) with a 12-month rolling mean and sd",
    ),
    "airline.png",
)

# %% [markdown]
# Two tests answer "is it stationary?" from opposite sides:
#
# - **ADF** (augmented Dickey-Fuller): the null hypothesis is a *unit root* (the series
#   wanders like a random walk). A small p-value rejects the unit root.
# - **KPSS**: the null hypothesis is *stationarity*. A small p-value rejects it.
#
# Reading them together is what `check_stationarity` does, in plain words.

# %%
from seqlab.ts import adf_test, check_stationarity, kpss_test

print(adf_test(passengers))
print(kpss_test(passengers))

# %%
print(check_stationarity(passengers))

# %% [markdown]
# ## 2. Making it stationary: Box-Cox, then differencing
#
# **Box-Cox** transforms `y` to `(y^λ - 1) / λ` (the log when λ = 0) and is chosen to
# make the variance the same at every level. Guerrero's method (R's `BoxCox.lambda`)
# picks λ from the data; for this series it is close to 0, the log.
#
# **Differencing** removes a trend: `Δy_t = y_t - y_{t-1}`; a *seasonal* difference
# `y_t - y_{t-12}` removes a yearly pattern. The ARIMA `d` and `D` orders are the
# number of each.

# %%
from seqlab.ts import boxcox, difference, inv_boxcox

transformed, lam = boxcox(passengers)  # lambda chosen by Guerrero's method
print(f"Guerrero's lambda: {lam:.3f}")
print("inv_boxcox undoes it:", np.allclose(inv_boxcox(transformed, lam), passengers))
log_passengers = np.log(passengers)  # lambda = 0: close to Guerrero's, and easier to read

for label, series in (("passengers", passengers), ("log(passengers)", log_passengers)):
    sd = rolling_stats(series, window=12).iloc[:, 1].dropna()
    print(f"{label:>16}: rolling sd {sd.iloc[0]:.3g} in the first year, {sd.iloc[-1]:.3g} last")

once = difference(log_passengers, d=1)
both = difference(log_passengers, d=1, D=1, m=12)

fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
for ax, series, title in zip(
    axes,
    (log_passengers, once, both),
    ("log(passengers)", "first difference", "first and seasonal (lag 12) difference"),
    strict=True,
):
    ax.plot(series.index, series.to_numpy(), lw=1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
fig.tight_layout()
show(fig, "differencing.png")

# %% [markdown]
# The log flattened the growing swings; one difference removed the trend but left the
# yearly pattern; the seasonal difference removes that too. Test the result:

# %%
print(check_stationarity(both))

# %% [markdown]
# The autocorrelation function (ACF) and partial autocorrelation function (PACF) of the
# stationary series suggest the orders: spikes at lags 1 and 12 of the ACF that cut off
# point to MA terms at those lags. The dashed band is ±1.96/√n, roughly where a spike
# stops being distinguishable from noise.

# %%
from seqlab.ts import acf, pacf

band = 1.96 / np.sqrt(len(both))
show(
    plot_correlogram(
        acf(both, nlags=36),
        pacf(both, nlags=36),
        band,
        title="of the differenced log series",
    ),
    "correlogram.png",
)

# %% [markdown]
# ## 3. AR, MA and ARMA on a series whose model we know
#
# - **AR(p)**, autoregressive: the next value is a weighted sum of the past `p` values
#   plus a new shock, `y_t = φ_1 y_{t-1} + ... + φ_p y_{t-p} + ε_t`.
# - **MA(q)**, moving average: the next value is a weighted sum of the past `q`
#   *shocks* (errors), `y_t = ε_t + θ_1 ε_{t-1} + ... + θ_q ε_{t-q}`.
# - **ARMA(p, q)**: both.
#
# We simulate 400 steps of an ARMA(1, 1) with φ = 0.7 and θ = 0.4 and fit the three
# candidates. The fitted coefficients should be near the true ones, and the information
# criteria (AIC, BIC: lower is better) should prefer the true form.

# %%
from scipy.signal import lfilter

from seqlab.ts import AR, ARMA, MA

rng = np.random.default_rng(0)
shocks = rng.standard_normal(400)
simulated = lfilter([1.0, 0.4], [1.0, -0.7], shocks)  # (1 - 0.7 L) y = (1 + 0.4 L) e

fits = {
    "AR(1)": AR(1).fit(simulated),
    "AR(2)": AR(2).fit(simulated),
    "MA(1)": MA(1).fit(simulated),
    "ARMA(1,1)": ARMA(1, 1).fit(simulated),
}
print(
    pd.DataFrame(
        {name: {"AIC": r.aic, "BIC": r.bic, "log-lik": r.loglik} for name, r in fits.items()}
    ).T.round(1)
)

# %%
print(fits["ARMA(1,1)"].summary())

# %% [markdown]
# Reading the summary: `ar.L1` and `ma.L1` are φ and θ, with standard errors and 95%
# confidence intervals that contain 0.7 and 0.4; `sigma2` is the shock variance (1 in
# the simulation). A coefficient whose interval contains 0 would be a candidate to drop.
#
# ## 4. ARIMA: fit, check the residuals, forecast
#
# ### The Nile
#
# The annual flow of the Nile at Aswan, 1871-1970, wanders without a clear trend.
# An ARIMA(0, 1, 1) (a random walk observed with noise: the "local level" model) is
# the textbook choice.

# %%
from seqlab.ts import ARIMA, ljung_box

flow = nile()
report = check_stationarity(flow)
print(report.verdict, "-", report.advice)
nile_fit = ARIMA(order=(0, 1, 1)).fit(flow)
print(nile_fit.summary())

# %% [markdown]
# If the model captured the series' dynamics, the residuals are white noise. The
# Ljung-Box test's null hypothesis is "no autocorrelation up to lag k"; large p-values
# are what we hope for. `fitdf` is the number of estimated ARMA coefficients, which
# the test's degrees of freedom subtract. The first residual (before any difference
# can be taken) is left out.

# %%
nile_resid = nile_fit.resid.iloc[1:]
print(ljung_box(nile_resid, lags=[5, 10, 15], fitdf=1).to_frame())

nile_forecast = nile_fit.forecast(10, level=(80, 95))
print(nile_forecast.to_frame().round(0).head())
show(
    plot_forecast(
        flow,
        nile_forecast.mean,
        intervals={lv: (nile_forecast.lower[lv], nile_forecast.upper[lv]) for lv in (80, 95)},
        title="Nile flow: ARIMA(0,1,1) forecast, 80% and 95% intervals",
        ylabel="10^8 m^3",
    ),
    "nile_forecast.png",
)

# %% [markdown]
# A random-walk-like model forecasts a flat line, and its intervals widen with the
# horizon: the further ahead, the less we know.
#
# ### Airline passengers: seasonal ARIMA
#
# The "airline model" ARIMA(0,1,1)(0,1,1)₁₂ on the log series is what the correlogram
# above suggested: one ordinary and one seasonal difference, one MA term at lag 1 and
# one at lag 12. The residuals start with `d + D·m = 13` values that only reflect the
# initial state, so the check starts after them.

# %%
airline_fit = ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(log_passengers)
print(airline_fit.summary())
print(ljung_box(airline_fit.resid.iloc[13:], lags=[12, 24], fitdf=2).to_frame())

# %% [markdown]
# Forecasts are made on the log scale; `exp` takes the mean and the interval bounds
# back to passengers (the bounds stay exact quantiles; the back-transformed mean is the
# median rather than the mean of the forecast distribution).

# %%
airline_forecast = airline_fit.forecast(24, level=(80, 95))
show(
    plot_forecast(
        passengers,
        np.exp(airline_forecast.mean),
        intervals={
            lv: (np.exp(airline_forecast.lower[lv]), np.exp(airline_forecast.upper[lv]))
            for lv in (80, 95)
        },
        title="Airline passengers: ARIMA(0,1,1)(0,1,1)12 on the log scale, 24 months ahead",
        ylabel="thousands",
    ),
    "airline_forecast.png",
)

# %% [markdown]
# ## 5. Letting `auto_arima` choose
#
# `auto_arima` is R's `auto.arima` (Hyndman & Khandakar 2008): it picks `d` by repeated
# KPSS tests and `D` by a seasonal-strength test, then walks step by step through
# neighbouring (p, q, P, Q) orders, keeping the model with the lowest AICc.

# %%
from seqlab.ts import auto_arima

chosen = auto_arima(log_passengers, m=12)
print(f"airline: ARIMA{chosen.order}{chosen.seasonal_order}, AICc {chosen.aicc:.1f}")
print(f"models tried: {len(chosen.candidates)}")
print(chosen.candidates.sort_values("aicc")[["model", "aicc"]].head(5).to_string(index=False))

chosen_nile = auto_arima(flow)
print(f"nile: ARIMA{chosen_nile.order}")

# %% [markdown]
# For the airline series the search lands on the textbook's airline model. The
# `candidates` table is the search's trail: every model it tried, best first here.

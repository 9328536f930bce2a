"""``seqlab demo``: the tour. Needs no network and no data beyond what seqlab ships."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import numpy as np

__all__ = [
    "register",
    "run",
    "sentiment_demo",
]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="fit a seasonal ARIMA to the airline series, forecast and plot it",
        description="Fit SARIMA(0,1,1)(0,1,1,12) to log airline passengers (Box & Jenkins' "
        "airline model), print the summary and a 24-month forecast, write a PNG.",
    )
    parser.add_argument("--out", default="seqlab-demo", help="folder for the figures")
    parser.add_argument(
        "--imdb", help="IMDB data for the sentiment demo (default: $SEQLAB_IMDB, cache, shared)"
    )
    # The sentiment part imports torch; imported up front, with Ctrl-C held back, because
    # a Ctrl-C that lands inside torch's import leaves it half initialised.
    parser.set_defaults(func=run, preload=("torch", "seqlab.sentiment", "seqlab.text"))


def run(args: argparse.Namespace) -> int:
    from seqlab.datasets import airline
    from seqlab.plot import plot_forecast
    from seqlab.ts import ARIMA

    out = Path(args.out)
    y = airline()
    print("== seqlab demo 1: the airline model on monthly passengers, 1949-1960 ==\n")
    result = ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(np.log(y))
    print(result.summary())
    forecast = result.forecast(24, level=(80, 95))
    # The model is fitted on the log scale; exp() maps the mean to the median forecast
    # and maps interval bounds exactly (a monotone transform keeps coverage).
    table = np.exp(forecast.to_frame()).round(1)
    table.index = table.index.strftime("%Y-%m")
    print("\nForecast (passengers, thousands; point = median on the original scale):")
    print(table.to_string())
    intervals = {lv: (np.exp(forecast.lower[lv]), np.exp(forecast.upper[lv])) for lv in (80, 95)}
    path = out / "airline_forecast.png"
    plot_forecast(
        y,
        np.exp(forecast.mean),
        path,
        intervals=intervals,
        title="Airline passengers: SARIMA(0,1,1)(0,1,1)12 on log scale",
        ylabel="thousands",
    )
    print(f"\nwrote {path}")
    sentiment_demo(args)
    return 0


def sentiment_demo(args: argparse.Namespace) -> None:
    """A short IMDB sentiment run when the data is found; otherwise how to get it."""
    print("\n== seqlab demo: sentiment of IMDB reviews with a recurrent network ==\n")
    try:
        importlib.import_module("torch")  # already imported by the preload when installed
    except ImportError:
        print(
            "This part needs torch, which the core install leaves out: "
            "pip install 'seqlab[torch]' (the CPU build first: pip install torch==2.13.0)."
        )
        return
    from seqlab.cli.imdb import print_demo

    print_demo(getattr(args, "imdb", None))

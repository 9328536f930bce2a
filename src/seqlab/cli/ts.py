"""``seqlab ts ...``: stationarity checks and ARIMA fits on a series from a file."""

from __future__ import annotations

import argparse
from pathlib import Path


def _int_tuple(text: str, count: int, what: str) -> tuple[int, ...]:
    parts = text.split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must be {count} comma-separated integers, got {text!r}"
        ) from None
    if len(values) != count:
        raise argparse.ArgumentTypeError(
            f"{what} must be {count} comma-separated integers, got {text!r}"
        )
    return values


def _add_file_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="CSV with a date column and a value column, or one column")
    parser.add_argument("--value", help="value column, by name or 0-based position")
    parser.add_argument("--date", help="date column, by name or 0-based position")


def register(subparsers) -> None:
    parser = subparsers.add_parser("ts", help="classical time series: check, fit, forecast")
    commands = parser.add_subparsers(dest="ts_command", metavar="COMMAND", required=True)

    check = commands.add_parser("check", help="ADF and KPSS tests, in plain words")
    _add_file_args(check)
    check.set_defaults(func=run_check)

    fit = commands.add_parser("fit", help="fit an ARIMA and forecast")
    _add_file_args(fit)
    fit.add_argument(
        "--order", required=True, type=lambda s: _int_tuple(s, 3, "--order"), help="p,d,q"
    )
    fit.add_argument(
        "--seasonal",
        type=lambda s: _int_tuple(s, 4, "--seasonal"),
        default=(0, 0, 0, 0),
        help="P,D,Q,m",
    )
    fit.add_argument("--trend", default=None, help="n, c (constant), t (drift) or ct")
    fit.add_argument("--method", default="css-mle", choices=["css-mle", "mle", "css"])
    fit.add_argument("--h", type=int, default=12, help="forecast horizon")
    fit.add_argument("--plot", help="write a PNG of history, forecast and intervals here")
    fit.set_defaults(func=run_fit)


def run_check(args: argparse.Namespace) -> int:
    from seqlab.io import read_series_csv
    from seqlab.ts import check_stationarity

    y = read_series_csv(args.file, value=args.value, date=args.date)
    print(check_stationarity(y.dropna()))
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from seqlab.io import read_series_csv
    from seqlab.plot import plot_forecast
    from seqlab.ts import ARIMA

    y = read_series_csv(args.file, value=args.value, date=args.date)
    model = ARIMA(
        order=args.order, seasonal_order=args.seasonal, trend=args.trend, method=args.method
    )
    try:
        result = model.fit(y)
    except ValueError as exc:
        raise ValueError(f"{args.file}, column {y.name!r}: {exc}") from None
    print(result.summary())
    forecast = result.forecast(args.h, level=(80, 95))
    print()
    print(forecast.to_frame().to_string())
    if args.plot:
        intervals = {lv: (forecast.lower[lv], forecast.upper[lv]) for lv in (80, 95)}
        path = plot_forecast(
            y,
            forecast.mean,
            Path(args.plot),
            intervals=intervals,
            title=f"{y.name}: ARIMA{args.order}",
        )
        print(f"\nwrote {path}")
    return 0

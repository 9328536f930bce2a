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
    check.add_argument("--alpha", type=float, default=0.05, help="significance level")
    check.add_argument(
        "--window",
        type=int,
        help="rolling window for --plot (default: the season length, else n // 10)",
    )
    check.add_argument(
        "--plot",
        help="write a PNG of the series with its rolling mean and sd here, and the "
        "ACF/PACF beside it as NAME_correlogram.png",
    )
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
    y = y.dropna()
    try:
        report = check_stationarity(y, alpha=args.alpha, window=args.window)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{args.file}, column {y.name!r}: {exc}") from None
    print(report)
    if args.plot:
        for path in _plot_check(y, report, Path(args.plot)):
            print(f"wrote {path}")
    return 0


def _plot_check(y, report, path: Path) -> list[Path]:
    import numpy as np

    from seqlab.plot import plot_correlogram, plot_series
    from seqlab.ts import acf, pacf

    stats, window = report.rolling, report.window
    name = y.name or "series"
    series_png = plot_series(
        {name: y, f"rolling mean ({window})": stats["mean"], f"rolling sd ({window})": stats["sd"]},
        path,
        title=f"{name}: rolling mean and sd",
        index=y.index,
    )
    nlags = max(1, min(int(10 * np.log10(len(y))), len(y) // 2 - 1))
    band = 1.959963984540054 / np.sqrt(len(y))
    correlogram_png = plot_correlogram(
        acf(y, nlags),
        pacf(y, nlags),
        band,
        path.with_name(f"{path.stem}_correlogram{path.suffix or '.png'}"),
        title=str(name),
    )
    return [series_png, correlogram_png]


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

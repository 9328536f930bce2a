"""``seqlab ts ...``: stationarity checks and ARIMA fits on a series from a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.cli._vocabulary import (
    add_alias,
    add_freq,
    add_level,
    forecast_dates,
    int_tuple,
    levels,
    note_once,
)

__all__ = [
    "is_arima_run",
    "predict_arima_run",
    "read_long_csv",
    "register",
    "run_auto",
    "run_check",
    "run_fit",
    "run_many",
]


def _add_file_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="CSV with a date column and a value column, or one column")
    parser.add_argument("--value", help="value column, by name or 0-based position")
    parser.add_argument(
        "--time-col", dest="date", metavar="COL", help="date column, by name or 0-based position"
    )
    add_alias(parser, "--date", "--time-col", "date")


def _read_series(args: argparse.Namespace, h: int):
    """The series of ``args.file``, the same as ARIMA takes it, and the ``h`` forecast
    dates.

    The dates are :func:`~seqlab.cli._vocabulary.forecast_dates` (None for a file
    without dates; an error line asking for ``--freq`` when they have no inferable
    frequency). ARIMA's series keeps the dates, carrying ``--freq`` when they follow
    it; dates that do not (trading days with holidays under ``--freq B``) are left out
    of it, and :func:`_redate` dates the forecasts.
    """
    import pandas as pd

    from seqlab.io import read_series_csv

    y = read_series_csv(args.file, value=args.value, date=args.date)
    dates = forecast_dates(args, y.index, h)
    freq = getattr(args, "freq", None)
    if freq is None or not isinstance(y.index, pd.DatetimeIndex):
        return y, y, dates
    try:
        return y, y.set_axis(pd.DatetimeIndex(y.index, freq=freq)), dates
    except ValueError:
        return y, y.reset_index(drop=True), dates


def _redate(forecast, dates):
    """``forecast`` (an ARIMA forecast) with its series indexed by ``dates`` (if any)."""
    if dates is None:
        return forecast
    import dataclasses

    import numpy as np
    import pandas as pd

    def dated(values):
        return pd.Series(np.asarray(values), index=dates, name=getattr(values, "name", None))

    return dataclasses.replace(
        forecast,
        mean=dated(forecast.mean),
        se=dated(forecast.se),
        lower={lv: dated(v) for lv, v in forecast.lower.items()},
        upper={lv: dated(v) for lv, v in forecast.upper.items()},
    )


def _add_outputs(parser: argparse.ArgumentParser) -> None:
    """``--out RUN`` (the run folder), ``--forecasts-out FILE`` (the forecasts CSV), and
    ``--save``, the old spelling of ``--out``."""
    parser.add_argument(
        "--out",
        metavar="RUN",
        help="save the fitted model to this run folder (for 'forecast predict --run')",
    )
    add_alias(parser, "--save", "--out", "save")
    parser.add_argument("--forecasts-out", metavar="FILE", help="write the forecasts to this CSV")


def _old_outputs(args: argparse.Namespace) -> None:
    """The old spellings in their old meanings, for one release: ``--save RUN`` is the
    run folder, and ``--out FILE.csv`` (ts auto's forecasts CSV before ``--out`` named
    the run folder) is the forecasts CSV, with a note."""
    old_csv = args.ts_command == "auto" and str(args.out or "").lower().endswith(".csv")
    if old_csv and not args.forecasts_out:
        note_once(
            "ts auto --out FILE.csv",
            f"ts auto --out {args.out}: a .csv there is the forecasts CSV as before, but "
            f"this use is deprecated: write --forecasts-out {args.out} (--out names the "
            "run folder to save the model in).",
        )
        args.forecasts_out, args.out = args.out, None
    if args.save is not None:
        if args.out is not None and args.out != args.save:
            raise ValueError(f"--out {args.out} and --save {args.save}: give the run folder once.")
        args.out = args.save


def _write_outputs(args: argparse.Namespace, result, table) -> None:
    from seqlab.io import atomic_write

    if args.forecasts_out:
        path = args.forecasts_out  # named ``path`` for the CLI's error line on a failed write
        with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
            table.to_csv(handle, index_label="ds")
        print(f"wrote {path}")
    if args.out:
        print(f"saved the model to {result.save(args.out)}")


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
    fit.add_argument("--order", required=True, type=int_tuple(3, "--order"), help="p,d,q")
    fit.add_argument(
        "--seasonal",
        type=int_tuple(4, "--seasonal"),
        default=(0, 0, 0, 0),
        help="P,D,Q,m",
    )
    fit.add_argument("--trend", default=None, help="n, c (constant), t (drift) or ct")
    fit.add_argument("--method", default="css-mle", choices=["css-mle", "mle", "css"])
    fit.add_argument("--h", type=int, default=12, help="forecast horizon")
    add_level(fit, (80, 95))
    add_freq(fit)
    fit.add_argument("--plot", help="write a PNG of history, forecast and intervals here")
    _add_outputs(fit)
    fit.set_defaults(func=run_fit)

    auto = commands.add_parser("auto", help="choose an ARIMA automatically and forecast")
    _add_file_args(auto)
    auto.add_argument("--m", type=int, default=1, help="seasonal period (12 monthly, 4 quarterly)")
    auto.add_argument("--h", type=int, default=12, help="forecast horizon")
    add_level(auto, (80, 95))
    add_freq(auto)
    _add_auto_options(auto)
    auto.add_argument("--trace", action="store_true", help="print every model tried")
    _add_outputs(auto)
    auto.add_argument("--plot", help="write a PNG of history, forecast and intervals here")
    auto.set_defaults(func=run_auto)

    many = commands.add_parser(
        "many", help="auto ARIMA for every series of a long CSV (unique_id, ds, y)"
    )
    many.add_argument("file", help="long CSV: unique_id, ds, y, and optional regressor columns")
    many.add_argument("--h", type=int, required=True, help="forecast horizon")
    many.add_argument("--m", type=int, default=1, help="seasonal period")
    many.add_argument("--future", help="CSV of future regressors (unique_id, ds, regressors)")
    many.add_argument("--backend", default="serial", choices=["serial", "process", "dask", "ray"])
    many.add_argument("--n-jobs", type=int, default=None, help="workers (default: all cores)")
    many.add_argument("--freq", help="pandas frequency of ds when it cannot be inferred")
    add_level(many, (80, 95))
    _add_long_columns(many)
    _add_auto_options(many)
    many.add_argument("--out", default="forecasts.csv", help="forecasts CSV (default: %(default)s)")
    many.add_argument(
        "--models-out", dest="models_out", help="also write the per-series models table here"
    )
    add_alias(many, "--models", "--models-out", "models_out")
    many.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    many.set_defaults(func=run_many)


def _add_long_columns(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id-col", default="unique_id", help="series id column (%(default)s)")
    parser.add_argument("--time-col", default="ds", help="time stamp column (%(default)s)")
    parser.add_argument("--value", default="y", help="value column (%(default)s)")


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
    series_png = path
    plot_series(
        {name: y, f"rolling mean ({window})": stats["mean"], f"rolling sd ({window})": stats["sd"]},
        series_png,
        title=f"{name}: rolling mean and sd",
        index=y.index,
    )
    nlags = max(1, min(int(10 * np.log10(len(y))), len(y) // 2 - 1))
    band = 1.959963984540054 / np.sqrt(len(y))
    correlogram_png = path.with_name(f"{path.stem}_correlogram{path.suffix or '.png'}")
    plot_correlogram(acf(y, nlags), pacf(y, nlags), band, correlogram_png, title=str(name))
    return [series_png, correlogram_png]


def run_fit(args: argparse.Namespace) -> int:
    from seqlab._validation import check_horizon
    from seqlab.ts import ARIMA

    check_horizon(args.h, "--h")
    level = levels(args)
    _old_outputs(args)
    y, fit_y, dates = _read_series(args, args.h)
    model = ARIMA(
        order=args.order, seasonal_order=args.seasonal, trend=args.trend, method=args.method
    )
    try:
        result = model.fit(fit_y)
    except ValueError as exc:
        raise ValueError(f"{args.file}, column {y.name!r}: {exc}") from None
    print(result.summary())
    forecast = _redate(result.forecast(args.h, level=level), dates)
    table = forecast.to_frame()
    print()
    print(table.to_string())
    if args.plot:
        title = f"{y.name}: ARIMA{args.order}"
        print(f"\nwrote {_plot(y, forecast, args.plot, title, level)}")
    _write_outputs(args, result, table)
    return 0


def _add_auto_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ic", default="aicc", choices=["aicc", "aic", "bic"])
    parser.add_argument(
        "--seasonal-test", default="seas", choices=["seas", "ocsb"], help="test choosing D"
    )
    parser.add_argument(
        "--no-stepwise", action="store_true", help="search every order up to --max-order"
    )
    parser.add_argument("--max-order", type=int, default=5, help="p+q+P+Q without stepwise")


def _auto_options(args: argparse.Namespace) -> dict:
    return {
        "ic": args.ic,
        "seasonal_test": args.seasonal_test,
        "stepwise": not args.no_stepwise,
        "max_order": args.max_order,
    }


def run_auto(args: argparse.Namespace) -> int:
    from seqlab._validation import check_horizon, check_period
    from seqlab.ts import auto_arima

    check_horizon(args.h, "--h")
    check_period(args.m, "--m")
    level = levels(args)
    _old_outputs(args)
    y, fit_y, dates = _read_series(args, args.h)
    try:
        result = auto_arima(fit_y, args.m, **_auto_options(args))
        forecast = _redate(result.forecast(args.h, level=level), dates)
    except ValueError as exc:
        raise ValueError(f"{args.file}, column {y.name!r}: {exc}") from None
    if args.trace:
        print(result.trace_table())
        print()
    print(result.summary())
    table = forecast.to_frame()
    print()
    print(table.to_string())
    if args.plot:
        print(f"wrote {_plot(y, forecast, args.plot, f'{y.name}: {result.label}', level)}")
    _write_outputs(args, result, table)
    return 0


def read_long_csv(path: str, what: str, columns: dict | None = None):
    """A long CSV as a frame with ``ds`` parsed as dates where it is not numeric.

    ``columns`` maps the file's columns to their names in the frame (e.g.
    ``{"date": "ds"}``); a column it names that the file lacks is a ValueError naming
    the file and the column.
    """
    import pandas as pd

    from seqlab.io import read_csv_frame

    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file ({what}).")
    frame = read_csv_frame(path)
    columns = columns or {}
    renames = {old: new for old, new in columns.items() if old != new}
    missing = [old for old in columns if old not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: lacks the column(s) {missing} (it has {list(map(str, frame.columns))}); "
            "name the columns with --id-col, --time-col and --value."
        )
    frame = frame.rename(columns=renames)
    if "ds" in frame.columns and not pd.api.types.is_numeric_dtype(frame["ds"]):
        parsed = pd.to_datetime(frame["ds"], errors="coerce", format="mixed")
        if parsed.isna().any():
            row = int(parsed.isna().to_numpy().argmax())
            raise ValueError(
                f"{path}: column 'ds', line {row + 2}: {frame['ds'].iloc[row]!r} is neither "
                "a date nor an integer."
            )
        frame["ds"] = parsed
    return frame


def run_many(args: argparse.Namespace) -> int:
    import sys

    from seqlab._validation import check_horizon, check_period
    from seqlab.io import atomic_write
    from seqlab.ts import fit_many

    check_horizon(args.h, "--h")
    check_period(args.m, "--m")
    level = levels(args)
    columns = {args.id_col: "unique_id", args.time_col: "ds", args.value: "y"}
    frame = read_long_csv(args.file, "the series", columns)
    future = None
    if args.future:
        keys = {args.id_col: "unique_id", args.time_col: "ds"}
        future = read_long_csv(args.future, "future regressors", keys)
    try:
        result = fit_many(
            frame,
            args.h,
            args.m,
            level=level,
            future=future,
            backend=args.backend,
            n_jobs=args.n_jobs,
            freq=args.freq,
            progress=not args.no_progress,
            **_auto_options(args),
        )
    except ValueError as exc:
        raise ValueError(f"{args.file}: {exc}") from None
    with atomic_write(args.out, "w", encoding="utf-8", newline="") as handle:
        result.forecasts.to_csv(handle, index=False)
    if args.models_out:
        with atomic_write(args.models_out, "w", encoding="utf-8", newline="") as handle:
            result.models.to_csv(handle, index=False)
    models = result.models
    failed = result.errors
    print(f"{len(models) - len(failed)} of {len(models)} series fitted; wrote {args.out}")
    if args.models_out:
        print(f"wrote {args.models_out}")
    counts = models["model"].dropna().value_counts().head(5)
    for label, count in counts.items():
        print(f"  {count:>5}  {label}")
    for _, row in failed.iterrows():
        print(f"seqlab: series {row.iloc[0]!r}: {row['error']}", file=sys.stderr)
    return 0 if len(failed) < len(models) else 1


def _plot(y, forecast, path: str, title: str, level: tuple = (80, 95)) -> Path:
    """History, forecast and its ``level`` intervals as a PNG at ``path``."""
    from seqlab.plot import plot_forecast

    intervals = {lv: (forecast.lower[lv], forecast.upper[lv]) for lv in level}
    plot_forecast(y, forecast.mean, Path(path), intervals=intervals, title=title)
    return Path(path)


def is_arima_run(run: str) -> bool:
    """Whether ``run`` is a run folder written by ``ts fit|auto --out`` (or ``.save``)."""
    from seqlab.ts.runs import is_arima_run as holds_arima

    return holds_arima(run)


def predict_arima_run(args: argparse.Namespace) -> int:
    """``forecast predict --run RUN FILE`` for an ARIMA run: the saved model with its
    parameters kept, filtered on FILE's series (nothing is re-estimated), forecast
    ``--h`` steps (default 12) with ``--level`` intervals (default 80 and 95), by date
    where FILE has dates (stepped by ``--freq`` where pandas cannot infer it)."""
    import pandas as pd

    from seqlab._validation import check_horizon
    from seqlab.io import atomic_write, read_csv_frame
    from seqlab.ts.auto import AutoARIMAResult, DeterministicResult
    from seqlab.ts.runs import load_arima

    result = load_arima(args.run)
    h = check_horizon(12 if args.h is None else args.h, "--h")
    level = levels(args)
    model = result.model if isinstance(result, AutoARIMAResult) else result
    if isinstance(model, DeterministicResult):
        k_exog, name = model.k_exog, model.name
    else:
        k_exog, name = model._problem.data.k_exog, model._problem.data.name
    if k_exog:
        raise ValueError(
            f"{args.run}: the model has {k_exog} regressor(s), whose future values the "
            "command cannot read; forecast it from Python (ARIMAResult.load(...).apply(y, "
            "exog).forecast(h, exog=future))."
        )
    value = getattr(args, "value", None)
    if value is None:
        frame = read_csv_frame(args.file)
        numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if name in frame.columns:
            value = name
        elif len(numeric) > 1:
            raise ValueError(
                f"{args.file}: no column named {name!r}, the series {args.run} was fitted on, "
                f"and several numeric columns ({', '.join(numeric)}); pass --value COLUMN."
            )
    args.value, args.date = value, getattr(args, "date", None)
    y, fit_y, dates = _read_series(args, h)
    try:
        forecast = _redate(model.apply(fit_y).forecast(h, level=level), dates)
    except ValueError as exc:
        raise ValueError(f"{args.file}, column {y.name!r}: {exc}") from None
    print(f"{args.run}: {result.label} on {args.file} ({len(y)} values), {h} steps ahead")
    table = forecast.to_frame()
    print(table.to_string())
    if args.out:
        with atomic_write(args.out, "w", encoding="utf-8", newline="") as handle:
            table.to_csv(handle, index_label="ds")
        print(f"wrote {args.out}")
    return 0

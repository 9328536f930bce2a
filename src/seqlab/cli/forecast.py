"""``seqlab forecast ...``: backtest forecasters on a CSV, fit one to a run folder, predict.

    seqlab forecast backtest FILE --value Close --models naive,arima,lstm,bilstm \\
        --h 5 --lookback 20
    seqlab forecast fit FILE --value Close --model lstm --h 5 --lookback 20 --out RUN
    seqlab forecast predict --run RUN FILE
    seqlab forecast cv LONG.csv --models auto_arima,snaive --h 12 --windows 3 --m 12
    seqlab forecast cv LONG.csv --models snaive,global-gru --h 12 --windows 3 --epochs 20

The networks' training flags (``--seed``, ``--device``, ``--log``) are the ones every
training command shares (:mod:`seqlab.cli._training_flags`).
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from seqlab.cli._training_flags import (
    DEFAULT_SEED,
    add_training_flags,
    check_training_flags,
    describe_history,
    logger_lines,
    training_callbacks,
)
from seqlab.cli._vocabulary import (
    add_alias,
    add_freq,
    add_level,
    forecast_dates,
    int_tuple,
    levels,
    require,
)

__all__ = ["register", "run_backtest", "run_cv", "run_fit", "run_predict"]


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="CSV with a target column (and optional feature columns)")
    parser.add_argument("--value", help="the column to forecast, e.g. Close (required)")
    add_alias(parser, "--target", "--value", "value")
    parser.add_argument(
        "--features",
        default=None,
        help="extra input columns for the recurrent models: comma-separated names or 'all'",
    )
    parser.add_argument(
        "--time-col", dest="date", default=None, help="date column (default: a first date column)"
    )
    add_alias(parser, "--date", "--time-col", "date")


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--h", type=int, default=1, help="steps ahead to forecast")
    add_alias(parser, "--horizon", "--h", "h", type=int)
    parser.add_argument("--lookback", type=int, default=20, help="window length of the networks")
    parser.add_argument("--m", type=int, default=1, help="seasonal period (snaive, MASE)")
    parser.add_argument("--order", type=int_tuple(3, "--order"), default=(1, 1, 0), help="p,d,q")
    parser.add_argument(
        "--seasonal",
        type=int_tuple(4, "--seasonal"),
        default=(0, 0, 0, 0),
        help="P,D,Q,m of the ARIMA",
    )
    parser.add_argument("--hidden", type=int, default=32, help="hidden size of the networks")
    parser.add_argument("--layers", type=int, default=1, help="stacked recurrent layers")
    parser.add_argument("--epochs", type=int, default=100, help="maximum training epochs")
    parser.add_argument("--patience", type=int, default=10, help="early stopping patience")
    parser.add_argument("--lr", type=float, default=3e-3, help="learning rate")


# Imported before a command runs, with Ctrl-C held back (see seqlab.cli.main).
_PRELOAD = ("torch", "seqlab.forecast.runs", "seqlab.forecast.zoo")


def _backtest_preload(args: argparse.Namespace) -> tuple[str, ...]:
    classical = {"naive", "snaive", "drift", "mean", "arima", "auto_arima"}
    names = {n.strip() for n in args.models.split(",") if n.strip()}
    return () if names <= classical else _PRELOAD


def _fit_interrupted(args: argparse.Namespace) -> str:
    out = shlex.quote(str(args.out))
    if getattr(args, "log", None):
        return f"no model was saved in {out} (the --log files written so far stay)"
    return f"nothing was saved in {out}"


def _check_out_folder(out: str) -> None:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder; give a folder for the run.")


def _neural_options(args: argparse.Namespace) -> dict:
    return {
        "hidden_size": args.hidden,
        "num_layers": args.layers,
        "epochs": args.epochs,
        "patience": args.patience,
        "lr": args.lr,
        "seed": DEFAULT_SEED if args.seed is None else args.seed,
        "device": args.device,
    }


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "forecast", help="forecasting: backtest models side by side, fit, predict"
    )
    commands = parser.add_subparsers(dest="forecast_command", metavar="COMMAND", required=True)

    bt = commands.add_parser(
        "backtest",
        help="rolling-origin backtest of several models; prints MAE/RMSE/MAPE/sMAPE/MASE",
    )
    _add_data_args(bt)
    _add_model_args(bt)
    add_training_flags(bt, quiet=False, run_folder=False)
    bt.add_argument(
        "--models",
        default="naive,arima,lstm",
        help="comma-separated: naive, snaive, drift, mean, arima, auto_arima, rnn, lstm, gru, "
        "bilstm, lstm-recursive, lstm-seq2seq, ..., hybrid",
    )
    bt.add_argument(
        "--test", type=float, default=0.2, help="fraction of rows after the first origin"
    )
    bt.add_argument("--step", type=int, default=1, help="rows between forecast origins")
    bt.add_argument(
        "--refit-every",
        type=int,
        default=0,
        help="refit every k origins (0: fit once at the first origin, then only update)",
    )
    bt.add_argument("--window", choices=["expanding", "sliding"], default="expanding")
    bt.add_argument("--plot", help="write a PNG of the last origins' forecasts against actuals")
    bt.add_argument("--json", help="write the metrics table as JSON here")
    bt.set_defaults(func=run_backtest, preload=_backtest_preload)

    fit = commands.add_parser("fit", help="fit a recurrent forecaster and save a run folder")
    _add_data_args(fit)
    _add_model_args(fit)
    add_training_flags(fit)
    fit.add_argument(
        "--model", default="lstm", help="rnn, lstm, gru, bilstm (+ -recursive/-seq2seq)"
    )
    fit.add_argument("--out", required=True, help="run folder to write")
    fit.set_defaults(func=run_fit, preload=_PRELOAD, on_interrupt=_fit_interrupted)

    predict = commands.add_parser("predict", help="forecast the end of FILE with a saved run")
    predict.add_argument(
        "--run", required=True, help="run folder written by 'forecast fit' or 'ts fit|auto --out'"
    )
    predict.add_argument("file", help="CSV with the same columns as at fit time")
    predict.add_argument("--h", type=int, default=None, help="steps (default: the run's horizon)")
    predict.add_argument(
        "--value",
        help="the series' column in FILE: for an ARIMA run, default the column it was fitted "
        "on (by name); for a global run, the value column of the long CSV (default y)",
    )
    predict.add_argument(
        "--id-col", default="unique_id", help="a global run's series id column (%(default)s)"
    )
    predict.add_argument(
        "--time-col", default="ds", help="a global run's time stamp column (%(default)s)"
    )
    add_level(predict, (80, 95))
    add_freq(predict)
    predict.add_argument("--out", help="also write the forecast as CSV here")
    predict.set_defaults(func=run_predict, preload=_PRELOAD)

    cv = commands.add_parser(
        "cv",
        help="cross-validate models on every series of a long CSV; prints evaluate's table",
    )
    cv.add_argument("file", help="long CSV: an id column, a time column and a value column")
    cv.add_argument(
        "--models",
        default="auto_arima,snaive,naive",
        help=f"comma-separated: {', '.join(_CV_MODELS)} (default: %(default)s)",
    )
    cv.add_argument("--h", type=int, required=True, help="steps ahead of each window")
    cv.add_argument("--windows", type=int, default=1, help="cross-validation windows")
    cv.add_argument(
        "--step-size", type=int, default=None, help="rows between windows (default: --h)"
    )
    add_level(cv)
    cv.add_argument("--freq", help="pandas frequency of the time column when not inferable")
    cv.add_argument(
        "--m",
        type=int,
        default=1,
        help="seasonal period (snaive, auto_arima, the global models' season_length, MASE)",
    )
    cv.add_argument(
        "--order", type=int_tuple(3, "--order"), default=(1, 1, 0), help="p,d,q of arima"
    )
    cv.add_argument(
        "--seasonal",
        type=int_tuple(4, "--seasonal"),
        default=(0, 0, 0, 0),
        help="P,D,Q,m of arima",
    )
    cv.add_argument("--id-col", default="unique_id", help="series id column (%(default)s)")
    cv.add_argument("--time-col", default="ds", help="time stamp column (%(default)s)")
    cv.add_argument("--value", default="y", help="value column (%(default)s)")
    cv.add_argument("--backend", default="serial", choices=["serial", "process"])
    cv.add_argument("--n-jobs", type=int, default=None, help="workers (default: all cores)")
    global_flags = cv.add_argument_group(
        "global recurrent models (global, global-rnn, global-lstm, global-gru, global-hybrid, "
        "global-hybrid-residuals)",
        "one network trained on every series of each window; horizon --h. global-hybrid: "
        "the mean of auto ARIMA's and the global network's forecasts; "
        "global-hybrid-residuals: auto ARIMA plus the global network on its residuals; "
        "both take their intervals from a second fit without each series' last --h rows",
    )
    global_flags.add_argument(
        "--lookback", type=int, default=None, help="window length (default: the model's own)"
    )
    global_flags.add_argument(
        "--hidden", type=int, default=None, help="hidden size (default: the model's own)"
    )
    global_flags.add_argument(
        "--epochs", type=int, default=100, help="maximum training epochs (%(default)s)"
    )
    global_flags.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (%(default)s)"
    )
    global_flags.add_argument(
        "--valid-size",
        type=int,
        default=None,
        help="last rows of each series held out for early stopping and the conformal "
        "intervals (default: --h, raised to what --level needs over the series)",
    )
    cv.add_argument("--out", help="write the cross-validation frame to this CSV")
    cv.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    cv.set_defaults(func=run_cv, preload=_cv_preload)


# Local models ``forecast cv`` runs per series (names as in ``forecast backtest``), and
# the global recurrent models it trains once per window on every series.
_LOCAL_CV_MODELS = ("auto_arima", "arima", "naive", "snaive", "drift", "mean")
_GLOBAL_CV_MODELS = (
    "global",
    "global-rnn",
    "global-lstm",
    "global-gru",
    "global-hybrid",
    "global-hybrid-residuals",
)
_CV_MODELS = _LOCAL_CV_MODELS + _GLOBAL_CV_MODELS


def _cv_preload(args: argparse.Namespace) -> tuple[str, ...]:
    names = {n.strip() for n in args.models.split(",") if n.strip()}
    return ("torch", "seqlab.forecast.neural") if names & set(_GLOBAL_CV_MODELS) else ()


def _global_model(name: str, h: int, args: argparse.Namespace, level: tuple, n_series: int):
    """``GlobalRecurrentForecaster`` for ``global[-cell]``: direct ``h``-step output,
    ``season_length`` ``--m`` (the default ensemble's lookbacks and seasonal levels
    follow it), the flags given, the model's own defaults for the rest.

    Without ``--valid-size`` the hold-out is ``h`` rows, or the fewest that give the
    widest ``level`` its conformal errors at step ``h``: each series' hold-out of ``V``
    rows scores step ``h`` from ``V - h + 1`` origins.
    """
    import math

    from seqlab._validation import check_int
    from seqlab.forecast.conformal import needed_scores
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    if args.valid_size is not None:
        valid_size = check_int(args.valid_size, "--valid-size", minimum=0)
    else:
        needed = needed_scores(max(level)) if level else 1
        valid_size = max(h, h - 1 + math.ceil(needed / n_series))
    options = {
        "season_length": check_int(args.m, "--m", minimum=1),
        "epochs": check_int(args.epochs, "--epochs", minimum=1),
        "seed": args.seed,
        "valid_size": valid_size,
    }
    if args.lookback is not None:
        options["lookback"] = check_int(args.lookback, "--lookback", minimum=1)
    if args.hidden is not None:
        options["hidden_size"] = check_int(args.hidden, "--hidden", minimum=1)
    if name in ("global-hybrid", "global-hybrid-residuals"):
        from seqlab.forecast.hybrid import GlobalHybridForecaster

        options["valid_size"] = h if args.valid_size is None else valid_size
        return GlobalHybridForecaster(
            horizon=h,
            season_length=options["season_length"],
            network=GlobalRecurrentForecaster(horizon=h, **options),
            how="mean" if name == "global-hybrid" else "residuals",
            calibrate=bool(level),  # the second fit gives intervals only
            backend=args.backend,
            n_jobs=args.n_jobs,
        )
    cell = name.partition("-")[2] or None
    return GlobalRecurrentForecaster(cell, horizon=h, **options)


def _load(args: argparse.Namespace):
    from seqlab.forecast.data import load_frame, split_frame

    require(args, "value", "--value")
    frame = load_frame(args.file, args.value, args.features, date=args.date)
    return frame, *split_frame(frame)


def run_backtest(args: argparse.Namespace) -> int:
    from seqlab.forecast.backtest import backtest
    from seqlab.forecast.zoo import NEURAL, make_forecaster
    from seqlab.io import write_json
    from seqlab.train.callbacks import attached

    check_training_flags(args, None)
    _, y, X = _load(args)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    models = {
        name: make_forecaster(
            name,
            horizon=args.h,
            lookback=args.lookback,
            m=args.m,
            order=args.order,
            seasonal_order=args.seasonal,
            **(_neural_options(args) if name in NEURAL or name == "hybrid" else {}),
        )
        for name in names
    }
    if X is not None and not any(name in NEURAL for name in names):
        # Only the networks read feature columns; the others see the target alone.
        raise ValueError("--features is only used by recurrent models; add one to --models.")
    # Each network's fit is its own logged run (fit-2, fit-3, ... after the first).
    callbacks = training_callbacks(args, None)
    with attached(callbacks):
        result = backtest(
            models,
            y,
            args.h,
            X=X,
            initial=1.0 - args.test,
            step=args.step,
            window=args.window,
            refit_every=args.refit_every or None,
            m=args.m,
            progress=not getattr(args, "quiet", False),
        )
    print(
        f"{args.file}: column {args.value!r}, horizon {args.h}, "
        f"{int(result.metrics['origins'].iloc[0])} origins"
    )
    print(result.table())
    if args.h > 1:
        print("\nBy step (MAE):")
        print(result.by_step["mae"].unstack("step").to_string(float_format=lambda v: f"{v:.4g}"))
    if args.plot:
        result.plot(args.plot)
        print(f"\nwrote {args.plot}")
    if args.json:
        write_json(args.json, {"metrics": json.loads(result.metrics.to_json(orient="index"))})
        print(f"wrote {args.json}")
    for line in logger_lines(callbacks):
        print(line)
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from seqlab.forecast.runs import save_forecaster
    from seqlab.forecast.zoo import NEURAL, make_forecaster
    from seqlab.train.callbacks import attached

    if args.model not in NEURAL:
        raise ValueError(
            f"--model must be a recurrent model ({', '.join(NEURAL)}), got {args.model!r}; "
            "baselines and ARIMA have no run folder (use 'seqlab ts fit')."
        )
    _check_out_folder(args.out)
    check_training_flags(args, args.out)
    _, y, X = _load(args)
    model = make_forecaster(
        args.model, horizon=args.h, lookback=args.lookback, **_neural_options(args)
    )
    callbacks = training_callbacks(args, args.out, epoch_lines=True, loss_units="scaled")
    # The values alone: a run folder keeps no dates ('forecast predict' dates its
    # forecasts from FILE and --freq), so trading days need no frequency here.
    y = y.reset_index(drop=True)
    X = None if X is None else X.reset_index(drop=True)
    with attached(callbacks):
        model.fit(y, X)
    path = save_forecaster(model, args.out)
    print(f"trained {model.label} on {len(y)} rows (columns: {', '.join(model.columns_)})")
    print(describe_history(model.history_, args.epochs))
    print(
        f"losses and errors are in scaled units (the {model.scaler} scaler fitted on the "
        "training rows), not in the target's units"
    )
    print(f"wrote {path}")
    for line in logger_lines(callbacks):
        print(line)
    return 0


def run_predict(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from seqlab.cli.ts import is_arima_run, predict_arima_run

    if is_arima_run(args.run):
        return predict_arima_run(args)

    from seqlab.forecast.data import load_frame
    from seqlab.forecast.runs import load_forecaster, predict_frame

    forecaster = load_forecaster(args.run)
    if getattr(forecaster, "is_global", False):
        return _predict_global(args, forecaster)
    target, *features = forecaster.columns_
    try:
        frame = load_frame(args.file, target, features or None)
    except ValueError as exc:
        raise ValueError(
            f"{exc} The run {args.run} was fitted on columns {forecaster.columns_} "
            "(target first); the file must have them all."
        ) from None
    h = args.h if args.h is not None else forecaster.horizon
    dates = forecast_dates(args, frame.index, h)
    # The values alone: the dates (stepped by --freq where given) are the command's.
    undated = frame.reset_index(drop=True)
    columns = {"forecast": np.asarray(predict_frame(forecaster, undated, h), dtype=np.float64)}
    if args.level is not None:
        # The run's conformal calibration scores give the intervals (a format-1 run kept
        # none, which forecast() says in its error).
        bands = forecaster.forecast(h, level=levels(args)).to_frame().drop(columns="mean")
        columns.update({name: bands[name].to_numpy() for name in bands.columns})
    if dates is None:
        table = pd.DataFrame(columns, index=pd.RangeIndex(1, h + 1, name="step"))
    else:
        table = pd.DataFrame(columns, index=dates.rename("ds"))
    print(table.to_string())
    if args.out:
        from seqlab.io import atomic_write

        with atomic_write(args.out, "w", encoding="utf-8") as handle:
            table.to_csv(handle)
        print(f"wrote {args.out}")
    return 0


def _predict_global(args: argparse.Namespace, forecaster) -> int:
    """``forecast predict`` with a global run: FILE is a long CSV (``--id-col``,
    ``--time-col``, ``--value``) and every series in it is forecast ``--h`` steps after
    its own end by the saved network (nothing is retrained), with the run's conformal
    intervals; the output is long too: id, date, ``forecast``, ``lower_80`` ..."""
    import pandas as pd

    from seqlab._validation import future_index
    from seqlab.cli.ts import read_long_csv

    value = args.value if args.value is not None else "y"
    columns = {args.id_col: "unique_id", args.time_col: "ds", value: "y"}
    frame = read_long_csv(args.file, "the series", columns)[["unique_id", "ds", "y"]]
    frame = frame.sort_values(["unique_id", "ds"], kind="stable")
    h = args.h if args.h is not None else forecaster.horizon
    groups = {str(uid): part for uid, part in frame.groupby("unique_id", sort=False)}
    try:
        series = {uid: part["y"].to_numpy(dtype=float) for uid, part in groups.items()}
        forecasts = forecaster.forecast(h, level=levels(args) or None, series=series)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{args.file}: {exc}") from None
    parts = []
    for uid, forecast in forecasts.items():
        stamps = groups[uid]["ds"]
        if stamps.duplicated().any():
            raise ValueError(
                f"{args.file}: series {uid!r} repeats the time stamp "
                f"{stamps[stamps.duplicated()].iloc[0]!r}."
            )
        try:
            dates = future_index(pd.Index(stamps), h, args.freq)
        except ValueError as exc:
            raise ValueError(f"{args.file}: series {uid!r}: {exc}") from None
        part = {args.id_col: uid, args.time_col: dates, "forecast": forecast.mean}
        for level in sorted(forecast.lower):
            part[f"lower_{level:g}"] = forecast.lower[level]
            part[f"upper_{level:g}"] = forecast.upper[level]
        parts.append(pd.DataFrame(part))
    table = pd.concat(parts, ignore_index=True)
    print(f"{args.run}: {len(parts)} series from {args.file}, {h} steps ahead")
    print(table.to_string(index=False))
    if args.out:
        from seqlab.io import atomic_write

        with atomic_write(args.out, "w", encoding="utf-8", newline="") as handle:
            table.to_csv(handle, index=False)
        print(f"wrote {args.out}")
    return 0


def run_cv(args: argparse.Namespace) -> int:
    """``forecast cv``: :meth:`Forecasts.cross_validation` on a long CSV, scored by
    :func:`evaluate` (the mean over series per model; MASE scaled at lag ``--m``).
    Local models are fitted per series and window; a global recurrent model is trained
    once per window on every series' history before the window."""
    from seqlab._validation import check_horizon, check_int, check_period
    from seqlab.cli.ts import read_long_csv
    from seqlab.forecast import Forecasts, evaluate
    from seqlab.forecast.zoo import make_forecaster
    from seqlab.io import atomic_write

    h = check_horizon(args.h, "--h")
    check_int(args.windows, "--windows", minimum=1)
    if args.step_size is not None:
        check_int(args.step_size, "--step-size", minimum=1)
    check_period(args.m, "--m")
    level = levels(args)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in _CV_MODELS]
    if not names or unknown:
        raise ValueError(
            f"--models: unknown model {unknown[0] if unknown else args.models!r}; "
            f"choose from {', '.join(_CV_MODELS)}."
        )
    columns = {args.id_col: "unique_id", args.time_col: "ds", args.value: "y"}
    frame = read_long_csv(args.file, "the series", columns)[["unique_id", "ds", "y"]]
    n_series = frame["unique_id"].nunique()
    models = {
        name: _global_model(name, h, args, level, n_series)
        if name in _GLOBAL_CV_MODELS
        else make_forecaster(
            name, horizon=h, lookback=1, m=args.m, order=args.order, seasonal_order=args.seasonal
        )
        for name in dict.fromkeys(names)
    }
    runner = Forecasts(
        models,
        freq=args.freq,
        backend=args.backend,
        n_jobs=args.n_jobs,
        progress=not args.no_progress,
    )
    try:
        cv = runner.cross_validation(
            frame, h, n_windows=args.windows, step_size=args.step_size, level=level or None
        )
        table = evaluate(cv, train_df=frame, season_length=args.m, agg="mean")
    except ValueError as exc:
        raise ValueError(f"{args.file}: {exc}") from None
    print(f"{args.file}: {n_series} series, {args.windows} window(s) of h={h}; mean over series")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        out = cv.rename(columns={"unique_id": args.id_col, "ds": args.time_col, "y": args.value})
        with atomic_write(args.out, "w", encoding="utf-8", newline="") as handle:
            out.to_csv(handle, index=False)
        print(f"wrote {args.out}")
    return 0

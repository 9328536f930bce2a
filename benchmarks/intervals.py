"""Prediction intervals on M3 monthly: empirical coverage and width, and the cost of
``Forecasts.cross_validation`` against a plain ``auto_arima`` loop.

Coverage (the default mode). The 1,428 M3 monthly series (../shared/data/m3), the last
18 points of each held out (the competition's test part); every method fits the
training part and gives 80 % and 95 % intervals for the 18 steps:

- ``auto_arima``: ``AutoArimaForecaster(m=12)`` (analytic intervals from the state-space
  forecast variance), through ``Forecasts(..., backend="process")``;
- ``global``: the default ``GlobalRecurrentForecaster(horizon=18, season_length=12)``
  (a median ensemble of GRUs), split-conformal intervals from its hold-out;
- ``global_hybrid``: ``GlobalHybridForecaster(horizon=18, season_length=12)``: the mean
  of auto ARIMA's and the default global network's forecasts, intervals split-conformal
  over series from a second fit without each series' last 18 points;
- ``gru``: one ``GlobalRecurrentForecaster("gru", horizon=18, log=True)`` over all series,
  split-conformal intervals from its validation hold-out (the last 18 training points
  of every series; a few more in a sample of fewer than 19 series), through ``Forecasts``;
- ``hybrid``: ``HybridForecaster(AutoArimaForecaster(m=12), GRU on the residuals,
  recursive)`` per series, split-conformal intervals from the last 36 residuals (the
  fewest that give 19 errors at step 18, which a 95 % interval needs); only series with
  at least 64 training points can hold that out, the others are counted as skipped;
- ``auto_arima_conformal`` and ``hybrid_conformal``: the same models wrapped in
  ``ConformalForecaster(model, horizon=18, hold_out=36)``: fitted to all but the last 36
  training points, rolled through them (ARIMA re-filtered with its parameters fixed) for
  the errors, then refitted to every point (long series only, as the hybrid);
- ``auto_arima_pooled`` and ``hybrid_pooled``: ``Forecasts(..., conformal_windows=1)``:
  each model is also fitted to all but the last 18 training points, and its errors on
  them, over the series' scale, are pooled across series (cross-series conformal);
- ``statsforecast``: ``statsforecast.models.AutoARIMA(season_length=12)`` (when the
  package is importable; otherwise the column is skipped with a note).

Per method: coverage (percent of the held-out points inside the interval, pooled over
series and steps; the target is within 3 points of the level), mean width in the
series' units, and mean scaled width (each series' width over its in-sample seasonal
naive MAE, so series of every size weigh alike), with sMAPE for the point forecasts.
Methods compared in one row are scored on the same series.

Timing (``--cv-timing``): ``Forecasts([AutoArimaForecaster(m=12)],
backend="process").cross_validation(df, h=18, n_windows=1, level=[80, 95])`` over the
whole series against ``auto_arima(y[:-18], 12).forecast(18, level=(80, 95))`` in a loop
in this process (the same fits), plus the serial backend (the front door's own
overhead); the three run ``--repeat`` times interleaved and the fastest of each counts.
The ratio to the loop is the figure to read, and the forecasts must agree.

    .venv/bin/python benchmarks/intervals.py                    # all 1,428 series
    .venv/bin/python benchmarks/intervals.py --sample 100       # 100 random series
    .venv/bin/python benchmarks/intervals.py --sample 100 --cv-timing

Prints a table and writes ``benchmarks/results/intervals.json`` (or
``intervals_cv_timing.json``), with the machine's load average: timings on a shared
machine are noisy, compare ratios within one run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import logging
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from seqlab.datasets import shared_data_dir
from seqlab.forecast import Forecasts, evaluate
from seqlab.forecast.classical import AutoArimaForecaster
from seqlab.forecast.metrics import mase_scale
from seqlab.io import write_json

H, M, LEVELS = 18, 12, (80, 95)
METHODS = (
    "auto_arima",
    "global",
    "global_hybrid",
    "gru",
    "hybrid",
    "auto_arima_conformal",
    "hybrid_conformal",
    "auto_arima_pooled",
    "hybrid_pooled",
    "statsforecast",
)
#: Methods that hold out 36 training points, run on the series long enough for it.
LONG_ONLY = ("hybrid", "auto_arima_conformal", "hybrid_conformal", "hybrid_pooled")
HYBRID_HOLD_OUT, HYBRID_MIN_TRAIN = 36, 64


# ------------------------------------------------------------------------- data
def load_monthly(sample: int | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test parts as long frames ``unique_id, ds, y`` (monthly stamps)."""
    root = shared_data_dir()
    if root is None:
        sys.exit("benchmarks/intervals.py: ../shared/data is missing (set SEQLAB_DATA).")
    meta = pd.read_csv(root / "m3" / "m3_meta.csv")
    ids = meta.loc[meta["period"] == "MONTHLY", "unique_id"].to_numpy()
    if sample is not None and sample < ids.size:
        ids = np.sort(np.random.default_rng(seed).choice(ids, size=sample, replace=False))
    series = pd.read_csv(root / "m3" / "m3_series.csv")
    series = series[series["unique_id"].isin(ids)]
    series = series.assign(part=(series["split"] == "test").astype(int))
    series = series.sort_values(["unique_id", "part", "t"], ignore_index=True)
    # M3 gives positions, not dates: every series starts in January 1990 here.
    months = pd.date_range("1990-01-01", periods=200, freq="MS")
    series["ds"] = months[series.groupby("unique_id").cumcount().to_numpy()]
    frame = series[["unique_id", "ds", "y", "split"]]
    train = frame[frame["split"] == "train"].drop(columns="split").reset_index(drop=True)
    test = frame[frame["split"] == "test"].drop(columns="split").reset_index(drop=True)
    return train, test


# ---------------------------------------------------------------------- methods
def run_auto_arima(train: pd.DataFrame, args) -> pd.DataFrame:
    fc = Forecasts(
        {"auto_arima": AutoArimaForecaster(m=M)}, freq="MS", backend="process", n_jobs=args.jobs
    )
    return fc.forecast(train, h=H, level=list(LEVELS))


def run_gru(train: pd.DataFrame, args) -> pd.DataFrame:
    from seqlab.forecast import GlobalRecurrentForecaster

    model = GlobalRecurrentForecaster(
        "gru",
        lookback=24,
        horizon=H,
        hidden_size=32,
        epochs=args.epochs,
        patience=5,
        # 19 errors at step 18 (a 95 % interval's minimum) from few series need extra rows.
        valid_size=H + max(0, -(-19 // train["unique_id"].nunique()) - 1),
        log=True,
        lr=3e-3,
        batch_size=256,
        seed=args.seed,
    )
    return Forecasts({"gru": model}, freq="MS").forecast(train, h=H, level=list(LEVELS))


def run_global(train: pd.DataFrame, args) -> pd.DataFrame:
    from seqlab.forecast import GlobalRecurrentForecaster

    model = GlobalRecurrentForecaster(horizon=H, season_length=M, seed=args.seed)
    return Forecasts({"global": model}, freq="MS").forecast(train, h=H, level=list(LEVELS))


def run_global_hybrid(train: pd.DataFrame, args) -> pd.DataFrame:
    from seqlab.forecast import GlobalHybridForecaster

    model = GlobalHybridForecaster(horizon=H, season_length=M, n_jobs=args.jobs)
    return Forecasts({"global_hybrid": model}, freq="MS").forecast(train, h=H, level=list(LEVELS))


def _hybrid(args, valid_size: int | float = HYBRID_HOLD_OUT):
    from seqlab.forecast import HybridForecaster, RecurrentForecaster

    network = RecurrentForecaster(
        "gru",
        lookback=12,
        horizon=1,
        mode="recursive",
        hidden_size=8,
        epochs=args.hybrid_epochs,
        patience=5,
        valid_size=valid_size,
        seed=args.seed,
    )
    return HybridForecaster(AutoArimaForecaster(m=M), network)


def run_hybrid(train: pd.DataFrame, args) -> pd.DataFrame:
    fc = Forecasts({"hybrid": _hybrid(args)}, freq="MS", backend="process", n_jobs=args.jobs)
    return fc.forecast(train, h=H, level=list(LEVELS))


def run_auto_arima_conformal(train: pd.DataFrame, args) -> pd.DataFrame:
    from seqlab.forecast import ConformalForecaster

    model = ConformalForecaster(AutoArimaForecaster(m=M), horizon=H, hold_out=HYBRID_HOLD_OUT)
    fc = Forecasts({"auto_arima_conformal": model}, freq="MS", backend="process", n_jobs=args.jobs)
    return fc.forecast(train, h=H, level=list(LEVELS))


def run_hybrid_conformal(train: pd.DataFrame, args) -> pd.DataFrame:
    from seqlab.forecast import ConformalForecaster

    # The wrapper holds out its own rows: the network keeps the default 10 % for stopping.
    model = ConformalForecaster(_hybrid(args, 0.1), horizon=H, hold_out=HYBRID_HOLD_OUT)
    fc = Forecasts({"hybrid_conformal": model}, freq="MS", backend="process", n_jobs=args.jobs)
    return fc.forecast(train, h=H, level=list(LEVELS))


def run_auto_arima_pooled(train: pd.DataFrame, args) -> pd.DataFrame:
    fc = Forecasts(
        {"auto_arima_pooled": AutoArimaForecaster(m=M)},
        freq="MS",
        backend="process",
        n_jobs=args.jobs,
        conformal_windows=1,
    )
    return fc.forecast(train, h=H, level=list(LEVELS))


def run_hybrid_pooled(train: pd.DataFrame, args) -> pd.DataFrame:
    fc = Forecasts(
        {"hybrid_pooled": _hybrid(args, valid_size=0.1)},
        freq="MS",
        backend="process",
        n_jobs=args.jobs,
        conformal_windows=1,
    )
    return fc.forecast(train, h=H, level=list(LEVELS))


def _statsforecast_one(y: np.ndarray) -> dict[str, np.ndarray]:
    from statsforecast.models import AutoARIMA

    return AutoARIMA(season_length=M).forecast(y=y, h=H, level=list(LEVELS))


def run_statsforecast(train: pd.DataFrame, args) -> pd.DataFrame:
    groups = list(train.groupby("unique_id", sort=False))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(_statsforecast_one, [g["y"].to_numpy() for _, g in groups]))
    parts = []
    for (uid, group), res in zip(groups, results, strict=True):
        ds = pd.date_range(group["ds"].iloc[-1], periods=H + 1, freq="MS")[1:]
        part = {"unique_id": uid, "ds": ds, "statsforecast": res["mean"]}
        for lv in LEVELS:
            part[f"statsforecast-lo-{lv}"] = res[f"lo-{lv}"]
            part[f"statsforecast-hi-{lv}"] = res[f"hi-{lv}"]
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


def statsforecast_available() -> bool:
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------- scoring
def score(out: pd.DataFrame, alias: str, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    frame = test.merge(out, on=["unique_id", "ds"], how="inner")
    table = evaluate(frame, ["smape", "coverage", "width"], models=[alias])
    means = table.groupby("metric")[alias].mean()
    scales = {
        uid: mase_scale(group["y"].to_numpy(), M) for uid, group in train.groupby("unique_id")
    }
    widths = table[table["metric"].str.startswith("width")].copy()
    widths["scaled"] = widths[alias] / widths["unique_id"].map(scales)
    row = {"series": int(frame["unique_id"].nunique()), "smape": float(means["smape"])}
    for lv in LEVELS:
        row[f"coverage_{lv}"] = float(means[f"coverage-{lv}"])
        row[f"width_{lv}"] = float(means[f"width-{lv}"])
        row[f"scaled_width_{lv}"] = float(
            widths.loc[widths["metric"] == f"width-{lv}", "scaled"].mean()
        )
    row["within_3_points"] = all(abs(row[f"coverage_{lv}"] - lv) <= 3 for lv in LEVELS)
    return row


def run_coverage(args) -> dict:
    train, test = load_monthly(args.sample, args.seed)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    report: dict = {"methods": {}, "notes": []}
    outputs: dict[str, pd.DataFrame] = {}
    runners = {
        "auto_arima": run_auto_arima,
        "global": run_global,
        "global_hybrid": run_global_hybrid,
        "gru": run_gru,
        "hybrid": run_hybrid,
        "auto_arima_conformal": run_auto_arima_conformal,
        "hybrid_conformal": run_hybrid_conformal,
        "auto_arima_pooled": run_auto_arima_pooled,
        "hybrid_pooled": run_hybrid_pooled,
        "statsforecast": run_statsforecast,
    }
    long_enough = train.groupby("unique_id")["y"].transform("size") >= HYBRID_MIN_TRAIN
    for method in methods:
        if method == "statsforecast" and not statsforecast_available():
            note = (
                "statsforecast is not installed: its column is skipped (pip install statsforecast)."
            )
            report["notes"].append(note)
            logging.warning(note)
            continue
        data = train[long_enough] if method in LONG_ONLY else train
        began = time.perf_counter()
        outputs[method] = runners[method](data, args)
        seconds = time.perf_counter() - began
        row = score(outputs[method], method, train, test)
        row["seconds"] = seconds
        if method in LONG_ONLY:
            row["skipped_short_series"] = int(train["unique_id"].nunique() - row["series"])
        report["methods"][method] = row
        logging.info("%s: %s", method, row)
    subset = [m for m in LONG_ONLY if m in outputs]
    if subset:
        # Every method again on the long series, so those rows compare like with like.
        ids = set(outputs[subset[0]]["unique_id"])
        report["on_long_series"] = {
            method: score(out[out["unique_id"].isin(ids)], method, train, test)
            for method, out in outputs.items()
        }
    report["n_series"] = int(train["unique_id"].nunique())
    return report


# ----------------------------------------------------------------------- timing
def run_cv_timing(args) -> dict:
    from seqlab.ts import auto_arima

    train, test = load_monthly(args.sample, args.seed)
    full = pd.concat([train, test]).sort_values(["unique_id", "ds"], ignore_index=True)
    groups = [g["y"].to_numpy() for _, g in full.groupby("unique_id", sort=True)]
    load_before = os.getloadavg()

    def loop() -> pd.DataFrame:
        means = [np.asarray(auto_arima(y[:-H], M).forecast(H, level=LEVELS).mean) for y in groups]
        return pd.DataFrame({"auto_arima": np.concatenate(means)})

    def front(backend: str):
        def run() -> pd.DataFrame:
            fc = Forecasts(
                {"auto_arima": AutoArimaForecaster(m=M)},
                freq="MS",
                backend=backend,
                n_jobs=args.jobs,
            )
            cv = fc.cross_validation(full, h=H, n_windows=1, level=list(LEVELS))
            return cv.sort_values(["unique_id", "ds"], ignore_index=True)

        return run

    runs = {"loop": loop, "process": front("process"), "serial": front("serial")}
    # Interleaved repeats; the minimum of each is the least disturbed by other load.
    all_seconds: dict[str, list[float]] = {name: [] for name in runs}
    outputs = {}
    for _ in range(args.repeat):
        for name, run in runs.items():
            began = time.perf_counter()
            outputs[name] = run()
            all_seconds[name].append(time.perf_counter() - began)
    timings = {name: min(values) for name, values in all_seconds.items()}
    loop_seconds = timings["loop"]
    difference = float(
        np.max(np.abs(outputs["process"]["auto_arima"] - outputs["loop"]["auto_arima"]))
    )
    return {
        "n_series": len(groups),
        "jobs": args.jobs,
        "seconds": timings,
        "all_seconds": all_seconds,
        "ratio_process_to_loop": timings["process"] / loop_seconds,
        "ratio_serial_to_loop": timings["serial"] / loop_seconds,
        "max_abs_difference_of_means": difference,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


# ------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=None, help="random series (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--epochs", type=int, default=40, help="global GRU epochs (max)")
    parser.add_argument("--hybrid-epochs", type=int, default=30, help="hybrid GRU epochs (max)")
    parser.add_argument("--cv-timing", action="store_true", help="time cross_validation instead")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved timing repeats")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("seqlab").setLevel(logging.WARNING)
    header = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "sample": args.sample,
        "seed": args.seed,
    }
    if args.cv_timing:
        out = args.out or Path("benchmarks/results/intervals_cv_timing.json")
        result = {**header, **run_cv_timing(args)}
        print(f"M3 monthly, {result['n_series']} series, h={H}, 1 window, {args.jobs} workers")
        for name, seconds in result["seconds"].items():
            print(f"  {name:8s} {seconds:8.1f} s   {seconds / result['seconds']['loop']:.2f}x loop")
        print(f"  forecasts agree to {result['max_abs_difference_of_means']:.2e}")
        print(f"  load average before {result['load_before']}, after {result['load_after']}")
    else:
        out = args.out or Path("benchmarks/results/intervals.json")
        load_before = os.getloadavg()
        result = {**header, **run_coverage(args)}
        result["load_before"], result["load_after"] = load_before, os.getloadavg()
        print(f"M3 monthly, {result['n_series']} series, h={H}: coverage (%) and mean width")
        table = pd.DataFrame(result["methods"]).T
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
        if "on_long_series" in result:
            print(f"\nOn the long series (training length >= {HYBRID_MIN_TRAIN}):")
            table = pd.DataFrame(result["on_long_series"]).T
            print(table.to_string(float_format=lambda v: f"{v:.4g}"))
        for note in result["notes"]:
            print(f"note: {note}")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Forecasting benchmark (issue 6): recurrent networks side by side with ARIMA.

Part 1, SBUX: Starbucks daily Close (../shared/data/stocks/SBUX.csv), the last 20% of
days as test. Every model is fitted once on the first 80% (networks hold out the last
10% of that for early stopping) and then rolled through the test days without
refitting (``backtest(..., refit_every=None)``: ARIMA re-filters with fixed parameters,
networks slide their window). One-step and 5-step-ahead MAE / RMSE / MASE.

Part 2, M3 monthly: 1,428 series, h = 18, sMAPE and MASE (m = 12) as in the M3
competition. A global LSTM and a global GRU (one network across all series, each series
log-transformed and scaled on its own training part, windows relative to their last
level, direct 18-step output, MAE loss) against seqlab's auto ARIMA (or a fixed
airline-model ARIMA(0,1,1)(0,1,1)12 with ``--arima fixed``) and seasonal naive.
Training and fitting times are wall-clock on this machine.

One command runs everything and writes ``benchmarks/results/forecast.json``:

    .venv/bin/python benchmarks/forecast.py                 # full run
    .venv/bin/python benchmarks/forecast.py --sample 200    # quick: 200 M3 series
    .venv/bin/python benchmarks/forecast.py --part m3 --sample 100 --arima fixed
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

SBUX_MODELS = [
    "naive",
    "drift",
    "mean",
    "arima",
    "auto_arima",
    "rnn",
    "lstm",
    "gru",
    "bilstm",
    "lstm-recursive",
    "lstm-seq2seq",
    "hybrid",
]


def data_dir() -> Path:
    from seqlab.datasets import shared_data_dir

    path = shared_data_dir()
    if path is None:
        sys.exit("benchmarks/forecast.py: ../shared/data is missing (set SEQLAB_DATA).")
    return path


# ----------------------------------------------------------------------------- SBUX
def run_sbux(args: argparse.Namespace) -> list[dict]:
    from seqlab.forecast.backtest import backtest
    from seqlab.forecast.data import load_frame
    from seqlab.forecast.neural import RecurrentForecaster
    from seqlab.forecast.zoo import NEURAL, make_forecaster

    path = data_dir() / "stocks" / "SBUX.csv"
    frame = load_frame(path, "Close", ["Open", "High", "Low", "Volume"])
    y, X = frame["Close"], frame[["Open", "High", "Low", "Volume"]]
    neural = {"hidden_size": 32, "epochs": args.epochs, "patience": 10, "seed": args.seed}
    rows = []
    for horizon in (1, 5):
        models = {
            name: make_forecaster(
                name,
                horizon=horizon,
                lookback=args.lookback,
                order=(1, 1, 0),
                **(neural if name in NEURAL or name == "hybrid" else {}),
            )
            for name in SBUX_MODELS
        }
        began = time.perf_counter()
        result = backtest(models, y, horizon, initial=0.8, refit_every=None)
        # The same LSTM reading Open/High/Low/Volume beside Close (past rows only).
        with_features = backtest(
            {
                "lstm+features": RecurrentForecaster(
                    "lstm", lookback=args.lookback, horizon=horizon, **neural
                )
            },
            y,
            horizon,
            X=X,
            initial=0.8,
            refit_every=None,
        )
        logging.info("SBUX h=%d: %.0f s", horizon, time.perf_counter() - began)
        for res in (result, with_features):
            last_step = res.by_step.xs(horizon, level="step")
            for name, row in res.metrics.iterrows():
                rows.append(
                    {
                        "horizon": horizon,
                        "model": name,
                        "mae": row["mae"],
                        "rmse": row["rmse"],
                        "mase": row["mase"],
                        f"mae_step{horizon}": last_step.loc[name, "mae"],
                        "origins": int(row["origins"]),
                        "fit_seconds": row["fit_seconds"],
                    }
                )
    return rows


# ------------------------------------------------------------------------------- M3
def load_m3_monthly(sample: int | None, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    root = data_dir() / "m3"
    meta = pd.read_csv(root / "m3_meta.csv")
    ids = set(meta.loc[meta["period"].str.lower() == "monthly", "unique_id"])
    frame = pd.read_csv(root / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(ids)].sort_values(["unique_id", "split", "t"])
    data = {}
    for uid, group in frame.groupby("unique_id", sort=True):
        train = group.loc[group["split"] == "train", "y"].to_numpy(float)
        test = group.loc[group["split"] == "test", "y"].to_numpy(float)
        data[str(uid)] = (train, test)
    if sample is not None and sample < len(data):
        keys = sorted(data)
        chosen = np.random.default_rng(seed).choice(len(keys), sample, replace=False)
        data = {keys[i]: data[keys[i]] for i in sorted(chosen)}
    return data


def _score(data, forecasts: dict[str, np.ndarray]) -> dict[str, float]:
    from seqlab.forecast import metrics

    smape = [metrics.smape(data[k][1], forecasts[k]) for k in data]
    mase = [metrics.mase(data[k][1], forecasts[k], data[k][0], 12) for k in data]
    return {"smape": float(np.mean(smape)), "mase": float(np.mean(mase))}


def _arima_one(task: tuple[str, np.ndarray, str]) -> tuple[str, np.ndarray | None, str]:
    uid, train, kind = task
    from seqlab.forecast.classical import ArimaForecaster, AutoArimaForecaster

    try:
        if kind == "auto":
            model = AutoArimaForecaster(m=12).fit(train)
            label = model.chosen_.label
        else:
            model = ArimaForecaster((0, 1, 1), (0, 1, 1, 12)).fit(train)
            label = "ARIMA(0,1,1)(0,1,1)[12]"
        return uid, model.predict(18), label
    except (ValueError, np.linalg.LinAlgError) as exc:
        return uid, None, f"failed: {exc}"


def run_arima(data, kind: str, jobs: int) -> tuple[dict[str, np.ndarray], dict]:
    from seqlab.forecast.baselines import SeasonalNaive

    tasks = [(uid, train, kind) for uid, (train, _) in data.items()]
    began = time.perf_counter()
    if jobs > 1:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            results = pool.map(_arima_one, tasks, chunksize=max(1, len(tasks) // (8 * jobs)))
    else:
        results = [_arima_one(task) for task in tasks]
    seconds = time.perf_counter() - began
    forecasts, failed, labels = {}, [], []
    for uid, mean, label in results:
        labels.append(label)
        if mean is None or not np.isfinite(mean).all():
            # A failed fit is scored with seasonal naive and counted, not dropped.
            failed.append(uid)
            mean = SeasonalNaive(12).fit(data[uid][0]).predict(18)
        forecasts[uid] = mean
    common = pd.Series(labels).value_counts().head(5)
    info = {
        "seconds": seconds,
        "failed": len(failed),
        "jobs": jobs,
        "most_chosen": {str(k): int(v) for k, v in common.items()},
    }
    if failed:
        logging.warning("ARIMA (%s) failed on %d series: %s", kind, len(failed), failed[:10])
    return forecasts, info


def run_global(data, cell: str, args: argparse.Namespace) -> tuple[dict[str, np.ndarray], dict]:
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    model = GlobalRecurrentForecaster(
        cell,
        lookback=args.m3_lookback,
        horizon=18,
        hidden_size=args.hidden,
        epochs=args.m3_epochs,
        patience=args.m3_patience,
        lr=3e-3,
        batch_size=256,
        log=True,
        local_level=True,
        loss="mae",
        refit_full=args.m3_refit_full,
        seed=args.seed,
    )
    began = time.perf_counter()
    model.fit({uid: train for uid, (train, _) in data.items()})
    seconds = time.perf_counter() - began
    epochs = len(model.history_)
    best = min(h["valid_loss"] for h in model.history_)
    return model.predict(18), {"seconds": seconds, "epochs": epochs, "best_valid_loss": best}


def run_m3(args: argparse.Namespace) -> list[dict]:
    from seqlab.forecast.baselines import SeasonalNaive

    data = load_m3_monthly(args.sample, args.seed)
    logging.info("M3 monthly: %d series", len(data))
    rows = []
    began = time.perf_counter()
    snaive = {uid: SeasonalNaive(12).fit(train).predict(18) for uid, (train, _) in data.items()}
    rows.append({"model": "snaive", **_score(data, snaive), "seconds": time.perf_counter() - began})
    for cell in ("lstm", "gru"):
        forecasts, info = run_global(data, cell, args)
        rows.append({"model": f"global {cell}", **_score(data, forecasts), **info})
        logging.info("%s", rows[-1])
    kind = args.arima
    forecasts, info = run_arima(data, kind, args.jobs)
    name = "auto_arima" if kind == "auto" else "arima(0,1,1)(0,1,1)12"
    rows.append({"model": name, **_score(data, forecasts), **info})
    for row in rows:
        row["series"] = len(data)
    return rows


# ----------------------------------------------------------------------------- main
def _table(rows: list[dict], columns: list[str]) -> str:
    frame = pd.DataFrame(rows)
    shown = [c for c in columns if c in frame.columns]
    return frame[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["sbux", "m3", "all"], default="all")
    parser.add_argument("--sample", type=int, default=None, help="M3: this many series (seeded)")
    parser.add_argument("--arima", choices=["auto", "fixed"], default="auto")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="ARIMA processes")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's choice)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=100, help="SBUX networks: max epochs")
    parser.add_argument("--lookback", type=int, default=20, help="SBUX networks: window")
    parser.add_argument("--hidden", type=int, default=64, help="M3 networks: hidden size")
    parser.add_argument("--m3-lookback", type=int, default=36)
    parser.add_argument("--m3-epochs", type=int, default=30)
    parser.add_argument("--m3-patience", type=int, default=5)
    parser.add_argument(
        "--m3-refit-full",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after early stopping, retrain on every window for the chosen epoch count",
    )
    parser.add_argument("--out", default=str(RESULTS / "forecast.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    report: dict = {
        "command": " ".join(sys.argv),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_at_start": list(os.getloadavg()),
        },
    }
    if args.part in ("sbux", "all"):
        rows = run_sbux(args)
        report["sbux"] = rows
        for horizon in (1, 5):
            print(f"\nSBUX Close, last 20% as test, {horizon}-step-ahead (fit once, rolled):")
            part = [r for r in rows if r["horizon"] == horizon]
            print(
                _table(part, ["model", "mae", "rmse", "mase", f"mae_step{horizon}", "fit_seconds"])
            )
    if args.part in ("m3", "all"):
        rows = run_m3(args)
        report["m3_monthly"] = rows
        print(f"\nM3 monthly, h=18, {rows[0]['series']} series:")
        print(_table(rows, ["model", "smape", "mase", "seconds", "epochs", "failed"]))
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from seqlab.io import write_json

    write_json(out, report)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

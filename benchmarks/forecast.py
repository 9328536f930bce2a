"""Forecasting benchmark: recurrent networks side by side with ARIMA.

Part 1, SBUX: Starbucks daily Close (../shared/data/stocks/SBUX.csv), the last 20% of
days as test. Every model is fitted once on the first 80% (networks hold out the last
10% of that for early stopping) and then rolled through the test days without
refitting (``backtest(..., refit_every=None)``: ARIMA re-filters with fixed parameters,
networks slide their window). One-step and 5-step-ahead MAE / RMSE / MASE.

Part 2, M3, every period (yearly h=6, quarterly h=8, monthly h=18, other h=8; the
season length m is 1, 4, 12, 1): all series, the last h points of each held out,
sMAPE and MASE (scaled by the in-sample lag-m naive error) as in the M3 competition.
The default global forecaster, ``GlobalRecurrentForecaster(horizon=h, season_length=m)``
with nothing else set, against seqlab's auto ARIMA (or a fixed ARIMA(0,1,1)(0,1,1)m with
``--arima fixed``) and seasonal naive, in the same run. For the ensemble it records
the epochs, each member's measured forward + backward seconds per batch (and that times
the batches it trained on) and each member's own scores, and the coverage of the
conformal 80% and 95% intervals. ``--validate`` scores instead on the last h points of
each training part, never reading the test part: that is how settings are chosen
(``--global-params`` adds keywords for such experiments only). Times are wall-clock on
this machine; the load average is recorded before and after each network.

One command runs everything and writes ``benchmarks/results/forecast.json``:

    .venv/bin/python benchmarks/forecast.py                 # full run
    .venv/bin/python benchmarks/forecast.py --sample 200    # quick: 200 M3 series
    .venv/bin/python benchmarks/forecast.py --part m3 --periods yearly --validate
    .venv/bin/python benchmarks/forecast.py --part m3 --hybrid mean,residuals
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
#: period -> (season length m, horizon h), as in the M3 competition.
M3_PERIODS = {"yearly": (1, 6), "quarterly": (4, 8), "monthly": (12, 18), "other": (1, 8)}


def load_m3(
    period: str, sample: int | None, seed: int, validate: bool = False
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{id: (train, test)}`` of one M3 period; with ``validate`` the last h points of
    each training part are the test and the M3 test part is never read."""
    root = data_dir() / "m3"
    meta = pd.read_csv(root / "m3_meta.csv")
    ids = set(meta.loc[meta["period"].str.lower() == period, "unique_id"])
    frame = pd.read_csv(root / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(ids)].sort_values(["unique_id", "split", "t"])
    h = M3_PERIODS[period][1]
    data = {}
    for uid, group in frame.groupby("unique_id", sort=True):
        train = group.loc[group["split"] == "train", "y"].to_numpy(float)
        if validate:
            data[str(uid)] = (train[:-h], train[-h:])
        else:
            data[str(uid)] = (train, group.loc[group["split"] == "test", "y"].to_numpy(float))
    if sample is not None and sample < len(data):
        keys = sorted(data)
        chosen = np.random.default_rng(seed).choice(len(keys), sample, replace=False)
        data = {keys[i]: data[keys[i]] for i in sorted(chosen)}
    return data


def _score(data, forecasts: dict[str, np.ndarray], m: int) -> dict[str, float]:
    from seqlab.forecast import metrics

    smape = [metrics.smape(data[k][1], forecasts[k]) for k in data]
    mase = [metrics.mase(data[k][1], forecasts[k], data[k][0], m) for k in data]
    return {"smape": float(np.mean(smape)), "mase": float(np.mean(mase))}


def _coverage(data, forecasts) -> dict[str, float]:
    """Share of held-out points inside each series' 80 % and 95 % intervals, averaged
    over series."""
    coverage = {}
    for level in (80, 95):
        inside = [
            np.mean((data[u][1] >= fc.lower[level]) & (data[u][1] <= fc.upper[level]))
            for u, fc in forecasts.items()
        ]
        coverage[str(level)] = float(np.mean(inside))
    return coverage


def _arima_one(task: tuple) -> tuple[str, np.ndarray | None, str]:
    uid, train, kind, m, h = task
    from seqlab.forecast.classical import ArimaForecaster, AutoArimaForecaster

    try:
        if kind == "auto":
            model = AutoArimaForecaster(m=m).fit(train)
            label = model.chosen_.label
        else:
            seasonal = (0, 1, 1, m) if m > 1 else (0, 0, 0, 0)
            model = ArimaForecaster((0, 1, 1), seasonal).fit(train)
            label = f"ARIMA(0,1,1){seasonal}"
        return uid, model.predict(h), label
    except (ValueError, np.linalg.LinAlgError) as exc:
        return uid, None, f"failed: {exc}"


def run_arima(data, kind: str, jobs: int, m: int, h: int) -> tuple[dict[str, np.ndarray], dict]:
    from seqlab.forecast.baselines import SeasonalNaive

    tasks = [(uid, train, kind, m, h) for uid, (train, _) in data.items()]
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
            mean = SeasonalNaive(m).fit(data[uid][0]).predict(h)
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


def _member_costs(model, batches: int) -> list[dict]:
    """Measured forward + backward seconds of each member on one training batch of
    ``model.config.batch_size`` windows, and that times the batches it trained on."""
    import torch

    length = max(model.lookbacks_)
    size = model.config.batch_size
    inputs = torch.randn(size, length, 2)
    costs = []
    for k, member in enumerate(model.model_.members):
        member.train()
        for _ in range(2):
            member(inputs).abs().mean().backward()
        began = time.perf_counter()
        for _ in range(5):
            member(inputs).abs().mean().backward()
        per_batch = (time.perf_counter() - began) / 5
        member.zero_grad()
        member.eval()
        costs.append(
            {
                "member": k,
                "lookback": member.lookback,
                "loss": model.member_losses[k],
                "seconds_per_batch": per_batch,
                "train_seconds_estimate": per_batch * batches,
            }
        )
    return costs


def run_global_default(
    data, m: int, h: int, args: argparse.Namespace
) -> tuple[dict[str, np.ndarray], dict]:
    """The default global forecaster: ``GlobalRecurrentForecaster(horizon=h,
    season_length=m)``, plus ``--global-params`` (validation experiments only)."""
    import json

    from seqlab.forecast import metrics
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    extra = json.loads(args.global_params) if args.global_params else {}
    model = GlobalRecurrentForecaster(horizon=h, season_length=m, seed=args.seed, **extra)
    began = time.perf_counter()
    model.fit({uid: train for uid, (train, _) in data.items()})
    seconds = time.perf_counter() - began
    forecasts = model.forecast(h, level=(80, 95))
    means = {uid: fc.mean for uid, fc in forecasts.items()}
    info: dict = {"seconds": seconds, "params": extra}
    if model.config.normalize == "window":
        epochs = len(model.history_)
        info.update(
            epochs=epochs,
            best_epoch=model.best_epoch_,
            lookbacks=list(model.lookbacks_),
            members=len(model.model_config_["lookbacks"]),
        )
        windows = model.config.windows_per_epoch or 0
        per_epoch = -(-windows // model.config.batch_size) if windows else 0
        trained = per_epoch * (epochs + (model.best_epoch_ or 0) * model.config.refit_full)
        info["member_costs"] = _member_costs(model, trained)
        members = model.member_forecasts(h)
        uids = list(data)
        info["member_scores"] = [
            {
                "member": k,
                "smape": float(
                    np.mean([metrics.smape(data[u][1], members[i, k]) for i, u in enumerate(uids)])
                ),
                "mase": float(
                    np.mean(
                        [
                            metrics.mase(data[u][1], members[i, k], data[u][0], m)
                            for i, u in enumerate(uids)
                        ]
                    )
                ),
            }
            for k in range(members.shape[1])
        ]
    info["interval_coverage"] = _coverage(data, forecasts)
    return means, info


def run_global_hybrid(
    data, m: int, h: int, how: str, args: argparse.Namespace
) -> tuple[dict[str, np.ndarray], dict]:
    """``GlobalHybridForecaster(horizon=h, season_length=m, how=how)``: auto ARIMA per
    series and the default global network, averaged (``mean``, the default) or the
    network on ARIMA's residuals (``residuals``), with its conformal intervals."""
    from seqlab.forecast.hybrid import GlobalHybridForecaster

    model = GlobalHybridForecaster(horizon=h, season_length=m, how=how, n_jobs=args.jobs)
    began = time.perf_counter()
    model.fit({uid: train for uid, (train, _) in data.items()})
    seconds = time.perf_counter() - began
    forecasts = model.forecast(h, level=(80, 95))
    means = {uid: fc.mean for uid, fc in forecasts.items()}
    return means, {"seconds": seconds, "interval_coverage": _coverage(data, forecasts)}


def run_m3(args: argparse.Namespace) -> dict[str, list[dict]]:
    from seqlab.forecast.baselines import SeasonalNaive

    out = {}
    for period in args.periods.split(","):
        if period not in M3_PERIODS:
            sys.exit(f"benchmarks/forecast.py: --periods: unknown period {period!r}.")
        m, h = M3_PERIODS[period]
        data = load_m3(period, args.sample, args.seed, validate=args.validate)
        logging.info("M3 %s: %d series, h=%d, m=%d", period, len(data), h, m)
        rows = []
        arima_forecasts = None
        began = time.perf_counter()
        snaive = {uid: SeasonalNaive(m).fit(train).predict(h) for uid, (train, _) in data.items()}
        seconds = time.perf_counter() - began
        rows.append({"model": "snaive", **_score(data, snaive, m), "seconds": seconds})
        if args.arima != "none":
            forecasts, info = run_arima(data, args.arima, args.jobs, m, h)
            arima_forecasts = forecasts
            name = "auto_arima" if args.arima == "auto" else "arima(0,1,1)(0,1,1)m"
            rows.append({"model": name, **_score(data, forecasts, m), **info})
            logging.info("%s", rows[-1])
        load_before = list(os.getloadavg())
        forecasts, info = run_global_default(data, m, h, args)
        info["load_average_before"] = load_before
        info["load_average_after"] = list(os.getloadavg())
        rows.append({"model": "global default", **_score(data, forecasts, m), **info})
        logging.info("%s", {k: v for k, v in rows[-1].items() if k != "member_costs"})
        if arima_forecasts is not None:
            # Not a seqlab model: how far a plain average of the two would go.
            mean = {uid: (arima_forecasts[uid] + forecasts[uid]) / 2 for uid in data}
            rows.append({"model": "mean(arima, global)", **_score(data, mean, m)})
        for how in [part for part in (args.hybrid or "").split(",") if part]:
            if how not in ("mean", "residuals"):
                sys.exit(f"benchmarks/forecast.py: --hybrid: unknown form {how!r}.")
            load_before = list(os.getloadavg())
            forecasts, info = run_global_hybrid(data, m, h, how, args)
            info["load_average_before"] = load_before
            info["load_average_after"] = list(os.getloadavg())
            rows.append({"model": f"global hybrid ({how})", **_score(data, forecasts, m), **info})
            logging.info("%s", rows[-1])
        for row in rows:
            row["series"] = len(data)
            row["h"], row["m"] = h, m
        out[period] = rows
    return out


# ----------------------------------------------------------------------------- main
def _table(rows: list[dict], columns: list[str]) -> str:
    frame = pd.DataFrame(rows)
    shown = [c for c in columns if c in frame.columns]
    return frame[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["sbux", "m3", "all"], default="all")
    parser.add_argument("--sample", type=int, default=None, help="M3: this many series (seeded)")
    parser.add_argument("--arima", choices=["auto", "fixed", "none"], default="auto")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="ARIMA processes")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's choice)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=100, help="SBUX networks: max epochs")
    parser.add_argument("--lookback", type=int, default=20, help="SBUX networks: window")
    parser.add_argument(
        "--periods",
        default="yearly,quarterly,monthly,other",
        help="M3 periods, comma-separated (yearly, quarterly, monthly, other)",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="M3: score on the last h points of each training part (the test part is "
        "never read); for choosing settings",
    )
    parser.add_argument(
        "--global-params",
        default=None,
        help="M3, validation experiments only: JSON keywords added to the default global "
        "forecaster, e.g. '{\"hidden_size\": 64}'",
    )
    parser.add_argument(
        "--hybrid",
        default=None,
        help="M3: also GlobalHybridForecaster in these forms, comma-separated: mean (auto "
        "ARIMA and the default global network averaged, its default), residuals (the "
        "network on ARIMA's residuals)",
    )
    parser.add_argument("--out", default=str(RESULTS / "forecast.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for quiet in ("seqlab.train", "seqlab.ts", "seqlab.forecast.classical"):
        logging.getLogger(quiet).setLevel(logging.WARNING)

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
        report["m3_validate" if args.validate else "m3"] = periods = run_m3(args)
        for period, rows in periods.items():
            what = "last h of the training parts" if args.validate else "test"
            print(f"\nM3 {period}, h={rows[0]['h']}, {rows[0]['series']} series ({what}):")
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

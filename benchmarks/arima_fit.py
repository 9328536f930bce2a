"""Speed and fit quality of seqlab's ARIMA against statsmodels on the M3 monthly series.

Fits ARIMA(1,1,1) and ARIMA(2,1,2) (no trend, statsmodels' default for d = 1) to the train
part of each M3 monthly series with ``seqlab.ts.ARIMA`` and with
``statsmodels.tsa.arima.model.ARIMA`` in the same run, interleaved series by series so
machine load hits both alike. Both maximise the same likelihood (same state space, same
approximate diffuse prior, see ``seqlab.ts.arima``), so log-likelihoods are comparable.

Reports total and per-series time (wall clock, and CPU time of this process, which a
loaded shared machine disturbs less), the ratios, and the share of series where seqlab's
log-likelihood is below statsmodels' by more than 1e-3. First-call costs (loading the
compiled core, lazy imports) are timed apart, on a warm-up fit before the timed loop.

    .venv/bin/python benchmarks/arima_fit.py [--limit N] [--orders 111,212]

Writes ``benchmarks/results/arima_fit.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

# One BLAS thread for both libraries: on a small shared machine, BLAS thread pools spin
# against each other and slow statsmodels' many small matrix products by 10-100x, which
# would flatter the ratio. Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pandas as pd


def load_m3_monthly(limit: int | None) -> dict[str, np.ndarray]:
    from seqlab.datasets import shared_data_dir

    root = shared_data_dir()
    if root is None or not (root / "m3" / "m3_series.csv").exists():
        sys.exit("M3 data not found: set SEQLAB_DATA to the folder holding m3/m3_series.csv")
    meta = pd.read_csv(root / "m3" / "m3_meta.csv")
    ids = sorted(meta.loc[meta["period"].str.lower() == "monthly", "unique_id"])
    if limit:
        ids = ids[:limit]
    frame = pd.read_csv(root / "m3" / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(set(ids)) & (frame["split"] == "train")]
    frame = frame.sort_values(["unique_id", "t"])
    return {uid: g["y"].to_numpy(float) for uid, g in frame.groupby("unique_id", sort=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N monthly series only")
    parser.add_argument("--orders", default="111,212", help="comma-separated p d q digits")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "arima_fit.json"))
    args = parser.parse_args()
    orders = [tuple(int(c) for c in o) for o in args.orders.split(",")]

    t0 = time.perf_counter()
    from seqlab.ts import ARIMA

    import_s = time.perf_counter() - t0
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    series = load_m3_monthly(args.limit)
    print(f"{len(series)} M3 monthly series; load average {os.getloadavg()[0]:.2f}")

    warm = np.log(np.arange(1.0, 80.0)) + np.sin(np.arange(79.0))
    t0 = time.perf_counter()
    for order in orders:
        ARIMA(order=order).fit(warm)
    jit_s = time.perf_counter() - t0

    results = {}
    for order in orders:
        t_seq = t_sm = c_seq = c_sm = 0.0
        worse, failed_seq, failed_sm = [], [], []
        not_converged = 0
        diffs = []
        for uid, y in series.items():
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = ARIMA(order=order).fit(y)
                ll_seq = res.loglik
                not_converged += not res.converged
            except Exception as exc:
                failed_seq.append(f"{uid}: {exc}")
                ll_seq = -np.inf
            t_seq += time.perf_counter() - t0
            c_seq += time.process_time() - c0
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ll_sm = SMARIMA(y, order=order).fit().llf
            except Exception as exc:
                failed_sm.append(f"{uid}: {exc}")
                ll_sm = -np.inf
            t_sm += time.perf_counter() - t0
            c_sm += time.process_time() - c0
            if np.isfinite(ll_sm):
                diffs.append(ll_seq - ll_sm)
                if ll_seq < ll_sm - 1e-3:
                    worse.append((uid, round(ll_seq - ll_sm, 4)))
        n = len(series)
        diffs = np.array(diffs)
        results["ARIMA({},{},{})".format(*order)] = {
            "series": n,
            "seqlab_total_s": t_seq,
            "statsmodels_total_s": t_sm,
            "seqlab_ms_per_series": 1e3 * t_seq / n,
            "statsmodels_ms_per_series": 1e3 * t_sm / n,
            "speedup": t_sm / t_seq,
            "seqlab_cpu_ms_per_series": 1e3 * c_seq / n,
            "statsmodels_cpu_ms_per_series": 1e3 * c_sm / n,
            "speedup_cpu": c_sm / c_seq,
            "pct_loglik_worse_by_1e-3": 100.0 * len(worse) / n,
            "worse": sorted(worse, key=lambda item: item[1]),
            "loglik_diff_quantiles": np.quantile(diffs, [0, 0.01, 0.5, 0.99, 1]).tolist()
            if diffs.size
            else [],
            "seqlab_not_converged": not_converged,
            "seqlab_failed": failed_seq,
            "statsmodels_failed": failed_sm,
        }

    header = (
        f"{'model':<14}{'series':>7}{'seqlab s':>10}{'sm s':>9}{'seqlab ms':>11}"
        f"{'sm ms':>8}{'speedup':>9}{'cpu ms':>8}{'sm cpu':>8}{'cpu x':>7}"
        f"{'% worse':>9}{'not conv':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:<14}{r['series']:>7}{r['seqlab_total_s']:>10.2f}{r['statsmodels_total_s']:>9.2f}"
            f"{r['seqlab_ms_per_series']:>11.2f}{r['statsmodels_ms_per_series']:>8.2f}"
            f"{r['speedup']:>8.1f}x{r['seqlab_cpu_ms_per_series']:>8.2f}"
            f"{r['statsmodels_cpu_ms_per_series']:>8.2f}{r['speedup_cpu']:>6.1f}x"
            f"{r['pct_loglik_worse_by_1e-3']:>8.2f}%"
            f"{r['seqlab_not_converged']:>9}"
        )
    print(f"import seqlab.ts: {import_s:.2f} s; first-call warm-up: {jit_s:.2f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from seqlab.io import write_json

    write_json(
        out,
        {
            "command": " ".join(sys.argv),
            "python": platform.python_version(),
            "load_average_1min": os.getloadavg()[0],
            "import_s": import_s,
            "jit_warmup_s": jit_s,
            "results": results,
        },
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

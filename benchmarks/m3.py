"""M3 competition benchmark: seqlab auto_arima against statsforecast, pmdarima, naive.

For every M3 series (../shared/data/m3; yearly h=6 m=1, quarterly h=8 m=4, monthly h=18
m=12, other h=8 m=1) each method fits the training part and forecasts the test part, in
the same run, one series at a time in this process:

- ``seqlab``: ``seqlab.ts.auto_arima(y, m)`` then ``forecast(h)`` (R's default: CSS
  approximation in the search only when ``n > 150`` or ``m > 12``, so exact likelihood
  for every M3 series);
- ``seqlab_css``: ``auto_arima(y, m, approximation=True)``: the search scores CSS fits
  and only the winner is refitted by exact likelihood;
- ``seqlab_process``: ``seqlab.ts.fit_many(..., backend="process", n_jobs=--jobs)`` on
  the whole period at once, with ``approximation=True`` when ``--process-css`` is given
  (wall time; its sMAPE must equal that of ``seqlab`` or ``seqlab_css``);
- ``statsforecast``: ``statsforecast.models.AutoARIMA(season_length=m)``;
- ``statsforecast_r``: the same with six departures of statsforecast's port from R's
  ``forecast``/``stats`` code undone (``r_faithful_statsforecast``), a stand-in for R's
  ``auto.arima`` where R cannot run;
- ``pmdarima``: ``pmdarima.auto_arima(y, m=m, seasonal=m > 1)`` (slow: about 4 s a
  monthly series);
- ``naive``: seasonal naive (the last m values repeated; naive for m = 1).

Per period and method it reports mean sMAPE (``200/h sum |y - f| / (|y| + |f|)``), mean
MASE (test MAE over the in-sample MAE of the seasonal naive at lag m), total fit+forecast
seconds, and failures (a failed series is scored with the seasonal naive forecast, so
the means stay over the same series). First-call costs (statsforecast's JIT compilation;
seqlab's core is compiled at install) are paid once on a small series before timing and
reported apart.

    .venv/bin/python benchmarks/m3.py                       # all 3,003 series
    .venv/bin/python benchmarks/m3.py --sample 30           # 30 random series per period
    .venv/bin/python benchmarks/m3.py --periods monthly --methods seqlab,statsforecast

Prints a table and writes ``benchmarks/results/m3.json`` (after every period, so an
interrupted run keeps what it finished). The machine's load average is recorded with
the results: timings on a shared machine are noisy, compare ratios within one run.
"""

from __future__ import annotations

import os

# One thread per process for every method: the comparison is per core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import logging
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from seqlab.datasets import shared_data_dir
from seqlab.forecast.metrics import mase, smape
from seqlab.io import write_json

PERIODS = {"yearly": "YEARLY", "quarterly": "QUARTERLY", "monthly": "MONTHLY", "other": "OTHER"}
METHODS = (
    "seqlab",
    "seqlab_css",
    "seqlab_process",
    "statsforecast",
    "statsforecast_r",
    "pmdarima",
    "naive",
)


# ------------------------------------------------------------------ data, metrics
def load_m3(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    meta = pd.read_csv(data_dir / "m3" / "m3_meta.csv")
    series = pd.read_csv(data_dir / "m3" / "m3_series.csv")
    return meta, series.sort_values(["unique_id", "split", "t"])


def seasonal_naive(y: np.ndarray, h: int, m: int) -> np.ndarray:
    last = y[-m:] if y.size >= m else y[-1:]
    return np.resize(last, h) if last.size == m else np.full(h, y[-1])


def m3_scores(train: np.ndarray, actual: np.ndarray, forecast: np.ndarray, m: int):
    """sMAPE and MASE as the M3 scoring defines them (seqlab.forecast.metrics).

    MASE scales by the in-sample seasonal naive MAE at lag m, or at lag 1 for a series
    with m or fewer training values (no seasonal difference exists).
    """
    lag = m if train.size > m else 1
    return smape(actual, forecast), mase(actual, forecast, train, lag)


# ------------------------------------------------------------------ methods
def fit_seqlab(y: np.ndarray, h: int, m: int) -> np.ndarray:
    from seqlab.ts import auto_arima

    return np.asarray(auto_arima(y, m).forecast(h).mean, dtype=float)


def fit_seqlab_css(y: np.ndarray, h: int, m: int) -> np.ndarray:
    from seqlab.ts import auto_arima

    return np.asarray(auto_arima(y, m, approximation=True).forecast(h).mean, dtype=float)


def fit_statsforecast(y: np.ndarray, h: int, m: int) -> np.ndarray:
    from statsforecast.models import AutoARIMA

    return np.asarray(AutoARIMA(season_length=m).forecast(y=y, h=h)["mean"], dtype=float)


# Where statsforecast's ARIMA (checked on 2.1.1) departs from R's forecast/stats source,
# as (found, R's behaviour) source replacements:
# 1. ndiffs: its ``diff`` already drops the leading NaN, so ``[1:]`` drops a real value
#    and every KPSS test after the first sees one observation too few;
# 2. the ML objective updates the state-space dict in place (R's ``upARIMA`` returns a
#    modified copy), so after the first evaluation the integration states no longer
#    start from the diffuse prior: every d + D > 0 likelihood is off;
# 3. when ML ends with a non-invertible MA, R re-evaluates the ML objective at the
#    inverted MA (``optim(..., maxit = 0)``); statsforecast re-optimises the CSS
#    objective and reports that fit and its value as the ML result;
# 4. myarima's root check takes a 0-based index for R's 1-based ``which``, so an AR or MA
#    polynomial whose only non-zero coefficient is the first is never checked (an MA(1)
#    at theta = 1 passes);
# 5. arima's ``arCheck`` finds the first non-zero of ``c(1, -ar)`` (always the 1) where R
#    takes the last, so "non-stationary AR part from CSS" never stops a fit;
# 6. ``maInvert`` has the same slip, returns early when any root is inside the unit
#    circle (R: when none is) and returns a tuple, so it never inverts an MA part.
_SF_R_PATCHES = (
    ("x = diff(x, 1, 1)[1:]", "x = diff(x, 1, 1)"),
    (
        "Z = upARIMA(mod, trarma[0], trarma[1])",
        "Z = upARIMA({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in mod.items()}, "
        "trarma[0], trarma[1])",
    ),
    (
        """                res = minimize(
                    arma_css_op,
                    coef[mask],
                    args=(x, coef, mask, arma, ncxreg, xreg, narma),
                    method=optim_method,
                    tol=tol,
                    options=optim_control,
                )
                res = OptimResult(res.success, oldcode, res.x, res.fun, res.hess_inv)""",
        "                args = (x, True, coef, mask, arma, mod, ncxreg, xreg, narma)\n"
        "                value = ml_obj(coef[mask], *args)\n"
        "                res = OptimResult(res.success, oldcode, coef[mask].copy(), value, "
        "res.hess_inv)",
    ),
    ("last_nonzero = np.max(np.where(k)[0])", "last_nonzero = np.max(np.where(k)[0]) + 1"),
    ("testvec = testvec[: (last_nonzero + 1)]", "testvec = testvec[:last_nonzero]"),
    ("np.argmax(np.append(1, -ar) != 0)", "np.flatnonzero(np.append(1, -ar) != 0).max()"),
    ("np.argmax(np.append(1, ma) != 0)", "np.flatnonzero(np.append(1, ma) != 0).max()"),
    ("if any(ind):\n            return ma", "if not any(ind):\n            return ma"),
    (
        "return x.real[1:], np.repeat(0, q - q0)",
        "return np.append(x.real[1:], np.repeat(0, q - q0))",
    ),
)


def r_faithful_statsforecast():
    """A private copy of ``statsforecast.arima`` with ``_SF_R_PATCHES`` applied.

    Raises RuntimeError when the installed statsforecast lacks any of the patched lines
    (another version: the method is then skipped, never run half-patched).
    """
    import importlib.util
    import inspect

    import statsforecast.arima as original

    source = inspect.getsource(original)
    for found, replacement in _SF_R_PATCHES:
        if found not in source:
            raise RuntimeError(f"statsforecast.arima has no line {found.strip()[:60]!r}")
        source = source.replace(found, replacement)
    spec = importlib.util.spec_from_loader("statsforecast_r_arima", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = original.__package__
    exec(compile(source, original.__file__, "exec"), module.__dict__)
    return module


_SF_R_MODULE = None


def fit_statsforecast_r(y: np.ndarray, h: int, m: int) -> np.ndarray:
    from statsforecast.models import AutoARIMA

    global _SF_R_MODULE
    if _SF_R_MODULE is None:
        _SF_R_MODULE = r_faithful_statsforecast()
    # AutoARIMA's own defaults, passed as its forecast() passes them.
    spec = AutoARIMA(season_length=m)
    names = (
        "d D max_p max_q max_P max_Q max_order max_d max_D start_p start_q start_P start_Q "
        "stationary seasonal ic stepwise nmodels trace approximation method truncate test "
        "test_kwargs seasonal_test seasonal_test_kwargs allowdrift allowmean blambda biasadj"
    ).split()
    with np.errstate(invalid="ignore"):
        model = _SF_R_MODULE.auto_arima_f(
            x=y, period=m, **{name: getattr(spec, name) for name in names}
        )
    return np.asarray(_SF_R_MODULE.forecast_arima(model, h)["mean"], dtype=float)


def fit_pmdarima(y: np.ndarray, h: int, m: int) -> np.ndarray:
    import pmdarima

    model = pmdarima.auto_arima(
        y, m=m, seasonal=m > 1, suppress_warnings=True, error_action="ignore"
    )
    return np.asarray(model.predict(n_periods=h), dtype=float)


SERIAL = {
    "seqlab": fit_seqlab,
    "seqlab_css": fit_seqlab_css,
    "statsforecast": fit_statsforecast,
    "statsforecast_r": fit_statsforecast_r,
    "pmdarima": fit_pmdarima,
    "naive": lambda y, h, m: seasonal_naive(y, h, m),
}


def available(method: str) -> str | None:
    """None if the method can run here, else why not."""
    module = {
        "statsforecast": "statsforecast",
        "statsforecast_r": "statsforecast",
        "pmdarima": "pmdarima",
    }.get(method)
    if module is None:
        return None
    try:
        __import__(module)
    except Exception as exc:  # an import error of any kind means "skip it"
        return f"{module} cannot be imported: {exc}"
    if method == "statsforecast_r":
        try:
            r_faithful_statsforecast()
        except RuntimeError as exc:
            return str(exc)
    return None


def warm_up(method: str) -> float:
    """Run once on a short seasonal series so first-call costs are timed apart."""
    if method not in ("seqlab", "statsforecast", "statsforecast_r"):
        return 0.0
    rng = np.random.default_rng(0)
    y = 100 + np.cumsum(rng.normal(size=48)) + 5 * np.sin(np.arange(48) * np.pi / 6)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = SERIAL[method]
        fit(y, 6, 12)
        fit(y[:20], 6, 1)
    return time.perf_counter() - started


# ------------------------------------------------------------------ running
def run_serial(method: str, tasks: list[tuple], progress: bool) -> dict:
    forecasts, failures, errors = {}, 0, []
    fit = SERIAL[method]
    started = time.perf_counter()
    for uid, train, _, h, m in tqdm(tasks, desc=method, disable=not progress, leave=False):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                forecast = fit(train, h, m)
            if forecast.shape != (h,) or not np.isfinite(forecast).all():
                raise ValueError(f"forecast has shape {forecast.shape} or non-finite values")
        except Exception as exc:  # the benchmark scores every series, failed or not
            failures += 1
            errors.append(f"{uid}: {type(exc).__name__}: {exc}"[:300])
            forecast = seasonal_naive(train, h, m)
        forecasts[uid] = forecast
    return {
        "forecasts": forecasts,
        "seconds": time.perf_counter() - started,
        "failures": failures,
        "errors": errors[:20],
    }


def run_process(tasks: list[tuple], jobs: int, progress: bool, css: bool) -> dict:
    from seqlab.ts import fit_many

    rows = [
        pd.DataFrame({"unique_id": uid, "ds": np.arange(train.size), "y": train})
        for uid, train, *_ in tasks
    ]
    frame = pd.concat(rows, ignore_index=True)
    h, m = tasks[0][3], tasks[0][4]
    started = time.perf_counter()
    options = {"approximation": True} if css else {}
    result = fit_many(frame, h, m, backend="process", n_jobs=jobs, progress=progress, **options)
    seconds = time.perf_counter() - started
    by_id = {uid: g["mean"].to_numpy() for uid, g in result.forecasts.groupby("unique_id")}
    forecasts, failures = {}, 0
    for uid, train, _, h, m in tasks:
        if uid in by_id and by_id[uid].shape == (h,) and np.isfinite(by_id[uid]).all():
            forecasts[uid] = by_id[uid]
        else:
            failures += 1
            forecasts[uid] = seasonal_naive(train, h, m)
    errors = [f"{r.iloc[0]}: {r['error']}"[:300] for _, r in result.errors.iterrows()]
    return {"forecasts": forecasts, "seconds": seconds, "failures": failures, "errors": errors}


def score(tasks: list[tuple], forecasts: dict) -> tuple[float, float]:
    smapes, mases = [], []
    for uid, train, test, _, m in tasks:
        smape_value, mase_value = m3_scores(train, test, forecasts[uid], m)
        smapes.append(smape_value)
        mases.append(mase_value)
    return float(np.mean(smapes)), float(np.nanmean(mases))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, help="random series per period (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--periods", default="yearly,quarterly,monthly,other")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--jobs", type=int, default=2, help="workers for seqlab_process")
    parser.add_argument(
        "--process-css", action="store_true", help="seqlab_process with approximation=True"
    )
    parser.add_argument("--data", type=Path, help="folder holding m3/ (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/m3.json"))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    periods = [p.strip().lower() for p in args.periods.split(",") if p.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [p for p in periods if p not in PERIODS] + [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown period/method {unknown}; periods {list(PERIODS)}, methods {METHODS}")
    data_dir = args.data or shared_data_dir()
    if data_dir is None or not (data_dir / "m3" / "m3_series.csv").exists():
        parser.error("M3 data not found: pass --data pointing at the folder that holds m3/.")
    skipped = {}
    for method in list(methods):
        reason = available(method)
        if reason:
            print(f"skipping {method}: {reason}")
            skipped[method] = reason
            methods.remove(method)

    meta, series = load_m3(data_dir)
    report = {
        "command": "benchmarks/m3.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_start": os.getloadavg(),
        },
        "skipped": skipped,
        "warm_up_seconds": {},
        "periods": {},
    }
    # seqlab_process forks this process, so its workers inherit seqlab's compiled code.
    for method in {"seqlab" if m.startswith("seqlab") else m for m in methods}:
        report["warm_up_seconds"][method] = round(warm_up(method), 2)

    rng = np.random.default_rng(args.seed)
    for period in periods:
        rows = meta[meta["period"] == PERIODS[period]]
        if args.sample and args.sample < len(rows):
            rows = rows.iloc[np.sort(rng.choice(len(rows), args.sample, replace=False))]
        subset = series[series["unique_id"].isin(set(rows["unique_id"]))]
        groups = dict(tuple(subset.groupby("unique_id")))
        tasks = []
        for row in rows.itertuples():
            g = groups[row.unique_id]
            train = g.loc[g["split"] == "train", "y"].to_numpy(float)
            test = g.loc[g["split"] == "test", "y"].to_numpy(float)
            tasks.append((row.unique_id, train, test, int(row.h), int(row.m)))
        results = {}
        for method in methods:
            if method == "seqlab_process":
                outcome = run_process(tasks, args.jobs, not args.no_progress, args.process_css)
            else:
                outcome = run_serial(method, tasks, not args.no_progress)
            smape_value, mase_value = score(tasks, outcome["forecasts"])
            results[method] = {
                "series": len(tasks),
                "smape": round(smape_value, 3),
                "mase": round(mase_value, 4),
                "seconds": round(outcome["seconds"], 2),
                "failures": outcome["failures"],
                "errors": outcome["errors"],
            }
            serial = "seqlab_css" if args.process_css else "seqlab"
            if method == "seqlab_process" and serial in results:
                same = results[serial]["smape"] == results[method]["smape"]
                results[method][f"equals_{serial}"] = bool(same)
            print(
                f"{period:<10} {method:<15} n={len(tasks):<5} sMAPE {smape_value:7.3f}  "
                f"MASE {mase_value:6.3f}  {outcome['seconds']:9.1f} s  "
                f"failures {outcome['failures']}",
                flush=True,
            )
        report["periods"][period] = results
        report["machine"]["load_average_end"] = os.getloadavg()
        write_json(args.out, report)

    print()
    print_table(report)
    print(f"\nwrote {args.out}")
    return 0


def print_table(report: dict) -> None:
    header = f"{'period':<10} {'method':<15} {'n':>5} {'sMAPE':>8} {'MASE':>7} {'seconds':>9}"
    header += f" {'x sf time':>9} {'fail':>5}"
    print(header)
    print("-" * len(header))
    for period, results in report["periods"].items():
        reference = results.get("statsforecast", {}).get("seconds")
        for method, r in results.items():
            ratio = f"{r['seconds'] / reference:9.3f}" if reference else f"{'':>9}"
            print(
                f"{period:<10} {method:<15} {r['series']:>5} {r['smape']:>8.3f} "
                f"{r['mase']:>7.3f} {r['seconds']:>9.1f} {ratio} {r['failures']:>5}"
            )
    warm = ", ".join(f"{k} {v:.1f} s" for k, v in report["warm_up_seconds"].items() if v)
    print(f"first-call warm-up (not in the times above): {warm or 'none'}")
    load = report["machine"]
    print(
        f"load average at start {load['load_average_start'][0]:.1f}, at end "
        f"{load.get('load_average_end', [float('nan')])[0]:.1f} on {load['cpus']} cores"
    )


if __name__ == "__main__":
    raise SystemExit(main())

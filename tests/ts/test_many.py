"""fit_many: per-series checks, errors as rows, identical results on every backend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.datasets import nile
from seqlab.ts.auto import auto_arima
from seqlab.ts.many import fit_many


@pytest.fixture(scope="module")
def long_frame(shared_data) -> pd.DataFrame:
    """Four M3 yearly series plus series that must fail or be special-cased."""
    meta = pd.read_csv(shared_data / "m3" / "m3_meta.csv")
    ids = set(meta.loc[meta["period"] == "YEARLY", "unique_id"].iloc[:4])
    frame = pd.read_csv(shared_data / "m3" / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(ids) & (frame["split"] == "train")]
    good = frame.rename(columns={"t": "ds"})[["unique_id", "ds", "y"]]
    duplicate = pd.DataFrame({"unique_id": "dup", "ds": [1, 2, 2, 3, 4, 5], "y": np.arange(6.0)})
    gap = pd.DataFrame({"unique_id": "gap", "ds": [1, 2, 3, 5, 6, 7], "y": np.arange(6.0)})
    constant = pd.DataFrame({"unique_id": "flat", "ds": np.arange(1, 13), "y": 4.0})
    return pd.concat([good, duplicate, gap, constant], ignore_index=True)


def _comparable(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    return result.forecasts, result.models.drop(columns="seconds")


def test_serial_results_and_per_series_errors(long_frame):
    result = fit_many(long_frame, h=6, progress=False)
    models = result.models.set_index("unique_id")
    assert list(models.index) == ["N0001", "N0002", "N0003", "N0004", "dup", "gap", "flat"]
    assert "duplicate ds 2" in models.loc["dup", "error"]
    assert "gap in ds after 3: next is 5, expected 4" in models.loc["gap", "error"]
    assert pd.isna(models.loc["flat", "error"])
    assert "constant" in models.loc["flat", "message"]
    assert set(result.errors["unique_id"]) == {"dup", "gap"}
    # Each good series: the same model auto_arima picks alone, forecasts at ds 15..20.
    y = long_frame.loc[long_frame["unique_id"] == "N0002", "y"].to_numpy()
    alone = auto_arima(y)
    assert models.loc["N0002", "model"] == alone.label
    fc = result.forecasts[result.forecasts["unique_id"] == "N0002"]
    assert list(fc["ds"]) == list(range(15, 21))
    np.testing.assert_array_equal(fc["mean"].to_numpy(), alone.forecast(6).mean)
    np.testing.assert_array_equal(fc["upper_95"].to_numpy(), alone.forecast(6).upper[95])
    flat = result.forecasts[result.forecasts["unique_id"] == "flat"]
    np.testing.assert_array_equal(flat["mean"], 4.0)


def test_process_backend_equals_serial(long_frame):
    serial = fit_many(long_frame, h=6, progress=False)
    parallel = fit_many(long_frame, h=6, backend="process", n_jobs=2, batch_size=2, progress=False)
    for a, b in zip(_comparable(serial), _comparable(parallel), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_dask_backend_equals_serial(long_frame):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    serial = fit_many(long_frame, h=6, progress=False)
    # A real local cluster, in-process workers, loopback only, no dashboard.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        result = fit_many(long_frame, h=6, backend="dask", batch_size=3, progress=False)
    for a, b in zip(_comparable(serial), _comparable(result), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_ray_backend_equals_serial(long_frame):
    ray = pytest.importorskip("ray", reason="ray is not installed")
    serial = fit_many(long_frame, h=6, progress=False)
    ray.init(
        num_cpus=1,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        result = fit_many(long_frame, h=6, backend="ray", batch_size=7, progress=False)
    finally:
        ray.shutdown()
    for a, b in zip(_comparable(serial), _comparable(result), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_dates_regressors_and_future():
    y = nile()
    frame = pd.DataFrame(
        {
            "unique_id": "nile",
            "ds": y.index,
            "y": y.to_numpy(),
            "dam": (y.index.year >= 1899).astype(float),
        }
    )
    future_ds = pd.date_range(y.index[-1], periods=4, freq=y.index.freq)[1:]
    future = pd.DataFrame({"unique_id": "nile", "ds": future_ds, "dam": 1.0})
    result = fit_many(frame, h=3, future=future, progress=False)
    assert result.errors.empty
    assert list(result.forecasts["ds"]) == list(future_ds)
    alone = auto_arima(y, exog=frame[["dam"]].set_index(y.index))
    np.testing.assert_allclose(
        result.forecasts["mean"], alone.forecast(3, exog=np.ones((3, 1))).mean, rtol=1e-12
    )

    missing = fit_many(frame, h=3, progress=False)
    assert "pass future=" in missing.models.loc[0, "error"]
    short = fit_many(frame, h=3, future=future.iloc[:2], progress=False)
    assert "missing for ds" in short.models.loc[0, "error"]
    holes = frame.copy()
    holes.loc[5, "dam"] = np.nan
    bad = fit_many(holes, h=3, future=future, progress=False)
    assert "regressor 'dam' is NaN/inf at ds 1876" in bad.models.loc[0, "error"]
    gappy = frame.drop(index=10)
    gap = fit_many(gappy, h=3, future=future, freq="YS", progress=False)
    assert "gap in ds after 1880" in gap.models.loc[0, "error"]


def test_bad_arguments(long_frame):
    with pytest.raises(ValueError, match="lacks the column"):
        fit_many(long_frame.rename(columns={"ds": "date"}), h=3, progress=False)
    with pytest.raises(ValueError, match="backend must be"):
        fit_many(long_frame, h=3, backend="spark", progress=False)
    with pytest.raises(TypeError, match="DataFrame"):
        fit_many(long_frame.to_numpy(), h=3, progress=False)
    with pytest.raises(ValueError, match="h must be >= 1"):
        fit_many(long_frame, h=0, progress=False)

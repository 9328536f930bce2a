"""Shared fixtures. Data sets from ../shared/data are used where present, skipped where not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One thread per test process (and per CLI subprocess, which inherits the variable): the
# tests' tensors are tiny, and two OpenMP threads on a busy 2-core machine spin against
# each other (measured by the nn and train tests: 20-40x slower steps with 2 threads).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _shared_data() -> Path | None:
    from seqlab.datasets import shared_data_dir

    return shared_data_dir()


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Pin torch to one thread for each test, whatever a previous test set."""
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; skips the test where it is absent."""
    path = _shared_data()
    if path is None:
        pytest.skip("../shared/data is not beside this checkout (set SEQLAB_DATA to use it)")
    return path


@pytest.fixture(scope="session")
def m3_monthly(shared_data):
    """M3 monthly series as {unique_id: (train ndarray, test ndarray)}."""
    import pandas as pd

    series_path = shared_data / "m3" / "m3_series.csv"
    meta_path = shared_data / "m3" / "m3_meta.csv"
    if not series_path.exists():
        pytest.skip(f"{series_path} is missing")
    meta = pd.read_csv(meta_path)
    ids = set(meta.loc[meta["period"].str.lower() == "monthly", "unique_id"])
    frame = pd.read_csv(series_path)
    frame = frame[frame["unique_id"].isin(ids)].sort_values(["unique_id", "split", "t"])
    out = {}
    for uid, group in frame.groupby("unique_id", sort=True):
        train = group.loc[group["split"] == "train", "y"].to_numpy(float)
        test = group.loc[group["split"] == "test", "y"].to_numpy(float)
        out[uid] = (train, test)
    return out

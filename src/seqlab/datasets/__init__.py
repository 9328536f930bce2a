"""Small classic series shipped with seqlab, so the demo and tests need no network.

- ``airline``: monthly international airline passengers (thousands), 1949-01 to
  1960-12, 144 values. Box, Jenkins & Reinsel, *Time Series Analysis*, series G; R's
  ``datasets::AirPassengers``. Public domain.
- ``nile``: annual flow of the Nile at Aswan (10^8 m^3), 1871-1970, 100 values.
  Cobb (1978), Durbin & Koopman (2001); R's ``datasets::Nile``. Public domain.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "airline",
    "load",
    "nile",
    "shared_data_dir",
]

_FILES = {"airline": "airline.csv", "nile": "nile.csv"}


def load(name: str) -> pd.Series:
    """Return a bundled series as a pandas Series with a DatetimeIndex."""
    if name not in _FILES:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(_FILES)}.")
    with resources.files(__package__).joinpath("data", _FILES[name]).open() as handle:
        frame = pd.read_csv(handle, parse_dates=[0], index_col=0)
    series = frame.iloc[:, 0].astype(float)
    series.index = pd.DatetimeIndex(series.index, freq="infer")
    return series


def airline() -> pd.Series:
    """Monthly airline passengers 1949-1960 (Box & Jenkins series G)."""
    return load("airline")


def nile() -> pd.Series:
    """Annual Nile flow at Aswan 1871-1970."""
    return load("nile")


def shared_data_dir() -> Path | None:
    """Where the project's shared data sets live, or None if they are not here.

    Looked for in order: ``$SEQLAB_DATA``; ``../shared/data`` from the current folder;
    ``shared/data`` beside the checkout that holds this package (source installs).
    """
    candidates = []
    if os.environ.get("SEQLAB_DATA"):
        candidates.append(Path(os.environ["SEQLAB_DATA"]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None

"""Save a fitted recurrent forecaster to a run folder and load it back, no pickle.

Layout (each file written atomically):

- ``forecaster.json``: format version, class, constructor parameters, input column
  names, the network's registered config (``build_model`` rebuilds it), and the last
  ``lookback`` rows seen (so ``predict`` works straight after loading);
- ``model.safetensors``: the network's weights;
- ``scaler.json``: the fitted scaler state (one per series for a global model);
- ``history.json``: the training history.

Loading checks that every weight's name and shape match the rebuilt network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.torch import load_file
from safetensors.torch import save as save_tensors

from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster
from seqlab.forecast.scalers import scaler_from_state
from seqlab.io import atomic_write, read_json, write_json
from seqlab.models import build_model

__all__ = ["load_forecaster", "predict_frame", "save_forecaster"]

FORMAT_VERSION = 1
_CLASSES = {cls.__name__: cls for cls in (RecurrentForecaster, GlobalRecurrentForecaster)}


def save_forecaster(
    forecaster: RecurrentForecaster | GlobalRecurrentForecaster, run_dir: str | os.PathLike
) -> Path:
    """Write ``forecaster`` (fitted) to ``run_dir``; returns the folder."""
    if type(forecaster).__name__ not in _CLASSES:
        raise TypeError(
            f"only recurrent forecasters are saved as run folders, got {type(forecaster).__name__}."
        )
    forecaster._check_fitted()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    is_global = isinstance(forecaster, GlobalRecurrentForecaster)
    config: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "class": type(forecaster).__name__,
        "params": forecaster.get_params(),
        "model": forecaster.model_config_,
    }
    if is_global:
        config["names"] = forecaster.names_
        config["history"] = [values.tolist() for values in forecaster.data_]
        scalers: Any = [scaler.state_dict() for scaler in forecaster.scalers_]
    else:
        config["columns"] = forecaster.columns_
        config["history"] = forecaster.data_.tolist()
        scalers = forecaster.scaler_.state_dict()
    state = {k: v.detach().cpu().contiguous() for k, v in forecaster.model_.state_dict().items()}
    with atomic_write(run_dir / "model.safetensors", "wb") as handle:
        handle.write(save_tensors(state))
    write_json(run_dir / "scaler.json", scalers)
    write_json(run_dir / "history.json", forecaster.history_)
    # forecaster.json last: its presence marks a complete run folder.
    write_json(run_dir / "forecaster.json", config)
    return run_dir


def load_forecaster(run_dir: str | os.PathLike) -> RecurrentForecaster | GlobalRecurrentForecaster:
    """Rebuild the fitted forecaster saved by :func:`save_forecaster`."""
    run_dir = Path(run_dir)
    path = run_dir / "forecaster.json"
    if not path.exists():
        raise ValueError(
            f"{run_dir} is not a forecaster run folder (no forecaster.json); create one with "
            "'seqlab forecast fit ... --out DIR'."
        )
    config = read_json(path)
    if config.get("format") != FORMAT_VERSION or config.get("class") not in _CLASSES:
        raise ValueError(
            f"{path}: unsupported run folder (format {config.get('format')!r}, class "
            f"{config.get('class')!r}); this seqlab reads format {FORMAT_VERSION}."
        )
    forecaster = _CLASSES[config["class"]](**config["params"])
    model = build_model(config["model"])
    weights = load_file(str(run_dir / "model.safetensors"))
    expected = model.state_dict()
    if set(weights) != set(expected) or any(
        weights[k].shape != expected[k].shape for k in expected
    ):
        raise ValueError(
            f"{run_dir / 'model.safetensors'}: weight names/shapes do not match the network "
            f"in forecaster.json (expected {sorted(expected)})."
        )
    model.load_state_dict(weights)
    model.eval()
    forecaster.model_ = model
    forecaster.model_config_ = config["model"]
    forecaster.history_ = read_json(run_dir / "history.json")
    scalers = read_json(run_dir / "scaler.json")
    if isinstance(forecaster, GlobalRecurrentForecaster):
        forecaster.names_ = config["names"]
        forecaster.scalers_ = [scaler_from_state(s) for s in scalers]
        forecaster.data_ = [np.asarray(v, dtype=np.float64) for v in config["history"]]
        forecaster.n_features_ = 1
    else:
        forecaster.columns_ = list(config["columns"])
        forecaster.scaler_ = scaler_from_state(scalers)
        forecaster.data_ = np.asarray(config["history"], dtype=np.float64)
        forecaster.n_features_ = len(forecaster.columns_)
    return forecaster


def predict_frame(forecaster: RecurrentForecaster, frame: pd.DataFrame, h: int) -> np.ndarray:
    """Forecast ``h`` steps after the end of ``frame`` (target first, then features).

    The frame's columns must be exactly the ones the forecaster was fitted on, in the
    same order; the error lists both sets otherwise.
    """
    columns = [str(c) for c in frame.columns]
    if columns != forecaster.columns_:
        raise ValueError(
            f"the run was fitted on columns {forecaster.columns_} (target first), but the "
            f"data has {columns}. Use the same --target and --features as at fit time."
        )
    y = frame.iloc[:, 0]
    X = frame.iloc[:, 1:] if frame.shape[1] > 1 else None
    forecaster.update(y, X)
    return forecaster.predict(h)

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

import contextlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqlab._schema import (
    expect_bool,
    expect_choice,
    expect_float,
    expect_float_list,
    expect_int,
    expect_keys,
    expect_object,
    expect_str_list,
    read_json_file,
)
from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster
from seqlab.forecast.scalers import scaler_from_state
from seqlab.io import write_json
from seqlab.models import build_model
from seqlab.models.registry import MAX_DIMENSION, MAX_LAYERS
from seqlab.train.checkpoint import load_model_weights, save_weights

__all__ = ["load_forecaster", "predict_frame", "save_forecaster"]

FORMAT_VERSION = 1
_CLASSES = {cls.__name__: cls for cls in (RecurrentForecaster, GlobalRecurrentForecaster)}
_CELLS = ("rnn", "lstm", "gru")


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
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir}: exists and is not a folder; choose another --out.")
    created = not run_dir.exists()
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
    state = forecaster.model_.state_dict()
    # forecaster.json marks a complete run folder: an older one goes first and the new one
    # is written last, so a folder is never a mix of two runs.
    (run_dir / "forecaster.json").unlink(missing_ok=True)
    try:
        save_weights(run_dir / "model.safetensors", state)
        write_json(run_dir / "scaler.json", scalers)
        write_json(run_dir / "history.json", forecaster.history_)
        write_json(run_dir / "forecaster.json", config)
    except BaseException:
        for name in ("model.safetensors", "scaler.json", "history.json", "forecaster.json"):
            (run_dir / name).unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()
        raise
    return run_dir


def load_forecaster(run_dir: str | os.PathLike) -> RecurrentForecaster | GlobalRecurrentForecaster:
    """Rebuild the fitted forecaster saved by :func:`save_forecaster`.

    Every value read goes through the checks the constructor's arguments and the fitted
    state get, with bounds (lookback, model sizes): a damaged or hostile file is a
    ValueError naming the file and the field. The weights are read from safetensors
    after their names and shapes are checked against the network rebuilt from
    ``forecaster.json``.
    """
    run_dir = Path(run_dir)
    path = run_dir / "forecaster.json"
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    if not path.exists():
        raise ValueError(
            f"{run_dir} is not a forecaster run folder (no forecaster.json); create one with "
            "'seqlab forecast fit ... --out DIR'."
        )
    config = read_json_file(path, dict, "forecaster.json")
    if config.get("format") != FORMAT_VERSION or config.get("class") not in _CLASSES:
        raise ValueError(
            f"{path}: unsupported run folder (format {config.get('format')!r}, class "
            f"{config.get('class')!r}); this seqlab reads format {FORMAT_VERSION}."
        )
    cls = _CLASSES[config["class"]]
    is_global = cls is GlobalRecurrentForecaster
    expect_keys(
        config,
        str(path),
        ["format", "class", "params", "model", "history", "names" if is_global else "columns"],
    )
    forecaster = _forecaster_from_params(cls, config["params"], f"{path}: params")
    n_columns = 1
    if not is_global:
        columns = expect_str_list(
            config["columns"],
            f"{path}: columns",
            min_length=1,
            max_length=MAX_DIMENSION,
            unique=True,
        )
        n_columns = len(columns)
    model_config = _check_model_config(config["model"], forecaster, n_columns, path)
    model = build_model(model_config)
    load_model_weights(model, run_dir / "model.safetensors")
    model.eval()
    forecaster.model_ = model
    forecaster.model_config_ = model_config
    forecaster.history_ = _read_history(run_dir / "history.json")
    scalers = read_json_file(run_dir / "scaler.json", list if is_global else dict, "scaler.json")
    where = f"{run_dir / 'scaler.json'}"
    if is_global:
        names = config["names"]
        history = config["history"]
        if not isinstance(history, list) or not history:
            raise ValueError(f"{path}: history must be a non-empty list of series.")
        if names is not None:
            names = expect_str_list(names, f"{path}: names", length=len(history), unique=True)
        if len(scalers) != len(history):
            raise ValueError(f"{where}: expected {len(history)} scaler states, got {len(scalers)}.")
        forecaster.names_ = names
        forecaster.scalers_ = [
            _checked_scaler(state, forecaster, 1, f"{where}[{i}]")
            for i, state in enumerate(scalers)
        ]
        forecaster.data_ = [
            np.asarray(
                expect_float_list(
                    values,
                    f"{path}: history[{i}]",
                    min_length=1,
                    max_length=forecaster.lookback,
                    allow_nan=True,
                ),
                dtype=np.float64,
            )
            for i, values in enumerate(history)
        ]
        forecaster.n_features_ = 1
    else:
        forecaster.columns_ = columns
        forecaster.scaler_ = _checked_scaler(scalers, forecaster, n_columns, where)
        forecaster.data_ = _read_rows(config["history"], forecaster.lookback, n_columns, path)
        forecaster.n_features_ = n_columns
    return forecaster


# A window longer than this is no recurrent forecaster seqlab trains; it bounds what a
# run folder's lookback may ask the loader (and predict) to hold.
MAX_LOOKBACK = 100_000


def _forecaster_from_params(cls: type, params: Any, where: str):
    params = expect_object(params, where)
    known = list(cls().get_params())
    expect_keys(params, where, [], known)
    for name in ("hidden_size", "num_layers", "lookback", "horizon"):
        if name in params:
            limit = {"hidden_size": MAX_DIMENSION, "num_layers": MAX_LAYERS}.get(name)
            expect_int(params[name], f"{where}.{name}", minimum=1, maximum=limit or MAX_LOOKBACK)
    for name in ("bidirectional", "local_level", "log", "refit_full"):
        if name in params:
            expect_bool(params[name], f"{where}.{name}")
    if "cell" in params:
        expect_choice(params["cell"], f"{where}.cell", _CELLS)
    if "device" in params and not isinstance(params["device"], str):
        raise ValueError(f"{where}.device: expected a string, got {params['device']!r}.")
    forecaster = cls(**params)
    try:
        forecaster._check_params()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    return forecaster


def _check_model_config(value: Any, forecaster, n_columns: int, path: Path) -> dict[str, Any]:
    """The network config, which must describe the network the parameters imply."""
    model_config = expect_object(value, f"{path}: model")
    expected_name = "seq2seq_forecaster" if forecaster.mode == "seq2seq" else "recurrent_forecaster"
    implied = {
        "name": expected_name,
        "cell": forecaster.cell,
        "input_size": n_columns,
        "hidden_size": forecaster.hidden_size,
        "num_layers": forecaster.num_layers,
        "bidirectional": forecaster.bidirectional,
        "horizon": forecaster._train_horizon,
    }
    for key, want in implied.items():
        if model_config.get(key) != want:
            raise ValueError(
                f"{path}: model.{key} is {model_config.get(key)!r} but the parameters and "
                f"columns imply {want!r}; the run folder is inconsistent."
            )
    return dict(model_config)


def _checked_scaler(state: Any, forecaster, n_columns: int, where: str):
    scaler = scaler_from_state(state, where=where)
    if scaler.kind != forecaster.scaler:
        raise ValueError(
            f"{where}: a {scaler.kind!r} scaler, but the parameters say {forecaster.scaler!r}."
        )
    if scaler.scale_.shape[0] != n_columns:
        raise ValueError(
            f"{where}: scales {scaler.scale_.shape[0]} columns, the run has {n_columns}."
        )
    return scaler


def _read_rows(value: Any, lookback: int, n_columns: int, path: Path) -> np.ndarray:
    where = f"{path}: history"
    if not isinstance(value, list) or not 1 <= len(value) <= lookback:
        raise ValueError(f"{where}: expected a list of 1 to {lookback} rows (the last window).")
    rows = [
        expect_float_list(row, f"{where}[{i}]", length=n_columns, allow_nan=True)
        for i, row in enumerate(value)
    ]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), n_columns)


def _read_history(path: Path) -> list[dict[str, float]]:
    history = read_json_file(path, list, "history.json")
    for i, record in enumerate(history):
        record = expect_object(record, f"{path}[{i}]")
        for key, value in record.items():
            expect_float(value, f"{path}[{i}].{key}", allow_nan=True)
    return history


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

"""Save any fitted forecaster to a run folder and load it back, no pickle.

Every run folder follows one layout (:mod:`seqlab.io`): a ``run.json`` manifest
(``kind``, ``class``, ``params``, ``state``, ``files``) written last, beside
safetensors files. :func:`save` writes any saveable forecaster and :func:`load` reads
any run folder, of this layout or of format 1, into the object it holds.

A recurrent forecaster's folder (kind ``"recurrent_forecaster"`` or
``"global_recurrent_forecaster"``) holds

- ``run.json``: ``params``, the constructor parameters as ``get_params()`` gives them,
  and ``state``: ``model`` (the network's registered config, which ``build_model``
  rebuilds), ``columns`` (the input columns, target first) or ``names`` (the global
  model's series names, or null), ``scaler`` (the fitted scaler state; a list, one per
  series, for a global model), ``history`` (the training history) and ``conformal``
  (where the calibration scores came from, or null when there are none);
- ``model.safetensors``: the network's weights;
- ``data.safetensors``: ``window``, the last ``lookback`` rows seen, (rows, columns),
  or ``window.0``, ``window.1``, ... one per series for a global model (so ``predict``
  works straight after loading), and ``conformal_scores``, (K, H), the calibration
  scores that give the intervals.

A window-normalised global model (``normalize="window"``, the default ensemble of
``GlobalRecurrentForecaster(horizon=h, season_length=m)``) has the same kind and files;
its ``params`` may hold ``lookback: null`` and lists for ``lookback``, ``loss`` and
``local_level``, and its ``state`` holds ``model`` (the ``ensemble_forecaster`` config,
with one ``lookbacks`` and ``member_bases`` entry per member), ``names``, ``scales``
(one float per series: its mean absolute value), ``lookbacks`` (the distinct member
lookbacks chosen at ``fit``), ``best_epoch``, ``history`` and ``conformal``; its
``window.i`` arrays are 1-D, the last ``max(lookbacks)`` values of series ``i``.

An ARIMA or auto ARIMA folder is described in :mod:`seqlab.ts.runs`. Format-1 recurrent
folders (``forecaster.json``, ``model.safetensors``, ``scaler.json``,
``history.json``) still load; they kept no calibration scores, so their forecasts have
no intervals.

Loading checks every JSON value with bounds (sizes, lookback) and every weight's name
and shape against the rebuilt network before a tensor is read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqlab._schema import (
    expect_choice,
    expect_float,
    expect_float_list,
    expect_int,
    expect_keys,
    expect_object,
    expect_str_list,
    read_float_arrays,
    read_json_file,
    read_run_manifest,
    run_manifest_kind,
)
from seqlab.io import RUN_MANIFEST, write_run_folder

__all__ = ["load", "load_forecaster", "predict_frame", "save", "save_forecaster"]

#: The layout of a format-1 folder's ``forecaster.json`` (read, no longer written).
FORMAT_VERSION = 1
LEGACY_CONFIG = "forecaster.json"
WEIGHTS_FILE = "model.safetensors"
DATA_FILE = "data.safetensors"
#: Run kind -> class name of the recurrent forecasters.
KINDS = {
    "recurrent_forecaster": "RecurrentForecaster",
    "global_recurrent_forecaster": "GlobalRecurrentForecaster",
}
_CELLS = ("rnn", "lstm", "gru")
_ARIMA_KINDS = ("arima", "auto_arima")
# A window longer than this is no recurrent forecaster seqlab trains; it bounds what a
# run folder's lookback may ask the loader (and predict) to hold.
MAX_LOOKBACK = 100_000
# Bounds on a run's series and calibration scores.
MAX_SERIES = 10_000_000
MAX_CALIBRATION = 100_000_000
# Bounds on the constructor parameters read from run.json: any integer, a string, a list
# (lookbacks, losses, local levels); the ones that size a network or a window have
# their own bounds (see _param_bounds).
MAX_PARAM_INT = 2**62
MAX_PARAM_STR = 200
MAX_PARAM_LIST = 64


def _classes() -> dict[str, type]:
    from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster

    return {cls.__name__: cls for cls in (RecurrentForecaster, GlobalRecurrentForecaster)}


# ------------------------------------------------------------------ any kind
def save(forecaster: Any, path: str | os.PathLike) -> Path:
    """Write a fitted forecaster to the run folder ``path``; returns the folder.

    Parameters
    ----------
    forecaster
        A fitted :class:`~seqlab.forecast.neural.RecurrentForecaster` or
        :class:`~seqlab.forecast.neural.GlobalRecurrentForecaster`, an
        ``ARIMAResult`` or ``AutoARIMAResult``, or a fitted ``ArimaForecaster`` /
        ``AutoArimaForecaster`` (whose fitted result is saved).

    Raises
    ------
    TypeError
        Another kind of object (the baselines are refitted, not saved).
    ValueError
        ``path`` is a file.
    """
    from seqlab.ts.runs import save_arima

    if type(forecaster).__name__ in KINDS.values():
        return save_forecaster(forecaster, path)
    result = getattr(forecaster, "result_", forecaster)
    if type(result).__name__ in ("ARIMAResult", "AutoARIMAResult"):
        return save_arima(result, path)
    raise TypeError(
        "save takes a fitted recurrent forecaster, an ARIMA result or a fitted ARIMA "
        f"forecaster, got {type(forecaster).__name__}."
    )


def load(path: str | os.PathLike) -> Any:
    """The fitted forecaster or result saved in the run folder ``path``.

    Returns
    -------
    RecurrentForecaster, GlobalRecurrentForecaster, ARIMAResult or AutoARIMAResult
        As saved; every one has ``forecast(h, level=...)``.

    Raises
    ------
    ValueError
        No such folder, a folder holding no forecaster run (the Trainer's run folders
        load with :func:`seqlab.train.load_run`), or a damaged one (the message names
        the file and the value).
    """
    from seqlab.ts.runs import load_arima

    run_dir = Path(path)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    kind = run_manifest_kind(run_dir)
    if kind in _ARIMA_KINDS:
        return load_arima(run_dir)
    if kind in KINDS:
        return load_forecaster(run_dir)
    if kind is not None:
        raise ValueError(
            f"{run_dir / RUN_MANIFEST}: kind {kind!r} is not a forecaster this seqlab loads "
            f"(expected one of {sorted([*KINDS, *_ARIMA_KINDS])})."
        )
    hint = (
        " (it is a Trainer run: load it with seqlab.train.load_run)"
        if (run_dir / "config.json").is_file()
        else ""
    )
    raise ValueError(
        f"{run_dir} is not a forecaster run folder (no {RUN_MANIFEST}){hint}; create one with "
        "'seqlab forecast fit ... --out DIR', 'seqlab ts fit|auto ... --out DIR' or "
        "seqlab.forecast.runs.save."
    )


# ------------------------------------------------------------------ recurrent
def save_forecaster(forecaster: Any, run_dir: str | os.PathLike) -> Path:
    """Write a fitted recurrent forecaster to ``run_dir``; returns the folder.

    The constructor parameters are saved as ``get_params()`` gives them, the network's
    weights, the scaler, the last window and the conformal calibration scores beside
    them, so the loaded forecaster's ``forecast(h, level=...)`` equals the original's.

    Raises
    ------
    TypeError
        ``forecaster`` is not a recurrent forecaster.
    ValueError
        It is not fitted, or ``run_dir`` is a file.
    """
    if type(forecaster).__name__ not in KINDS.values():
        raise TypeError(
            f"only recurrent forecasters are saved by save_forecaster, got "
            f"{type(forecaster).__name__}; seqlab.forecast.runs.save takes ARIMA results too."
        )
    forecaster._check_fitted()
    from safetensors.numpy import save as save_arrays

    from seqlab.train.checkpoint import save_weights

    is_global = type(forecaster).__name__ == KINDS["global_recurrent_forecaster"]
    state: dict[str, Any] = {"model": forecaster.model_config_}
    arrays: dict[str, np.ndarray] = {}
    if is_global and forecaster.config.normalize == "window":
        state["names"] = forecaster.names_
        state["scales"] = [float(scale) for scale in forecaster.scales_]
        state["lookbacks"] = [int(lookback) for lookback in forecaster.lookbacks_]
        best = getattr(forecaster, "best_epoch_", None)
        state["best_epoch"] = None if best is None else int(best)
        for i, values in enumerate(forecaster.data_):
            arrays[f"window.{i}"] = np.ascontiguousarray(values, dtype=np.float64)
    elif is_global:
        state["names"] = forecaster.names_
        state["scaler"] = [scaler.state_dict() for scaler in forecaster.scalers_]
        for i, values in enumerate(forecaster.data_):
            arrays[f"window.{i}"] = np.ascontiguousarray(values, dtype=np.float64)
    else:
        state["columns"] = forecaster.columns_
        state["scaler"] = forecaster.scaler_.state_dict()
        arrays["window"] = np.ascontiguousarray(forecaster.data_, dtype=np.float64)
    state["history"] = forecaster.history_
    conformal = getattr(forecaster, "conformal_", None)
    if conformal is None:
        state["conformal"] = None
    else:
        state["conformal"] = {"source": conformal.source, "remedy": conformal.remedy}
        arrays["conformal_scores"] = np.ascontiguousarray(conformal.scores, dtype=np.float64)
    weights = forecaster.model_.state_dict()
    kind = "global_recurrent_forecaster" if is_global else "recurrent_forecaster"
    return write_run_folder(
        run_dir,
        kind=kind,
        cls=type(forecaster),
        params=forecaster.get_params(),
        state=state,
        files={
            WEIGHTS_FILE: lambda path: save_weights(path, weights),
            DATA_FILE: save_arrays(arrays),
        },
        replaces=(LEGACY_CONFIG, "scaler.json", "history.json"),
    )


def load_forecaster(run_dir: str | os.PathLike) -> Any:
    """Rebuild the fitted recurrent forecaster saved by :func:`save_forecaster`.

    Reads the current layout (``run.json``) and format 1 (``forecaster.json``). Every
    value read goes through the checks the constructor's arguments and the fitted state
    get, with bounds (lookback, model sizes, array shapes): a damaged or hostile file is
    a ValueError naming the file and the field. The weights are read from safetensors
    after their names and shapes are checked against the network rebuilt from the
    saved config.

    Raises
    ------
    ValueError
        No such folder, no recurrent forecaster run in it, or a damaged one.
    """

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    if not (run_dir / RUN_MANIFEST).is_file():
        if (run_dir / LEGACY_CONFIG).is_file():
            return _load_format_1(run_dir)
        raise ValueError(
            f"{run_dir} is not a forecaster run folder (no {RUN_MANIFEST}); create one with "
            "'seqlab forecast fit ... --out DIR'."
        )
    manifest = read_run_manifest(run_dir, KINDS)
    path = run_dir / RUN_MANIFEST
    for name in (WEIGHTS_FILE, DATA_FILE):
        if name not in manifest["files"]:
            raise ValueError(f"{path}: files: {name!r} is not listed.")
    cls = _classes()[KINDS[manifest["kind"]]]
    is_global = manifest["kind"] == "global_recurrent_forecaster"
    where = f"{path}: state"
    state = manifest["state"]
    forecaster = _forecaster_from_params(cls, manifest["params"], f"{path}: params")
    if is_global and forecaster.config.normalize == "window":
        return _load_ensemble(forecaster, state, run_dir)
    expect_keys(
        state,
        where,
        ["model", "names" if is_global else "columns", "scaler", "history", "conformal"],
    )
    columns = _rebuild(
        forecaster,
        None if is_global else (state["columns"], f"{where}.columns"),
        (state["model"], f"{where}.model"),
        run_dir / WEIGHTS_FILE,
    )
    n_columns = 1 if columns is None else len(columns)
    forecaster.history_ = _check_history(state["history"], f"{where}.history")
    conformal = _conformal_meta(state["conformal"], f"{where}.conformal")
    if is_global:
        names = state["names"]
        scalers = state["scaler"]
        if not isinstance(scalers, list) or not 1 <= len(scalers) <= MAX_SERIES:
            raise ValueError(f"{where}.scaler: expected a non-empty list, one state per series.")
        n_series = len(scalers)
        if names is not None:
            names = expect_str_list(names, f"{where}.names", length=n_series, unique=True)
        shapes: dict[str, tuple[int, ...] | None] = {f"window.{i}": None for i in range(n_series)}
    else:
        shapes = {"window": None}
    if conformal is not None:
        shapes["conformal_scores"] = None
    arrays = read_float_arrays(run_dir / DATA_FILE, shapes)
    data_path = run_dir / DATA_FILE
    if is_global:
        forecaster.names_ = names
        forecaster.scalers_ = [
            _checked_scaler(value, forecaster, 1, f"{where}.scaler[{i}]")
            for i, value in enumerate(scalers)
        ]
        forecaster.data_ = [
            _window(arrays[f"window.{i}"], forecaster.lookback, None, f"{data_path}: window.{i}")
            for i in range(n_series)
        ]
        forecaster.n_features_ = 1
    else:
        forecaster.columns_ = columns
        forecaster.scaler_ = _checked_scaler(
            state["scaler"], forecaster, n_columns, f"{where}.scaler"
        )
        forecaster.data_ = _window(
            arrays["window"], forecaster.lookback, n_columns, f"{data_path}: window"
        )
        forecaster.n_features_ = n_columns
    if conformal is None:
        forecaster.conformal_ = None
    else:
        forecaster.conformal_ = _conformal_scores(
            arrays["conformal_scores"], conformal, f"{data_path}: conformal_scores"
        )
    return forecaster


def _conformal_meta(value: Any, where: str) -> dict[str, str] | None:
    """The saved conformal ``source`` and ``remedy`` texts, or None (no scores)."""
    if value is None:
        return None
    value = expect_object(value, where)
    expect_keys(value, where, ["source", "remedy"])
    for key in ("source", "remedy"):
        if not isinstance(value[key], str) or len(value[key]) > 10_000:
            raise ValueError(f"{where}.{key}: expected a string of at most 10,000 characters.")
    return value


def _load_ensemble(forecaster: Any, state: Any, run_dir: Path) -> Any:
    """Give the window-normalised ``forecaster`` (built from the checked parameters)
    its saved fitted state: the ensemble network, its member lookbacks, the series'
    names, scales and last windows, and the conformal scores."""
    from seqlab.train.checkpoint import load_model_weights

    path = run_dir / RUN_MANIFEST
    where = f"{path}: state"
    data_path = run_dir / DATA_FILE
    state = expect_object(state, where)
    expect_keys(
        state,
        where,
        ["model", "names", "scales", "lookbacks", "best_epoch", "history", "conformal"],
    )
    config = forecaster.config
    lookbacks = state["lookbacks"]
    if not isinstance(lookbacks, list) or not 1 <= len(lookbacks) <= MAX_PARAM_LIST:
        raise ValueError(
            f"{where}.lookbacks: expected a list of 1 to {MAX_PARAM_LIST} window lengths."
        )
    lookbacks = tuple(
        expect_int(v, f"{where}.lookbacks[{i}]", minimum=1, maximum=MAX_LOOKBACK)
        for i, v in enumerate(lookbacks)
    )
    # fit takes lookbacks_for(longest training series); every max(lookbacks) <= longest
    # gives the same lookbacks again, so a consistent folder passes this check.
    implied = forecaster.lookbacks_for(max(lookbacks))
    if lookbacks != implied:
        raise ValueError(
            f"{where}.lookbacks is {list(lookbacks)} but the parameters imply {list(implied)}; "
            "the run folder is inconsistent."
        )
    # One member per lookback x loss x local level x seed; bounded before the plan is
    # built, as EnsembleForecasterConfig bounds it (MAX_LAYERS * 8 members).
    levels = config.local_level if isinstance(config.local_level, tuple) else (True,)
    members = len(lookbacks) * len(config.losses) * len(levels) * config.n_seeds
    if members > _max_layers() * 8:
        raise ValueError(
            f"{path}: params and state.lookbacks ask for {members:,} ensemble members; "
            f"seqlab builds at most {_max_layers() * 8}."
        )
    forecaster.lookbacks_ = lookbacks
    try:
        network, model_config = forecaster._ensemble_network(lookbacks)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}.lookbacks: {exc}") from None
    saved = expect_object(state["model"], f"{where}.model")
    for key in sorted(set(saved) | set(model_config)):
        if saved.get(key) != model_config.get(key):
            raise ValueError(
                f"{where}.model.{key} is {_short(saved.get(key))} but the parameters and "
                f"lookbacks imply {_short(model_config.get(key))}; the run folder is "
                "inconsistent."
            )
    load_model_weights(network, run_dir / WEIGHTS_FILE)
    network.eval()
    scales = state["scales"]
    if not isinstance(scales, list) or not 1 <= len(scales) <= MAX_SERIES:
        raise ValueError(f"{where}.scales: expected a non-empty list, one number per series.")
    n_series = len(scales)
    scales = expect_float_list(scales, f"{where}.scales", min_length=1)
    if min(scales) < 0:
        raise ValueError(f"{where}.scales: a series' scale (mean absolute value) is < 0.")
    names = state["names"]
    if names is not None:
        names = expect_str_list(names, f"{where}.names", length=n_series, unique=True)
    best_epoch = expect_int(state["best_epoch"], f"{where}.best_epoch", minimum=0, allow_none=True)
    history = _check_history(state["history"], f"{where}.history")
    conformal = _conformal_meta(state["conformal"], f"{where}.conformal")
    shapes: dict[str, tuple[int, ...] | None] = {f"window.{i}": None for i in range(n_series)}
    if conformal is not None:
        shapes["conformal_scores"] = None
    arrays = read_float_arrays(data_path, shapes)
    length = max(lookbacks)
    data = []
    for i in range(n_series):
        values = _window(arrays[f"window.{i}"], length, None, f"{data_path}: window.{i}")
        if np.isnan(values).any():
            raise ValueError(f"{data_path}: window.{i} holds NaN; the series seen had none.")
        data.append(values)
    forecaster.model_ = network
    forecaster.model_config_ = model_config
    forecaster.names_ = names
    forecaster.scales_ = scales
    forecaster.data_ = data
    forecaster.best_epoch_ = best_epoch
    forecaster.history_ = history
    forecaster.n_features_ = 1
    if conformal is None:
        forecaster.conformal_ = None
    else:
        scores = arrays["conformal_scores"]
        if scores.ndim != 2 or scores.shape[1] != config.horizon:
            raise ValueError(
                f"{data_path}: conformal_scores: expected (K, {config.horizon}) (one column "
                f"per step of the horizon), got shape {scores.shape}."
            )
        forecaster.conformal_ = _conformal_scores(
            scores, conformal, f"{data_path}: conformal_scores"
        )
    return forecaster


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _window(values: np.ndarray, lookback: int, n_columns: int | None, where: str) -> np.ndarray:
    """The last rows seen: 1 to ``lookback`` of them, (rows, n_columns) or (rows,)."""
    ndim = 1 if n_columns is None else 2
    if values.ndim != ndim or not 1 <= values.shape[0] <= lookback:
        raise ValueError(
            f"{where}: expected 1 to {lookback} rows (the last window)"
            + (f" of {n_columns} columns" if n_columns else "")
            + f", got shape {values.shape}."
        )
    if n_columns is not None and values.shape[1] != n_columns:
        raise ValueError(f"{where}: expected {n_columns} columns, got {values.shape[1]}.")
    return values.copy()


def _conformal_scores(scores: np.ndarray, meta: dict[str, Any], where: str):
    from seqlab.forecast.conformal import ConformalScores

    if scores.ndim != 2 or scores.shape[1] < 1 or scores.shape[1] > MAX_LOOKBACK:
        raise ValueError(
            f"{where}: expected a (K, H) array with 1 <= H <= {MAX_LOOKBACK:,}, got {scores.shape}."
        )
    if scores.size > MAX_CALIBRATION:
        raise ValueError(f"{where}: {scores.size:,} scores, more than seqlab's bound.")
    if (scores[~np.isnan(scores)] < 0).any():
        raise ValueError(f"{where}: holds negative scores; scores are absolute errors.")
    return ConformalScores(scores=scores.copy(), source=meta["source"], remedy=meta["remedy"])


def _check_history(history: Any, where: str) -> list[dict[str, float]]:
    if not isinstance(history, list):
        raise ValueError(f"{where}: expected a list of per-epoch records.")
    for i, record in enumerate(history):
        record = expect_object(record, f"{where}[{i}]")
        for key, value in record.items():
            expect_float(value, f"{where}[{i}].{key}", allow_nan=True)
    return history


def _load_format_1(run_dir: Path) -> Any:
    """A recurrent forecaster from a format-1 folder (``forecaster.json``)."""

    path = run_dir / LEGACY_CONFIG
    config = read_json_file(path, dict, "forecaster.json")
    classes = _classes()
    if config.get("format") != FORMAT_VERSION or config.get("class") not in classes:
        raise ValueError(
            f"{path}: unsupported run folder (format {config.get('format')!r}, class "
            f"{config.get('class')!r}); this seqlab reads format {FORMAT_VERSION}."
        )
    cls = classes[config["class"]]
    is_global = cls.__name__ == KINDS["global_recurrent_forecaster"]
    expect_keys(
        config,
        str(path),
        ["format", "class", "params", "model", "history", "names" if is_global else "columns"],
    )
    forecaster = _forecaster_from_params(cls, config["params"], f"{path}: params")
    columns = _rebuild(
        forecaster,
        None if is_global else (config["columns"], f"{path}: columns"),
        (config["model"], f"{path}: model"),
        run_dir / WEIGHTS_FILE,
    )
    n_columns = 1 if columns is None else len(columns)
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
    forecaster.conformal_ = None  # format 1 kept no calibration scores
    return forecaster


def _rebuild(
    forecaster: Any,
    columns: tuple[Any, str] | None,
    model: tuple[Any, str],
    weights: Path,
) -> list[str] | None:
    """Give ``forecaster`` (built from the checked parameters) its network, rebuilt from
    the checked config with its weights loaded; returns the input columns (None for a
    global model). ``columns`` and ``model`` are (value, where it was read)."""
    from seqlab.models import build_model
    from seqlab.train.checkpoint import load_model_weights

    names = None
    if columns is not None:
        names = expect_str_list(
            columns[0], columns[1], min_length=1, max_length=_max_dimension(), unique=True
        )
    n_columns = 1 if names is None else len(names)
    model_config = _check_model_config(model[0], forecaster, n_columns, model[1])
    network = build_model(model_config)
    load_model_weights(network, weights)
    network.eval()
    forecaster.model_ = network
    forecaster.model_config_ = model_config
    return names


def _param_bounds() -> dict[str, int]:
    """Upper bounds of the integer parameters that size a network or a window."""
    return {
        "hidden_size": _max_dimension(),
        "num_layers": _max_layers(),
        "lookback": MAX_LOOKBACK,
        "horizon": MAX_LOOKBACK,
        "season_length": MAX_LOOKBACK,
        "n_seeds": _max_layers(),
    }


def _check_param_value(value: Any, where: str, maximum: int | None) -> None:
    """A JSON scalar a constructor parameter may be: null, a bool, a string of bounded
    length, a finite number; an integer at most ``maximum`` (``MAX_PARAM_INT`` when
    None), and at least 1 when ``maximum`` is given (a size)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if len(value) > MAX_PARAM_STR:
            raise ValueError(f"{where}: a string of {len(value):,} characters, too long.")
        return
    if isinstance(value, int):
        if maximum is None:
            expect_int(value, where, minimum=-MAX_PARAM_INT, maximum=MAX_PARAM_INT)
        else:
            expect_int(value, where, minimum=1, maximum=maximum)
        return
    if isinstance(value, float):
        expect_float(value, where)
        return
    found = {dict: "an object", list: "a nested list"}.get(type(value), type(value).__name__)
    raise ValueError(f"{where}: expected null, true/false, a number or a string, got {found}.")


def _forecaster_from_params(cls: type, params: Any, where: str):
    """The forecaster ``cls(**params)``, each parameter checked first: only the
    constructor's names, JSON scalars or flat lists of them (at most ``MAX_PARAM_LIST``
    entries), sizes within seqlab's bounds; then the constructor's own validation,
    whose TypeError or ValueError becomes a ValueError naming ``where``."""
    params = expect_object(params, where)
    known = list(cls().get_params())
    expect_keys(params, where, [], known)
    bounds = _param_bounds()
    for name, value in params.items():
        place = f"{where}.{name}"
        if isinstance(value, list):
            if not 1 <= len(value) <= MAX_PARAM_LIST:
                raise ValueError(
                    f"{place}: expected a list of 1 to {MAX_PARAM_LIST} entries, "
                    f"got {len(value):,}."
                )
            for i, item in enumerate(value):
                _check_param_value(item, f"{place}[{i}]", bounds.get(name))
        else:
            _check_param_value(value, place, bounds.get(name))
    if "cell" in params:
        expect_choice(params["cell"], f"{where}.cell", _CELLS)
    try:
        forecaster = cls(**params)
        forecaster._check_params()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    return forecaster


def _max_dimension() -> int:
    from seqlab.models.registry import MAX_DIMENSION

    return MAX_DIMENSION


def _max_layers() -> int:
    from seqlab.models.registry import MAX_LAYERS

    return MAX_LAYERS


def _check_model_config(value: Any, forecaster, n_columns: int, where: str) -> dict[str, Any]:
    """The network config (read at ``where``), which must describe the network the
    parameters imply."""
    model_config = expect_object(value, where)
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
                f"{where}.{key} is {model_config.get(key)!r} but the parameters and "
                f"columns imply {want!r}; the run folder is inconsistent."
            )
    return dict(model_config)


def _checked_scaler(state: Any, forecaster, n_columns: int, where: str):
    from seqlab.forecast.scalers import scaler_from_state

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


def predict_frame(forecaster: Any, frame: pd.DataFrame, h: int) -> np.ndarray:
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

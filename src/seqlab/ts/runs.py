"""Save a fitted ARIMA or auto ARIMA result to a run folder and load it back, no pickle.

The folder follows seqlab's one run-folder layout (:mod:`seqlab.io`):

- ``run.json``, the manifest: ``kind`` (``"arima"`` or ``"auto_arima"``), ``params``
  (the model's specification: ``order``, ``seasonal_order``, and ``trend`` and
  ``method`` unless the model is deterministic) and ``state``: ``series`` (name,
  length, index as ISO dates with their frequency or integers, regressor names),
  ``model`` (``deterministic``, the parameters by name, sigma2, log-likelihood and the
  fit's bookkeeping) and, for auto ARIMA, ``auto`` (criterion, period, every candidate
  tried, the notes);
- ``data.safetensors``: the series ``y`` (float64, NaN where missing) and, with
  regressors, ``exog`` (float64, one column per regressor): what forecasting needs.

Folders of format 1 (``arima.json`` holding ``series``, ``model`` with the
specification inside, and ``auto``, beside the same ``data.safetensors``) load too.

Loading reads every JSON value through :mod:`seqlab._schema`'s bounded readers and
checks the arrays' names, dtypes and shapes against the JSON, so a damaged or edited
folder is one ``ValueError`` naming the file and the value. The loaded result rebuilds
the Kalman filter from the same data and parameters: its forecasts equal the original's.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqlab._schema import (
    expect_bool,
    expect_choice,
    expect_float,
    expect_int,
    expect_keys,
    expect_object,
    expect_str_list,
    read_float_arrays,
    read_json_file,
    read_run_manifest,
)
from seqlab.io import RUN_MANIFEST, write_run_folder

__all__ = ["FORMAT_VERSION", "KINDS", "is_arima_run", "load_arima", "save_arima"]

#: The layout of a format-1 folder's ``arima.json`` (read, no longer written).
FORMAT_VERSION = 1
#: The manifest of a format-1 folder.
CONFIG_FILE = "arima.json"
DATA_FILE = "data.safetensors"
#: The run kinds this module saves and loads.
KINDS = ("arima", "auto_arima")
# Bounds on what a file may ask for; seqlab's own limits (see ARIMA._spec).
MAX_LENGTH = 10_000_000
MAX_EXOG = 1_000
MAX_CANDIDATES = 100_000
_METHODS = ("css-mle", "mle", "css", "fixed")
_TRENDS = ("n", "c", "t", "ct")
_INDEX_KINDS = ("none", "range", "datetime", "period", "integer", "string")
# The model's specification (run.json's params) and its fitted values (state.model).
_SPEC_KEYS = ("order", "seasonal_order", "trend", "method")
_DETERMINISTIC_SPEC_KEYS = ("order", "seasonal_order")


def is_arima_run(run_dir: str | os.PathLike) -> bool:
    """Whether ``run_dir`` holds an ARIMA or auto ARIMA run (either format).

    Only the manifest's ``kind`` is looked at: a damaged ARIMA run counts as one, and
    :func:`load_arima` names the damage. A ``run.json`` that is not a JSON object
    counts as no ARIMA run; loading it with any loader gives the reason.
    """
    run_dir = Path(run_dir)
    if (run_dir / RUN_MANIFEST).is_file():
        try:
            manifest = read_json_file(run_dir / RUN_MANIFEST, dict, "run manifest")
        except ValueError:
            return False
        return manifest.get("kind") in KINDS
    return (run_dir / CONFIG_FILE).is_file()


# ------------------------------------------------------------------ writing
def save_arima(result: Any, run_dir: str | os.PathLike) -> Path:
    """Write ``result`` (an ARIMAResult or AutoARIMAResult) to ``run_dir``; returns it.

    The folder is made if needed; a file in the way is a ValueError. A run already in
    the folder (of either format) is replaced.
    """
    from seqlab.ts.arima import ARIMAResult
    from seqlab.ts.auto import AutoARIMAResult, DeterministicResult

    if not isinstance(result, ARIMAResult | AutoARIMAResult):
        raise TypeError(
            f"result must be an ARIMAResult or AutoARIMAResult, got {type(result).__name__}."
        )
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir}: is a file; give a folder for the run.")
    inner = result.model if isinstance(result, AutoARIMAResult) else result
    spec: dict[str, Any] = {
        "order": list(inner.order),
        "seasonal_order": list(inner.seasonal_order),
    }
    if isinstance(inner, DeterministicResult):
        values, index, name = inner.values, inner.index, inner.name
        exog, x_names, k_exog = None, [], int(inner.k_exog)
        model = {
            "deterministic": True,
            "param_names": list(map(str, inner.params.index)),
            "params": [float(v) for v in inner.params],
            "k_exog": k_exog,
        }
    else:
        data = inner._problem.data
        values, index, name = data.values, data.index, data.name
        x_names, k_exog = list(data.x_names), int(data.k_exog)
        exog = data.X[:, data.X.shape[1] - k_exog :] if k_exog else None
        spec.update(trend=inner.trend, method=inner.method)
        model = {
            "deterministic": False,
            "param_names": list(map(str, inner.params.index)),
            "params": [float(v) for v in inner.params],
            "sigma2": float(inner.sigma2),
            "loglik": _number(inner.loglik),
            "nobs": int(inner.nobs),
            "nobs_effective": int(inner.nobs_effective),
            "converged": bool(inner.converged),
            "message": str(inner.message),
            "iterations": int(inner.iterations),
        }
    state: dict[str, Any] = {
        "series": {
            "name": str(name),
            "length": int(values.shape[0]),
            "index": _index_to_json(index),
            "x_names": x_names,
            "k_exog": k_exog,
        },
        "model": model,
    }
    if isinstance(result, AutoARIMAResult):
        state["auto"] = {
            "order": list(result.order),
            "seasonal_order": list(result.seasonal_order),
            "constant": bool(result.constant),
            "ic": result.ic,
            "ic_value": _number(result.ic_value),
            "m": int(result.m),
            "approximation": bool(result.approximation),
            "messages": list(result.messages),
            "tried": [
                {
                    "order": list(c.order),
                    "seasonal_order": list(c.seasonal_order),
                    "constant": bool(c.constant),
                    "method": c.method,
                    "ic": _number(c.ic),
                    "status": c.status,
                }
                for c in result.tried
            ],
        }
    from safetensors.numpy import save

    tensors = {"y": np.ascontiguousarray(values, dtype=np.float64)}
    if exog is not None:
        tensors["exog"] = np.ascontiguousarray(exog, dtype=np.float64)
    return write_run_folder(
        run_dir,
        kind="auto_arima" if isinstance(result, AutoARIMAResult) else "arima",
        cls=type(result),
        params=spec,
        state=state,
        files={DATA_FILE: save(tensors)},
        replaces=(CONFIG_FILE,),
    )


def _number(value: float) -> float | str:
    """A float for JSON: finite as is, the others as "inf", "-inf" or "nan"."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _index_to_json(index: pd.Index | None) -> dict[str, Any]:
    if index is None:
        return {"kind": "none"}
    described = _index_kind_to_json(index)
    if index.name is not None:
        described["name"] = str(index.name)
    return described


def _index_kind_to_json(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": int(index.start), "step": int(index.step)}
    if isinstance(index, pd.DatetimeIndex):
        return {
            "kind": "datetime",
            "values": [stamp.isoformat() for stamp in index],
            "freq": index.freqstr,
        }
    if isinstance(index, pd.PeriodIndex):
        return {"kind": "period", "values": [str(p) for p in index], "freq": index.freqstr}
    if pd.api.types.is_integer_dtype(index):
        return {"kind": "integer", "values": [int(v) for v in index]}
    return {"kind": "string", "values": [str(v) for v in index]}


# ------------------------------------------------------------------ reading
def load_arima(run_dir: str | os.PathLike) -> Any:
    """The ARIMAResult or AutoARIMAResult saved in ``run_dir`` by :func:`save_arima`.

    Reads the current layout (``run.json``) and format 1 (``arima.json``).

    Raises ValueError, naming the file and the value, for a missing, damaged or
    edited run folder, one written by a newer format, or one holding another kind of
    run.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    if not (run_dir / RUN_MANIFEST).is_file() and (run_dir / CONFIG_FILE).is_file():
        return _load_format_1(run_dir)
    manifest = read_run_manifest(run_dir, KINDS)
    where = str(run_dir / RUN_MANIFEST)
    if DATA_FILE not in manifest["files"]:
        raise ValueError(f"{where}: files: {DATA_FILE!r} is not listed.")
    state = manifest["state"]
    expect_keys(state, f"{where}: state", ["series", "model"], ["auto"])
    model_where = f"{where}: state.model"
    model_json = expect_object(state["model"], model_where)
    deterministic = expect_bool(model_json.get("deterministic"), f"{model_where}.deterministic")
    spec_keys = _DETERMINISTIC_SPEC_KEYS if deterministic else _SPEC_KEYS
    expect_keys(manifest["params"], f"{where}: params", spec_keys)
    return _load(
        run_dir,
        manifest["kind"],
        state,
        f"{where}: state",
        manifest["params"],
        f"{where}: params",
        model_json,
        model_where,
    )


def _load_format_1(run_dir: Path) -> Any:
    path = run_dir / CONFIG_FILE
    config = read_json_file(path, dict, "ARIMA run file")
    where = str(path)
    expect_keys(config, where, ["format_version", "kind", "series", "model"], ["auto"])
    version = expect_int(config["format_version"], f"{where}: format_version", minimum=0)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{where}: format_version {version}; this seqlab reads version {FORMAT_VERSION} "
            "(and the run.json layout)."
        )
    kind = expect_choice(config["kind"], f"{where}: kind", KINDS)
    model_where = f"{where}: model"
    model_json = expect_object(config["model"], model_where)
    deterministic = expect_bool(model_json.get("deterministic"), f"{model_where}.deterministic")
    spec_keys = _DETERMINISTIC_SPEC_KEYS if deterministic else _SPEC_KEYS
    expect_keys(model_json, model_where, ["deterministic", *spec_keys], _FITTED_KEYS)
    spec = {key: model_json[key] for key in spec_keys}
    fitted = {key: value for key, value in model_json.items() if key not in spec_keys}
    return _load(run_dir, kind, config, where, spec, model_where, fitted, model_where)


_FITTED_KEYS = (
    "param_names", "params", "sigma2", "loglik", "nobs", "nobs_effective", "converged",
    "message", "iterations", "k_exog",
)  # fmt: skip


def _load(run_dir, kind, state, where, spec, spec_where, model_json, model_where) -> Any:
    """The result from its parts: ``state`` holds ``series``, ``auto``; ``spec`` the
    orders, trend and method; ``model_json`` the fitted values (each with its place)."""
    series = _read_series(expect_object(state["series"], f"{where}.series"), f"{where}.series")
    y, exog = _read_arrays(run_dir / DATA_FILE, series["length"], series["k_exog"])
    if model_json["deterministic"]:
        inner = _deterministic(spec, spec_where, model_json, model_where, y, series)
    else:
        inner = _arima(spec, spec_where, model_json, model_where, y, exog, series)
    if kind == "arima":
        if model_json["deterministic"]:
            raise ValueError(f"{model_where}: a deterministic model is saved only by auto ARIMA.")
        if "auto" in state:
            raise ValueError(f"{where}: kind 'arima' has no 'auto' section.")
        return inner
    if "auto" not in state:
        raise ValueError(f"{where}: kind 'auto_arima' needs the 'auto' section.")
    return _auto(expect_object(state["auto"], f"{where}.auto"), f"{where}.auto", inner)


def _read_series(value: dict[str, Any], where: str) -> dict[str, Any]:
    expect_keys(value, where, ["name", "length", "index", "x_names", "k_exog"])
    name = value["name"]
    if not isinstance(name, str):
        raise ValueError(f"{where}.name: expected a string, got {name!r}.")
    length = expect_int(value["length"], f"{where}.length", minimum=2, maximum=MAX_LENGTH)
    k_exog = expect_int(value["k_exog"], f"{where}.k_exog", minimum=0, maximum=MAX_EXOG)
    x_names = expect_str_list(
        value["x_names"], f"{where}.x_names", max_length=MAX_EXOG + 2, unique=True
    )
    if len(x_names) < k_exog:
        raise ValueError(f"{where}.x_names: {len(x_names)} names for {k_exog} regressor(s).")
    index = _read_index(expect_object(value["index"], f"{where}.index"), f"{where}.index", length)
    return {"name": name, "length": length, "k_exog": k_exog, "x_names": x_names, "index": index}


def _read_index(value: dict[str, Any], where: str, length: int) -> pd.Index | None:
    index = _read_index_values(value, where, length)
    if "name" in value:
        if index is None or not isinstance(value["name"], str):
            raise ValueError(f"{where}.name: expected a string on an index, got {value['name']!r}.")
        index = index.rename(value["name"])
    return index


def _read_index_values(value: dict[str, Any], where: str, length: int) -> pd.Index | None:
    kind = expect_choice(value.get("kind"), f"{where}.kind", _INDEX_KINDS)
    if kind == "none":
        expect_keys(value, where, ["kind"])
        return None
    optional = ["name"]
    if kind == "range":
        expect_keys(value, where, ["kind", "start", "step"], optional)
        start = expect_int(value["start"], f"{where}.start", minimum=-(2**62), maximum=2**62)
        step = expect_int(value["step"], f"{where}.step", minimum=1, maximum=2**31)
        return pd.RangeIndex(start, start + step * length, step)
    required = ["kind", "values", "freq"] if kind in ("datetime", "period") else ["kind", "values"]
    expect_keys(value, where, required, optional)
    values = value["values"]
    if not isinstance(values, list) or len(values) != length:
        got = f"{len(values)} entries" if isinstance(values, list) else repr(values)[:40]
        raise ValueError(f"{where}.values: expected a list of {length} entries, got {got}.")
    try:
        if kind == "integer":
            ints = [expect_int(v, f"{where}.values[{i}]") for i, v in enumerate(values)]
            return pd.Index(ints, dtype=np.int64)
        if kind == "string":
            return pd.Index([str(v) for v in values], dtype=object)
        freq = value["freq"]
        if freq is not None and not isinstance(freq, str):
            raise ValueError(f"{where}.freq: expected a string or null, got {freq!r}.")
        if kind == "datetime":
            index = pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601"))
            if freq is not None:
                index = pd.DatetimeIndex(index, freq=freq)
            return index
        if freq is None:
            raise ValueError(f"{where}.freq: a period index needs its frequency.")
        return pd.PeriodIndex(values, freq=freq)
    except (TypeError, ValueError, OverflowError) as exc:
        message = str(exc).partition("\n")[0]
        if message.startswith(where):
            raise ValueError(message) from None
        raise ValueError(f"{where}: not a valid {kind} index ({message}).") from None


def _read_arrays(path: Path, length: int, k_exog: int) -> tuple[np.ndarray, np.ndarray | None]:
    expected = {"y": (length,)} | ({"exog": (length, k_exog)} if k_exog else {})
    tensors = read_float_arrays(path, expected)
    if k_exog and np.isnan(tensors["exog"]).any():
        raise ValueError(f"{path}: array 'exog' holds NaN; regressors must be observed.")
    return tensors["y"], tensors.get("exog")


def _orders(value: dict[str, Any], where: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    order, seasonal = value.get("order"), value.get("seasonal_order")
    if not isinstance(order, list) or len(order) != 3:
        raise ValueError(f"{where}.order: expected a list of 3 integers, got {order!r}.")
    if not isinstance(seasonal, list) or len(seasonal) != 4:
        raise ValueError(
            f"{where}.seasonal_order: expected a list of 4 integers, got {seasonal!r}."
        )
    limits = (100, 3, 100)
    p_d_q = tuple(
        expect_int(v, f"{where}.order[{i}]", minimum=0, maximum=limits[i])
        for i, v in enumerate(order)
    )
    seasonal_limits = (10, 2, 10, 1_000)
    s = tuple(
        expect_int(v, f"{where}.seasonal_order[{i}]", minimum=0, maximum=seasonal_limits[i])
        for i, v in enumerate(seasonal)
    )
    return p_d_q, s


def _params(value: dict[str, Any], where: str) -> pd.Series:
    names = expect_str_list(value["param_names"], f"{where}.param_names", unique=True)
    raw = value["params"]
    if not isinstance(raw, list) or len(raw) != len(names):
        raise ValueError(
            f"{where}.params: expected a list of {len(names)} numbers (one per name), "
            f"got {raw!r:.40}."
        )
    values = [expect_float(v, f"{where}.params[{i}]") for i, v in enumerate(raw)]
    return pd.Series(values, index=names, name="params", dtype=np.float64)


def _float_or_text(value: Any, where: str) -> float:
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    return expect_float(value, where)


def _arima(spec, spec_where, value, where, y, exog, series):
    from seqlab.ts.arima import ARIMA, _rebuilt

    expect_keys(
        value,
        where,
        [
            "deterministic", "param_names", "params", "sigma2", "loglik", "nobs",
            "nobs_effective", "converged", "message", "iterations",
        ],
    )  # fmt: skip
    order, seasonal = _orders(spec, spec_where)
    trend = expect_choice(spec["trend"], f"{spec_where}.trend", _TRENDS)
    method = expect_choice(spec["method"], f"{spec_where}.method", _METHODS)
    params = _params(value, where)
    sigma2 = expect_float(value["sigma2"], f"{where}.sigma2", positive=True)
    message = value["message"]
    if not isinstance(message, str):
        raise ValueError(f"{where}.message: expected a string, got {message!r:.40}.")
    fields = {
        "loglik": _float_or_text(value["loglik"], f"{where}.loglik"),
        "sigma2": sigma2,
        "nobs": expect_int(value["nobs"], f"{where}.nobs", minimum=1, maximum=MAX_LENGTH),
        "nobs_effective": expect_int(
            value["nobs_effective"], f"{where}.nobs_effective", minimum=0, maximum=MAX_LENGTH
        ),
        "converged": expect_bool(value["converged"], f"{where}.converged"),
        "message": message,
        "iterations": expect_int(value["iterations"], f"{where}.iterations", minimum=0),
        "method": method,
    }
    if fields["nobs"] != series["length"]:
        raise ValueError(
            f"{where}.nobs: {fields['nobs']}, but the series has {series['length']} values."
        )
    model = ARIMA(order, seasonal, trend=trend, method="mle" if method == "fixed" else method)
    y_series = y if series["index"] is None else pd.Series(y, index=series["index"])
    if isinstance(y_series, pd.Series):
        y_series.name = series["name"]
    if exog is not None:
        exog = pd.DataFrame(exog, columns=series["x_names"][-series["k_exog"] :])
        if series["index"] is not None:
            exog.index = series["index"]
    try:
        return _rebuilt(model, y_series, exog, params, fields)
    except ValueError as exc:
        raise ValueError(f"{where}: {str(exc).partition(chr(10))[0]}") from None


def _deterministic(spec, spec_where, value, where, y, series):
    from seqlab.ts.auto import DeterministicResult

    expect_keys(value, where, ["deterministic", "param_names", "params", "k_exog"])
    order, seasonal = _orders(spec, spec_where)
    params = _params(value, where)
    if len(params) != 1 or params.index[0] not in ("const", "drift"):
        raise ValueError(f"{where}.param_names: expected ['const'] or ['drift'].")
    k_exog = expect_int(value["k_exog"], f"{where}.k_exog", minimum=0, maximum=MAX_EXOG)
    if np.isnan(y).any():
        raise ValueError(f"{where}: a deterministic model's series holds NaN.")
    return DeterministicResult(
        values=y,
        index=series["index"],
        name=series["name"],
        order=order,
        seasonal_order=seasonal,
        params=params,
        k_exog=k_exog,
    )


def _auto(value, where, inner):
    from seqlab.ts.auto import AutoARIMAResult, Candidate

    expect_keys(
        value,
        where,
        [
            "order", "seasonal_order", "constant", "ic", "ic_value", "m", "approximation",
            "messages", "tried",
        ],
    )  # fmt: skip
    order, seasonal = _orders(value, where)
    if (order, seasonal) != (tuple(inner.order), tuple(inner.seasonal_order)):
        raise ValueError(
            f"{where}: orders {order}{seasonal} differ from the model's "
            f"{tuple(inner.order)}{tuple(inner.seasonal_order)}."
        )
    tried_json = value["tried"]
    if not isinstance(tried_json, list) or len(tried_json) > MAX_CANDIDATES:
        raise ValueError(f"{where}.tried: expected a list of at most {MAX_CANDIDATES:,} entries.")
    tried = []
    for i, item in enumerate(tried_json):
        at = f"{where}.tried[{i}]"
        item = expect_object(item, at)
        expect_keys(item, at, ["order", "seasonal_order", "constant", "method", "ic", "status"])
        c_order, c_seasonal = _orders(item, at)
        for key in ("method", "status"):
            if not isinstance(item[key], str):
                raise ValueError(f"{at}.{key}: expected a string, got {item[key]!r:.40}.")
        tried.append(
            Candidate(
                order=c_order,
                seasonal_order=c_seasonal,
                constant=expect_bool(item["constant"], f"{at}.constant"),
                method=item["method"],
                ic=_float_or_text(item["ic"], f"{at}.ic"),
                status=item["status"],
            )
        )
    return AutoARIMAResult(
        model=inner,
        order=order,
        seasonal_order=seasonal,
        constant=expect_bool(value["constant"], f"{where}.constant"),
        ic=expect_choice(value["ic"], f"{where}.ic", ("aicc", "aic", "bic")),
        ic_value=_float_or_text(value["ic_value"], f"{where}.ic_value"),
        m=expect_int(value["m"], f"{where}.m", minimum=1, maximum=1_000),
        approximation=expect_bool(value["approximation"], f"{where}.approximation"),
        tried=tuple(tried),
        messages=tuple(expect_str_list(value["messages"], f"{where}.messages")),
    )

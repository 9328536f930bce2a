"""Checks for every value read from a run folder's JSON files.

A run folder is input like any other: a file may be truncated, edited by hand or
written by someone hostile. Each reader here takes the parsed value and the place it
came from (``"RUN/run.json: params.lookback"``) and either returns the value in
the expected type or raises a ValueError (TypeError never: the file, not the caller,
is wrong) that names that place, what was expected and what was found. Numbers that
size an allocation have upper bounds, so a file cannot ask for terabytes.

:func:`read_run_manifest` reads and checks a run folder's ``run.json`` (the layout is
described in :mod:`seqlab.io`); :func:`run_manifest_kind` says which kind of run a
folder holds, in either layout.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from seqlab.io import RUN_FORMAT, RUN_FORMAT_VERSION, RUN_MANIFEST, read_json

__all__ = [
    "MAX_JSON_BYTES",
    "expect_bool",
    "expect_choice",
    "expect_float",
    "expect_float_list",
    "expect_int",
    "expect_keys",
    "expect_object",
    "expect_str_list",
    "read_float_arrays",
    "read_json_file",
    "read_run_manifest",
    "run_manifest_kind",
]


# A run folder's JSON files hold settings, a vocabulary and the last window of data;
# one larger than this is not one seqlab wrote, and parsing it could exhaust memory.
MAX_JSON_BYTES = 512 << 20


def read_json_file(path: str | os.PathLike, kind: type = dict, what: str = "file") -> Any:
    """Parse the JSON file ``path`` and check that its top level is a ``kind``.

    A missing file, one over :data:`MAX_JSON_BYTES`, invalid JSON or another top-level
    type is a ValueError naming ``path`` (``what`` says what the file is, for the
    message).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such {what}; the run folder is incomplete.")
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ValueError(
            f"{path}: {size:,} bytes, more than a run folder's JSON file may have "
            f"({MAX_JSON_BYTES:,}); it is not one seqlab wrote."
        )
    value = read_json(path)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(
            f"{path}: expected a JSON {_json_name(kind)}, got {_describe(value)}; "
            "the file is damaged or not a seqlab run file."
        )
    return value


_MANIFEST_KEYS = (
    "format",
    "format_version",
    "kind",
    "class",
    "seqlab_version",
    "params",
    "state",
    "files",
)
# Format-1 folders had no manifest; their one JSON file said what they held.
_LEGACY_MANIFESTS = {"arima.json": "arima", "forecaster.json": "recurrent_forecaster"}


def read_run_manifest(
    run_dir: str | os.PathLike, kinds: Iterable[str] | None = None
) -> dict[str, Any]:
    """The checked ``run.json`` of ``run_dir`` (see :func:`seqlab.io.write_run_folder`).

    Parameters
    ----------
    run_dir
        The run folder.
    kinds
        The kinds the caller can load; None accepts any string.

    Returns
    -------
    dict
        The manifest: ``kind``, ``class``, ``params`` and ``state`` (objects), ``files``
        (names, each present in the folder), ``format_version`` and ``seqlab_version``.

    Raises
    ------
    ValueError
        No such folder; no ``run.json``; a manifest that is not JSON, misses a key, has
        another ``format``, a newer ``format_version``, a kind not in ``kinds``, or lists
        a file that is not a plain name or is missing. The message names the file and
        the value.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    path = run_dir / RUN_MANIFEST
    if not path.is_file():
        raise ValueError(
            f"{run_dir} is not a seqlab run folder (no {RUN_MANIFEST}); it is incomplete or "
            "was not written by seqlab."
        )
    manifest = read_json_file(path, dict, "run manifest")
    where = str(path)
    expect_keys(manifest, where, _MANIFEST_KEYS)
    if manifest["format"] != RUN_FORMAT:
        raise ValueError(
            f"{where}: format: expected {RUN_FORMAT!r}, got {_describe(manifest['format'])}."
        )
    version = expect_int(manifest["format_version"], f"{where}: format_version", minimum=2)
    if version > RUN_FORMAT_VERSION:
        raise ValueError(
            f"{where}: format_version {version} was written by a newer seqlab; this one reads "
            f"up to {RUN_FORMAT_VERSION}. Upgrade seqlab to load this run."
        )
    if kinds is None:
        if not isinstance(manifest["kind"], str):
            raise ValueError(
                f"{where}: kind: expected a string, got {_describe(manifest['kind'])}."
            )
    else:
        expect_choice(manifest["kind"], f"{where}: kind", kinds)
    for key in ("class", "seqlab_version"):
        if not isinstance(manifest[key], str):
            raise ValueError(f"{where}: {key}: expected a string, got {_describe(manifest[key])}.")
    expect_object(manifest["params"], f"{where}: params")
    expect_object(manifest["state"], f"{where}: state")
    files = expect_str_list(manifest["files"], f"{where}: files", max_length=1_000, unique=True)
    for name in files:
        if Path(name).name != name or name in (".", "..", RUN_MANIFEST):
            raise ValueError(f"{where}: files: {name!r} is not a plain file name.")
        if not (run_dir / name).is_file():
            raise ValueError(
                f"{run_dir / name}: listed in {RUN_MANIFEST} but missing; the run folder is "
                "incomplete."
            )
    return manifest


def read_float_arrays(
    path: str | os.PathLike, shapes: Mapping[str, tuple[int, ...] | None]
) -> dict[str, np.ndarray]:
    """The float64 arrays of the safetensors file ``path``, checked against ``shapes``.

    Parameters
    ----------
    path
        A safetensors file of a run folder.
    shapes
        Array name -> expected shape; ``None`` accepts any shape (the caller checks it).
        The file must hold exactly these names.

    Returns
    -------
    dict
        Name -> float64 array. NaN passes (missing values); infinities do not.

    Raises
    ------
    ValueError
        A missing or unreadable file, other array names, another dtype or shape, or
        infinite values; the message names the file and the array.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such data file; the run folder is incomplete.")
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        message = str(exc).partition("\n")[0]
        raise ValueError(f"{path}: not a readable safetensors file ({message}).") from None
    if set(tensors) != set(shapes):
        raise ValueError(f"{path}: expected the arrays {sorted(shapes)}, found {sorted(tensors)}.")
    for key, shape in shapes.items():
        array = tensors[key]
        if array.dtype != np.float64 or (shape is not None and array.shape != tuple(shape)):
            wanted = f"float64 of shape {tuple(shape)}" if shape is not None else "float64"
            raise ValueError(
                f"{path}: array {key!r} should be {wanted}, "
                f"found {array.dtype} of shape {array.shape}."
            )
        if np.isinf(array).any():
            raise ValueError(f"{path}: array {key!r} holds infinite values.")
    return tensors


def run_manifest_kind(run_dir: str | os.PathLike) -> str | None:
    """The kind of run in ``run_dir``, read from its manifest, or None for no run folder.

    A format-2 folder gives its ``run.json``'s ``kind`` (checked as
    :func:`read_run_manifest` does); a format-1 folder gives ``"arima"`` (``arima.json``)
    or ``"recurrent_forecaster"`` (``forecaster.json``), the loaders telling the
    variants apart.

    Raises
    ------
    ValueError
        A ``run.json`` that :func:`read_run_manifest` refuses.
    """
    run_dir = Path(run_dir)
    if (run_dir / RUN_MANIFEST).is_file():
        return read_run_manifest(run_dir)["kind"]
    for name, kind in _LEGACY_MANIFESTS.items():
        if (run_dir / name).is_file():
            return kind
    return None


def expect_object(value: Any, where: str) -> dict[str, Any]:
    """``value`` as a JSON object (dict with string keys)."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object, got {_describe(value)}.")
    return value


def expect_keys(
    value: Mapping[str, Any], where: str, required: Iterable[str], optional: Iterable[str] = ()
) -> None:
    """Every key of ``required`` is present and no key outside ``required | optional``."""
    required = list(required)
    missing = [k for k in required if k not in value]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}.")
    allowed = set(required) | set(optional)
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected {sorted(allowed)}.")


def expect_int(
    value: Any,
    where: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """``value`` as an int in ``[minimum, maximum]`` (bools are not ints)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{where}: expected an integer, got {_describe(value)}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{where}: must be <= {maximum:,} (seqlab's bound), got {value:,}.")
    return value


def expect_float(
    value: Any,
    where: str,
    *,
    positive: bool = False,
    allow_nan: bool = False,
) -> float:
    """``value`` as a finite float (``positive``: > 0; ``allow_nan``: NaN passes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: expected a number, got {_describe(value)}.")
    value = float(value)
    if math.isnan(value) and allow_nan:
        return value
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value}.")
    if positive and not value > 0:
        raise ValueError(f"{where}: must be > 0, got {value}.")
    return value


def expect_bool(value: Any, where: str) -> bool:
    """``value`` as a bool (JSON true/false only)."""
    if not isinstance(value, bool):
        raise ValueError(f"{where}: expected true or false, got {_describe(value)}.")
    return value


def expect_choice(value: Any, where: str, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if isinstance(value, (dict, list)) or value not in choices:
        raise ValueError(f"{where}: expected one of {list(choices)}, got {_describe(value)}.")
    return value


def expect_float_list(
    value: Any,
    where: str,
    *,
    length: int | None = None,
    min_length: int = 0,
    max_length: int | None = None,
    positive: bool = False,
    allow_nan: bool = False,
) -> list[float]:
    """``value`` as a list of finite floats (see :func:`expect_float`) of a checked length."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of numbers, got {_describe(value)}.")
    _check_length(len(value), where, length, min_length, max_length)
    return [
        expect_float(v, f"{where}[{i}]", positive=positive, allow_nan=allow_nan)
        for i, v in enumerate(value)
    ]


def expect_str_list(
    value: Any,
    where: str,
    *,
    length: int | None = None,
    min_length: int = 0,
    max_length: int | None = None,
    unique: bool = False,
) -> list[str]:
    """``value`` as a list of non-empty strings (``unique``: no repeats)."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of strings, got {_describe(value)}.")
    _check_length(len(value), where, length, min_length, max_length)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise ValueError(f"{where}[{i}]: expected a non-empty string, got {_describe(item)}.")
    if unique and len(set(value)) != len(value):
        repeated = next(v for v in value if value.count(v) > 1)
        raise ValueError(f"{where}: {repeated!r} appears more than once.")
    return list(value)


def _check_length(
    n: int, where: str, length: int | None, min_length: int, max_length: int | None
) -> None:
    if length is not None and n != length:
        raise ValueError(f"{where}: expected {length} entries, got {n}.")
    if n < min_length:
        raise ValueError(f"{where}: expected at least {min_length} entries, got {n}.")
    if max_length is not None and n > max_length:
        raise ValueError(f"{where}: expected at most {max_length:,} entries, got {n:,}.")


def _json_name(kind: type) -> str:
    return {dict: "object", list: "list", str: "string"}.get(kind, kind.__name__)


def _describe(value: Any) -> str:
    kinds = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    kind = kinds.get(type(value))
    if kind is None:
        kind = "a number" if isinstance(value, numbers.Number) else type(value).__name__
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} ({text})"

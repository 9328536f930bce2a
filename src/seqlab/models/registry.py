"""The one place task models are built from their configuration.

Every task model has a dataclass config whose fields are JSON values (numbers, strings,
booleans, None, lists/tuples of them) and is registered under a name::

    register_model("sentiment_classifier", SentimentConfig, SentimentClassifier)
    model = build_model({"name": "sentiment_classifier", **asdict(config)})

The dict form is what a run folder's ``config.json`` stores under ``"model"``, so a run
folder alone rebuilds its model (``seqlab.train.load_run``).
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = [
    "MAX_DIMENSION",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MAX_VOCAB_SIZE",
    "ModelConfig",
    "build_model",
    "check_size",
    "model_config_dict",
    "register_model",
    "registered_models",
]


# Bounds on what a config (typed by a user or read from a run folder) may ask for, so
# that a damaged or hostile config.json is an error rather than a request for terabytes.
MAX_DIMENSION = 65_536  # hidden_size, embedding_dim, input_size, head sizes, horizon
MAX_VOCAB_SIZE = 10_000_000  # embedding rows and output classes
MAX_LAYERS = 64  # stacked recurrent layers
MAX_PARAMETERS = 1 << 30  # weights of one model (4 GiB in float32)


def embedding_vectors(vectors: Any, weight: torch.Tensor) -> torch.Tensor:
    """``vectors`` as a tensor of ``weight``'s dtype, checked to have its shape.

    Raises
    ------
    ValueError
        ``vectors`` is not ``(vocab_size, embedding_dim)`` as ``weight`` is.
    """
    vectors = torch.as_tensor(np.asarray(vectors), dtype=weight.dtype)
    if tuple(vectors.shape) != tuple(weight.shape):
        raise ValueError(
            f"vectors must have shape {tuple(weight.shape)} (vocab_size, embedding_dim), "
            f"got {tuple(vectors.shape)}."
        )
    return vectors


def check_size(value: Any, name: str, maximum: int, minimum: int = 1) -> int:
    """``value`` as an int in ``[minimum, maximum]``; a ValueError naming ``name`` otherwise.

    Bools and non-integers are refused (a config field is checked, not converted).
    """
    wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be {wanted}, got {value!r}.")
    if value > maximum:
        raise ValueError(
            f"{name} is {value:,}, more than seqlab builds (at most {maximum:,}); "
            "check the configuration."
        )
    return int(value)


@dataclass
class ModelConfig:
    """Base for task-model configs (optional: any dataclass may be registered).

    Subclasses add fields with defaults; :meth:`to_dict` and :meth:`from_dict` round-trip
    them through JSON (tuples come back as tuples when the field's default is a tuple).
    """

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelConfig:
        return _config_from_dict(cls, values, name=cls.__name__)


@dataclass(frozen=True)
class _Entry:
    name: str
    config_cls: type
    model_cls: Callable[[Any], torch.nn.Module]


_REGISTRY: dict[str, _Entry] = {}


def register_model(
    name: str, config_cls: type, model_cls: Callable[[Any], torch.nn.Module]
) -> None:
    """Register ``model_cls`` (called as ``model_cls(config)``) under ``name``.

    Registering the same name again with the same classes is a no-op (modules may be
    re-imported); a different pair under a taken name is a ValueError.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}.")
    if not (isinstance(config_cls, type) and dataclasses.is_dataclass(config_cls)):
        raise TypeError(f"config_cls must be a dataclass type, got {config_cls!r}.")
    if not callable(model_cls):
        raise TypeError(f"model_cls must be callable (a class), got {model_cls!r}.")
    old = _REGISTRY.get(name)
    if old is not None:
        same = (
            old.config_cls.__qualname__ == config_cls.__qualname__
            and getattr(old.model_cls, "__qualname__", None)
            == getattr(model_cls, "__qualname__", None)
            and old.config_cls.__module__ == config_cls.__module__
        )
        if not same:
            raise ValueError(
                f"model name {name!r} is already registered to "
                f"{old.model_cls!r}; choose another name."
            )
    _REGISTRY[name] = _Entry(name, config_cls, model_cls)


def registered_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def _entry_for(name: Any) -> _Entry:
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {name!r}.")
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(registered_models()) or "none"
        raise ValueError(
            f"unknown model {name!r}; registered models: {known}. "
            "Import the module that registers it, or check the run's config.json."
        ) from None


def _name_for_config(config: Any) -> str:
    names = sorted(e.name for e in _REGISTRY.values() if type(config) is e.config_cls)
    if not names:
        raise ValueError(
            f"{type(config).__name__} is not the config of any registered model; "
            "register it with register_model(name, config_cls, model_cls)."
        )
    if len(names) > 1:
        raise ValueError(
            f"{type(config).__name__} configures several models {names}; say which with "
            "model_config_dict(config, name=...)."
        )
    return names[0]


def _config_from_dict(config_cls: type, values: Mapping[str, Any], name: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(config_cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(
            f"config for model {name!r} has unknown field(s) {unknown}; "
            f"known fields: {sorted(fields)}."
        )
    kwargs = {}
    for key, value in values.items():
        default = fields[key].default
        # JSON has no tuples: bring lists back to tuples where the field's default is one.
        if isinstance(value, list) and isinstance(default, tuple):
            value = tuple(value)
        kwargs[key] = value
    try:
        return config_cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"config for model {name!r} is invalid: {exc}.") from None


def model_config_dict(config: Any, name: str | None = None) -> dict[str, Any]:
    """``{"name": ..., **asdict(config)}``: the JSON form :func:`build_model` accepts.

    ``name`` defaults to the name ``type(config)`` was registered under.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a dataclass instance, got {type(config).__name__}.")
    if name is None:
        name = _name_for_config(config)
    else:
        entry = _entry_for(name)
        if type(config) is not entry.config_cls:
            raise ValueError(
                f"model {name!r} takes {entry.config_cls.__name__}, got {type(config).__name__}."
            )
    return {"name": name, **dataclasses.asdict(config)}


def build_model(config: Mapping[str, Any] | Any) -> torch.nn.Module:
    """Build a registered model from ``{"name": ..., **fields}`` or a config instance.

    Unknown names and unknown or missing fields are ValueErrors naming them.
    """
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        entry = _entry_for(_name_for_config(config))
        return _build_bounded(entry, config)
    if not isinstance(config, Mapping):
        raise TypeError(
            "config must be a dict with a 'name' key or a registered config dataclass, "
            f"got {type(config).__name__}."
        )
    if "name" not in config:
        raise ValueError(
            f"model config has no 'name' key (keys: {sorted(config)}); "
            "it must say which registered model to build."
        )
    values = dict(config)
    entry = _entry_for(values.pop("name"))
    return _build_bounded(entry, _config_from_dict(entry.config_cls, values, entry.name))


def _build_bounded(entry: _Entry, config: Any) -> torch.nn.Module:
    """Build ``entry``'s model, first on the meta device to count its parameters.

    The meta build allocates nothing, so a config whose sizes each pass their bounds but
    multiply to more than :data:`MAX_PARAMETERS` weights is refused before any memory
    is taken.
    """
    with torch.device("meta"):
        shadow = entry.model_cls(config)
    count = sum(p.numel() for p in shadow.parameters())
    del shadow
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"model {entry.name!r} would have {count:,} parameters, more than seqlab builds "
            f"(at most {MAX_PARAMETERS:,}); check its sizes (vocab_size, embedding_dim, "
            "hidden_size, num_layers)."
        )
    return entry.model_cls(config)

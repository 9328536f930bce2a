"""The Trainer's run folder: what is written where, and reading it back.

Rank 0 writes, every file atomically: ``config.json`` (format version, seqlab version,
the model's registry config, the task, the :class:`~seqlab.train.config.TrainConfig`,
the extra file names), ``model.safetensors`` (best weights), ``last.safetensors`` and
``trainer_state.pt`` (the resume point), ``history.json``, ``history.csv``,
``curves.png`` and any ``extra_files``.

The resume point is two files tied by the step count stored in both (the weights'
safetensors metadata and the state): a crash between the two writes leaves them
disagreeing, which :func:`read_resume_state` detects instead of mixing them.
:func:`load_run` rebuilds a trained model from the folder alone.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

import seqlab
from seqlab.io import atomic_write, read_json, write_json
from seqlab.models import build_model
from seqlab.train.checkpoint import (
    load_model_weights,
    load_state,
    read_weights_metadata,
    save_state,
    save_weights,
)

__all__ = [
    "BEST_WEIGHTS",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "LAST_WEIGHTS",
    "RESERVED",
    "STATE_FILE",
    "discard_unresumable",
    "load_run",
    "read_config",
    "read_resume_state",
    "save_resume_point",
    "write_config",
    "write_history",
]

# The Trainer's messages come from one logger, whichever of its modules says them.
logger = logging.getLogger("seqlab.train.trainer")

#: Version of the run-folder layout; :func:`load_run` refuses folders from a newer one.
FORMAT_VERSION = 1

CONFIG_FILE = "config.json"
BEST_WEIGHTS = "model.safetensors"
LAST_WEIGHTS = "last.safetensors"
STATE_FILE = "trainer_state.pt"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
CURVES = "curves.png"

#: The names the folder itself uses; ``extra_files`` may not take them.
RESERVED = frozenset(
    {CONFIG_FILE, BEST_WEIGHTS, LAST_WEIGHTS, STATE_FILE, HISTORY_JSON, HISTORY_CSV, CURVES}
)

_STATE_KEYS = (
    "epoch",
    "step",
    "progress",
    "rng_epoch_start",
    "rng_now",
    "optimizer",
    "scheduler",
    "history",
    "best_value",
    "best_epoch",
    "bad_epochs",
    "stopped_early",
)


# ------------------------------------------------------------------ writing
def write_config(
    run_dir: Path,
    *,
    model_config: Mapping[str, Any] | None,
    task: Mapping[str, Any],
    train: Mapping[str, Any],
    extra_files: Mapping[str, Any],
    fresh: bool,
) -> None:
    """Write ``config.json`` and the ``extra_files``; ``fresh`` (a new run) first removes
    an older run's resume point and weights, with a warning.

    ``extra_files`` values: dicts and lists are written as JSON, strings as text, bytes
    as they are.
    """
    if fresh and (run_dir / STATE_FILE).exists():
        warnings.warn(
            f"{run_dir} already holds a run; starting a new one over it "
            "(use resume=True to continue the old one).",
            stacklevel=3,
        )
        for name in (STATE_FILE, LAST_WEIGHTS, BEST_WEIGHTS):
            with contextlib.suppress(FileNotFoundError):
                (run_dir / name).unlink()
    config = {
        "format_version": FORMAT_VERSION,
        "seqlab_version": seqlab.__version__,
        "model": model_config,
        "task": dict(task),
        "train": dict(train),
        "extra_files": sorted(extra_files),
    }
    write_json(run_dir / CONFIG_FILE, config)
    for name, content in extra_files.items():
        path = run_dir / name
        if isinstance(content, bytes):
            with atomic_write(path, "wb") as handle:
                handle.write(content)
        elif isinstance(content, str):
            with atomic_write(path, "w", encoding="utf-8") as handle:
                handle.write(content)
        else:
            write_json(path, content)


def write_history(run_dir: Path, history: list[dict[str, float]], plot: bool) -> float | None:
    """Write ``history.json`` and ``history.csv``; with ``plot``, draw ``curves.png`` and
    return the time (``time.perf_counter()``) it was drawn, else None."""
    import pandas as pd

    write_json(run_dir / HISTORY_JSON, history)
    frame = pd.DataFrame(history)
    with atomic_write(run_dir / HISTORY_CSV, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)
    if not plot:
        return None
    from seqlab.plot import plot_history

    columns = {k: frame[k].tolist() for k in frame.columns}
    plot_history(columns, run_dir / CURVES, title=run_dir.name)
    return time.perf_counter()


def save_resume_point(
    run_dir: Path, weights: Mapping[str, torch.Tensor], step: int, state: Mapping[str, Any]
) -> None:
    """Write ``last.safetensors`` (tagged with ``step``) and ``trainer_state.pt``.

    ``state`` holds the keys :func:`read_resume_state` checks (``format_version`` is
    added here).
    """
    # The step count ties the two files together: a crash between the two writes
    # leaves them disagreeing, which resume detects instead of mixing them.
    save_weights(run_dir / LAST_WEIGHTS, weights, metadata={"step": str(step)})
    save_state(run_dir / STATE_FILE, {"format_version": FORMAT_VERSION, **state})


def discard_unresumable(run_dir: Path, extra_names: Iterable[str], created: bool) -> None:
    """After a failed fresh run: remove what it wrote unless a resume point exists.

    A folder holding ``config.json`` but no ``trainer_state.pt`` looks like a run yet
    cannot be resumed; the files this run wrote go, and the folder too when this run
    created it and nothing else is left in it.
    """
    if (run_dir / STATE_FILE).exists():
        return
    names = {*RESERVED, *extra_names}
    removed = []
    for name in sorted(names):
        with contextlib.suppress(FileNotFoundError):
            (run_dir / name).unlink()
            removed.append(name)
    if created:
        with contextlib.suppress(OSError):
            run_dir.rmdir()
    if removed:
        logger.warning(
            "%s: stopped before the first checkpoint; removed its partial files %s",
            run_dir,
            removed,
        )


# ------------------------------------------------------------------ reading
def read_config(run_dir: Path) -> dict[str, Any]:
    """The checked ``config.json`` of ``run_dir``.

    Raises
    ------
    ValueError
        No ``config.json``, not a JSON object, a missing, invalid or newer
        ``format_version``, or a ``model``/``train``/``task`` that is not an object.
    """
    path = run_dir / CONFIG_FILE
    if not path.exists():
        raise ValueError(f"{run_dir} is not a seqlab run folder: it has no {CONFIG_FILE}.")
    config = read_json(path)
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(config).__name__}.")
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{path}: missing or invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} has format_version {version}, newer than this seqlab reads "
            f"({FORMAT_VERSION}); upgrade seqlab to load this run."
        )
    for key in ("model", "train", "task"):
        if config.get(key) is not None and not isinstance(config[key], dict):
            raise ValueError(f"{path}: {key} must be a JSON object, got {config[key]!r:.40}.")
    return config


def read_resume_state(run_dir: Path) -> dict[str, Any]:
    """The checked ``trainer_state.pt`` of ``run_dir``, which ``last.safetensors`` matches.

    Raises
    ------
    ValueError
        No state file; a state that is not one seqlab wrote (keys, types) or is from a
        newer seqlab; weights saved at another step than the state.
    """
    state_path = run_dir / STATE_FILE
    state = load_state(state_path)
    _check_state(state, state_path)
    weights_step = read_weights_metadata(run_dir / LAST_WEIGHTS).get("step")
    if weights_step != str(state["step"]):
        raise ValueError(
            f"{run_dir}: {LAST_WEIGHTS} and {STATE_FILE} are from different steps "
            "(was saving interrupted?); cannot resume exactly."
        )
    return state


def _check_state(state: Any, path: Path) -> None:
    """The trainer state's layout: the keys :func:`save_resume_point` writes."""
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a trainer state (a {type(state).__name__}).")
    version = state.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{path}: invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer seqlab; upgrade to resume it.")
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise ValueError(f"{path}: not a trainer state this seqlab wrote (missing {missing}).")
    for key in ("epoch", "step", "bad_epochs"):
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{path}: {key} must be an integer >= 0, got {value!r}.")
    for key, kind in (("progress", dict), ("optimizer", dict), ("history", list)):
        if not isinstance(state[key], kind):
            raise ValueError(f"{path}: {key} must be a {kind.__name__}.")
    for key in ("rng_now", "rng_epoch_start"):
        if state[key] is not None and not isinstance(state[key], dict):
            raise ValueError(f"{path}: {key} must be a dict.")


def load_run(
    run_dir: str | os.PathLike,
    *,
    expected_model: str | None = None,
    weights: str = "best",
    device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a trained model from its run folder: ``(model in eval mode, config)``.

    ``config`` is the run's ``config.json`` (``model``, ``train``, ``task``, ...).
    ``expected_model`` names the registered model the caller can use; a run holding
    another one is a ValueError. ``weights="best"`` reads ``model.safetensors``,
    ``"last"`` reads ``last.safetensors``.
    """
    run_dir = Path(run_dir)
    if weights not in ("best", "last"):
        raise ValueError(f"weights must be 'best' or 'last', got {weights!r}.")
    config = read_config(run_dir)
    model_config = config.get("model")
    if not isinstance(model_config, dict) or "name" not in model_config:
        raise ValueError(
            f"{run_dir / CONFIG_FILE} has no model config with a 'name'; this run cannot be "
            "rebuilt (pass model_config to the Trainer)."
        )
    if expected_model is not None and model_config["name"] != expected_model:
        raise ValueError(
            f"{run_dir} holds a {model_config['name']!r} model, not {expected_model!r}."
        )
    try:
        model = build_model(copy.deepcopy(model_config))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{run_dir / CONFIG_FILE}: model: {exc}") from None
    path = run_dir / (BEST_WEIGHTS if weights == "best" else LAST_WEIGHTS)
    load_model_weights(model, path, device=device)
    model.to(device)
    model.eval()
    return model, config

"""How to train: :class:`TrainConfig`, its defaults and the checks on its fields.

Every field is a JSON value, so the config is saved with the run (``config.json``) and
compared on resume (:data:`RESUME_FREE_FIELDS` may change without changing the figures).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqlab._validation import check_choice, check_int

__all__ = ["RESUME_FREE_FIELDS", "TrainConfig"]

_OPTIMIZERS = ("adam", "adamw", "sgd")
_SCHEDULES = (None, "cosine", "linear", "onecycle", "plateau")
_AMP = ("auto", "bf16", "off")
# Fields that may change between a run and its resumption without changing its figures.
RESUME_FREE_FIELDS = {"epochs", "progress", "device", "early_stopping_patience"}


@dataclass
class TrainConfig:
    """How to train. Every field is a JSON value; the config is saved with the run."""

    epochs: int = 10  # passes over the training batches
    lr: float = 1e-3  # peak learning rate
    optimizer: str = "adam"  # "adam", "adamw" or "sgd"
    weight_decay: float = 0.0  # L2 for adam/sgd, decoupled for adamw
    momentum: float = 0.9  # sgd only
    grad_clip: float | None = 1.0  # max global gradient norm; None turns clipping off
    lr_schedule: str | None = None  # None, "cosine", "linear" (per step), "onecycle", "plateau"
    warmup_steps: int = 0  # linear warm-up steps before "cosine"/"linear" decay
    min_lr_ratio: float = 0.0  # "cosine"/"linear" decay to lr * min_lr_ratio
    plateau_factor: float = 0.5  # "plateau": lr *= factor after plateau_patience bad epochs
    plateau_patience: int = 1
    early_stopping_patience: int | None = None  # stop after this many epochs without gain
    monitor: str = "valid_loss"  # figure for early stopping, best checkpoint and "plateau"
    monitor_mode: str | None = None  # "min" or "max"; None infers it from the name
    min_delta: float = 0.0  # smallest change that counts as an improvement
    restore_best: bool = True  # end fit() with the best weights rather than the last
    seed: int | None = 0  # seeds torch, numpy and random at the start of fit(); None: don't
    device: str = "auto"  # "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
    amp: str = "auto"  # "auto" (bf16 autocast on CUDA), "bf16" or "off"
    progress: bool = True  # tqdm bar (rank 0 only)
    # Discriminative learning rates: a model with parameter_groups() (input side first)
    # trains group i of n at lr / lr_layer_decay ** (n - 1 - i); None: one group at lr.
    lr_layer_decay: float | None = None
    # Epoch k (from 1) trains only the model's last k parameter groups, then all of them.
    gradual_unfreeze: bool = False

    def __post_init__(self) -> None:
        check_int(self.epochs, "epochs", minimum=1)
        _check_float(self.lr, "lr", positive=True)
        check_choice(self.optimizer, "optimizer", _OPTIMIZERS)
        _check_float(self.weight_decay, "weight_decay")
        _check_float(self.momentum, "momentum")
        if self.grad_clip is not None:
            _check_float(self.grad_clip, "grad_clip", positive=True)
        check_choice(self.lr_schedule, "lr_schedule", _SCHEDULES)
        check_int(self.warmup_steps, "warmup_steps", minimum=0)
        _check_float(self.min_lr_ratio, "min_lr_ratio")
        if self.min_lr_ratio > 1:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio!r}.")
        _check_float(self.plateau_factor, "plateau_factor", positive=True)
        if self.plateau_factor >= 1:
            raise ValueError(f"plateau_factor must be in (0, 1), got {self.plateau_factor!r}.")
        check_int(self.plateau_patience, "plateau_patience", minimum=0)
        if self.early_stopping_patience is not None:
            check_int(self.early_stopping_patience, "early_stopping_patience", minimum=1)
        if not isinstance(self.monitor, str) or not self.monitor.startswith(("train_", "valid_")):
            raise ValueError(
                f"monitor must name a recorded figure such as 'valid_loss' or "
                f"'valid_accuracy', got {self.monitor!r}."
            )
        check_choice(self.monitor_mode, "monitor_mode", (None, "min", "max"))
        _check_float(self.min_delta, "min_delta")
        if self.seed is not None:
            check_int(self.seed, "seed", minimum=0)
        if not isinstance(self.device, str):
            raise TypeError(f"device must be a string like 'auto' or 'cpu', got {self.device!r}.")
        check_choice(self.amp, "amp", _AMP)
        if self.lr_layer_decay is not None:
            _check_float(self.lr_layer_decay, "lr_layer_decay", positive=True)
        if not isinstance(self.gradual_unfreeze, bool):
            raise TypeError(
                f"gradual_unfreeze must be True or False, got {self.gradual_unfreeze!r}."
            )

    @property
    def uses_parameter_groups(self) -> bool:
        """Whether training needs the model's ``parameter_groups()``."""
        return self.lr_layer_decay is not None or self.gradual_unfreeze

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown}; known: {sorted(known)}.")
        return cls(**values)


def _check_float(value: Any, name: str, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}.")

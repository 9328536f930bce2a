"""The one Trainer for every neural task in seqlab.

Per epoch: train over the batches (mean loss back-propagated, gradient clipping, LR
schedule), validate, record per-sample averaged figures, keep the best weights, save a
resumable checkpoint, stop early when the monitored figure stops improving.

Figures are per-sample averages: the training loss is ``sum(batch mean * batch size) /
samples`` and metrics come from totals summed over batches (and ranks) before dividing
(see :mod:`seqlab.train.tasks`). Dividing summed batch means by the dataset size instead
would shrink the loss by the batch size.

Resume: the trainer state holds the optimizer, the scheduler, every RNG state, the epoch,
the position inside the epoch and the partial totals. Ctrl-C sets a flag; the step in
flight finishes, the state is saved and KeyboardInterrupt is raised again, so a
``fit(..., resume=True)`` later replays the rest of the run exactly as an uninterrupted
run with the same seed would (the data order is rebuilt from the epoch's starting RNG
state and ``set_epoch``, the batches already done are skipped without training).

Callbacks (:mod:`seqlab.train.callbacks`: ``on_fit_start``, ``on_batch_end``,
``on_epoch_end``, ``on_checkpoint``, ``on_fit_end``) run on rank 0 only; the TensorBoard
and MLflow loggers are callbacks.

Run folder (rank 0 writes, every file atomically): ``config.json``, ``model.safetensors``
(best weights), ``last.safetensors`` and ``trainer_state.pt`` (resume), ``history.json``,
``history.csv``, ``curves.png`` and any ``extra_files``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import math
import os
import random
import signal
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import seqlab
from seqlab._validation import check_choice, check_int
from seqlab.io import atomic_write, read_json, write_json
from seqlab.models import build_model, model_config_dict
from seqlab.train import distributed as dist_utils
from seqlab.train.callbacks import (
    Callback,
    FitStart,
    TrainEvent,
    attached_callbacks,
    check_callbacks,
    wants_batches,
)
from seqlab.train.checkpoint import (
    capture_rng,
    load_model_weights,
    load_state,
    load_weights,
    read_weights_metadata,
    restore_rng,
    save_state,
    save_weights,
)
from seqlab.train.progress import ProgressBar
from seqlab.train.tasks import Task

__all__ = ["FORMAT_VERSION", "TrainConfig", "Trainer", "load_run", "seed_everything"]

logger = logging.getLogger(__name__)

#: Version of the run-folder layout; :func:`load_run` refuses folders from a newer one.
FORMAT_VERSION = 1

CONFIG_FILE = "config.json"
BEST_WEIGHTS = "model.safetensors"
LAST_WEIGHTS = "last.safetensors"
STATE_FILE = "trainer_state.pt"

_OPTIMIZERS = ("adam", "adamw", "sgd")
_SCHEDULES = (None, "cosine", "linear", "onecycle", "plateau")
_AMP = ("auto", "bf16", "off")
# Fields that may change between a run and its resumption without changing its figures.
_RESUME_FREE_FIELDS = {"epochs", "progress", "device", "early_stopping_patience"}


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


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and ``random``. Call it before building a model."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (user code may draw from the global numpy RNG)
    torch.manual_seed(seed)


def _resolve_device(spec: str, local_rank: int) -> torch.device:
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise ValueError(
            f"device {spec!r} is not a device torch knows (try 'auto' or 'cpu')."
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} was asked for but CUDA is not available here.")
        if device.index is None:
            device = torch.device("cuda", local_rank % torch.cuda.device_count())
    return device


def _check_batch(batch: Any) -> None:
    if not isinstance(batch, Mapping) or "inputs" not in batch or "targets" not in batch:
        got = f"keys {sorted(batch)}" if isinstance(batch, Mapping) else type(batch).__name__
        raise TypeError(
            "each batch must be a dict with 'inputs' and 'targets' (and optionally "
            f"'lengths'), got {got}."
        )


def _to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    non_blocking = device.type == "cuda"
    return {
        key: value.to(device, non_blocking=non_blocking)
        if isinstance(value, torch.Tensor)
        else value
        for key, value in batch.items()
    }


def _count_tokens(batch: Mapping[str, Any]) -> int:
    """Real time steps in a batch: sum of lengths, or N*L for sequence-shaped inputs."""
    lengths = batch.get("lengths")
    if isinstance(lengths, torch.Tensor):
        return int(lengths.sum())
    inputs = batch["inputs"]
    if isinstance(inputs, torch.Tensor):
        if inputs.ndim == 2 and not inputs.dtype.is_floating_point:
            return int(inputs.shape[0] * inputs.shape[1])  # token ids (N, L)
        if inputs.ndim >= 3:
            return int(inputs.shape[0] * inputs.shape[1])  # features (N, L, F)
    return 0


class _StopRequest:
    """Turns the first Ctrl-C into a request to stop at the next batch boundary."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning(
            "Ctrl-C: finishing this step, saving a resumable state, then stopping "
            "(press Ctrl-C again to stop at once without saving)."
        )

    def __exit__(self, *exc: Any) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


@dataclass
class _EpochProgress:
    """Running sums of one pass; everything needed to continue it after a resume."""

    loss_sum: float = 0.0
    count: int = 0
    tokens: int = 0
    totals: dict[str, float] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    batches_done: int = 0
    lr: float = math.nan  # learning rate of the last step taken


class Trainer:
    """Train ``model`` on a :class:`~seqlab.train.tasks.Task` as ``config`` says.

    Args:
        model: a ``torch.nn.Module``; it is moved to the configured device in place.
        task: e.g. ``ClassificationTask()`` or ``RegressionTask()``.
        config: a :class:`TrainConfig` (defaults when None).
        run_dir: folder for checkpoints and history; None keeps everything in memory
            (no resume then).
        model_config: the model's registry config (``{"name": ..., **fields}`` or a
            registered config dataclass), saved so :func:`load_run` can rebuild it.
        extra_files: ``{"vocab.json": obj}``; dicts/lists are written as JSON, strings as
            text, bytes as they are.
        callbacks: :class:`~seqlab.train.callbacks.Callback` objects (loggers such as
            ``TensorBoardLogger``, ``MLflowLogger``), called on the main rank; those
            attached with :func:`seqlab.train.callbacks.attached` are called after them.

    Batches are any re-iterable of dicts ``{"inputs", "targets", "lengths"?}``; a source
    with ``set_epoch(epoch)`` (or a DataLoader whose sampler has it) is told the epoch
    before each pass. Under ``torchrun`` the model is wrapped in DDP and a source that
    is not already sharded is wrapped in :class:`~seqlab.train.distributed.DistributedBatches`.
    Seed (``seed_everything``) before building the model: the Trainer seeds again at
    the start of ``fit``, which fixes the data order and dropout but not the initial weights.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        task: Task,
        config: TrainConfig | None = None,
        run_dir: str | os.PathLike | None = None,
        model_config: Mapping[str, Any] | Any | None = None,
        extra_files: Mapping[str, Any] | None = None,
        callbacks: list[Callback] | None = None,
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
        if not isinstance(task, Task):
            raise TypeError(
                f"task must be a seqlab.train Task (e.g. ClassificationTask()), got {task!r}."
            )
        config = TrainConfig() if config is None else config
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}.")
        if model_config is not None and not isinstance(model_config, Mapping):
            model_config = model_config_dict(model_config)
        if model_config is not None and "name" not in model_config:
            raise ValueError("model_config must have a 'name' key (the registered model name).")
        for name in extra_files or {}:
            if not isinstance(name, str) or Path(name).name != name or name in _RESERVED:
                raise ValueError(
                    f"extra_files key {name!r} must be a plain file name not used by the "
                    f"run folder itself ({sorted(_RESERVED)})."
                )
        self.model = model
        self.task = task
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.model_config = dict(model_config) if model_config is not None else None
        self.extra_files = dict(extra_files or {})
        self.callbacks = check_callbacks(callbacks)
        self._active: list[Callback] = []
        self._batch_events = False
        self.history: list[dict[str, float]] = []
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.stopped_early = False
        self.device: torch.device | None = None
        self._dist = dist_utils.DistContext()
        self._net: torch.nn.Module = model
        self._amp = False
        self._step = 0
        self._bad_epochs = 0
        self._best_state: dict[str, torch.Tensor] | None = None
        self._plotted_at = time.perf_counter()

    # ----------------------------------------------------------------- set-up
    def _setup(self) -> None:
        if self.device is not None:
            return
        wants_cuda = self.config.device == "auto" and torch.cuda.is_available()
        wants_cuda = wants_cuda or self.config.device.startswith("cuda")
        self._dist = dist_utils.setup(use_cuda=wants_cuda)
        self.device = _resolve_device(self.config.device, self._dist.local_rank)
        self.model.to(self.device)
        amp = self.config.amp
        if amp == "auto":
            self._amp = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
        else:
            self._amp = amp == "bf16"
        if self._dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._net = DistributedDataParallel(self.model, device_ids=ids)
        logger.info(
            "training on %s%s%s",
            self.device,
            " with bf16 autocast" if self._amp else "",
            f", rank {self._dist.rank} of {self._dist.world_size}" if self._dist.enabled else "",
        )

    def _autocast(self) -> Any:
        assert self.device is not None
        if not self._amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    @property
    def _writes(self) -> bool:
        return self.run_dir is not None and self._dist.is_main

    def _shard(self, batches: Iterable[Any], train: bool) -> Iterable[Any]:
        if not self._dist.enabled or dist_utils.is_sharded(batches):
            return batches
        return dist_utils.DistributedBatches(
            batches, self._dist.rank, self._dist.world_size, drop_last=train
        )

    def _monitor(self, has_valid: bool) -> tuple[str, str]:
        monitor = self.config.monitor
        if monitor.startswith("valid_") and not has_valid:
            monitor = "train_" + monitor[len("valid_") :]
            logger.info("no validation batches: monitoring %s instead", monitor)
        known = {f"{p}_{m}" for p in ("train", "valid") for m in ("loss", *self.task.metric_names)}
        if monitor not in known:
            raise ValueError(
                f"monitor {self.config.monitor!r} is not a figure this task records; "
                f"choose one of {sorted(known)}."
            )
        mode = self.config.monitor_mode or self.task.mode(monitor)
        return monitor, mode

    def _build_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters.")
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )

    def _build_scheduler(
        self, optimizer: torch.optim.Optimizer, steps_per_epoch: int | None, mode: str
    ) -> Any:
        cfg = self.config
        if cfg.lr_schedule is None:
            return None
        if cfg.lr_schedule == "plateau":
            return torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer,
                mode=mode,
                factor=cfg.plateau_factor,
                patience=cfg.plateau_patience,
                threshold=cfg.min_delta,
                threshold_mode="abs",
            )
        if steps_per_epoch is None:
            raise ValueError(
                f"lr_schedule={cfg.lr_schedule!r} steps every batch and needs to know the "
                "number of batches: pass batches with __len__ (a list, a DataLoader, ...)."
            )
        total = max(cfg.epochs * steps_per_epoch, 1)
        if cfg.lr_schedule == "onecycle":
            pct = cfg.warmup_steps / total if cfg.warmup_steps else 0.3
            return torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=cfg.lr, total_steps=total, pct_start=min(max(pct, 1e-3), 0.99)
            )
        warmup, floor, cosine = cfg.warmup_steps, cfg.min_lr_ratio, cfg.lr_schedule == "cosine"

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = min((step - warmup) / max(total - warmup, 1), 1.0)
            shape = 0.5 * (1 + math.cos(math.pi * progress)) if cosine else 1 - progress
            return floor + (1 - floor) * shape

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    # ---------------------------------------------------------------- passes
    def _run_epoch(
        self,
        batches: Iterable[Any],
        epoch: int,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        stop: _StopRequest,
        progress: _EpochProgress,
        rng_at_start: dict[str, Any] | None,
        rng_now: dict[str, Any] | None,
    ) -> tuple[_EpochProgress, dict[str, Any], bool]:
        """One training pass: its sums, the RNG state it started from, whether Ctrl-C cut it.

        When ``progress.batches_done`` > 0 (a resumed pass), the RNG state the pass
        started from is put back, the data order rebuilt, the done batches skipped
        without training and the RNG state at the interruption put back.
        """
        assert self.device is not None
        if rng_at_start is not None:
            restore_rng(rng_at_start)
        else:
            rng_at_start = capture_rng()
        dist_utils.set_epoch(batches, epoch)
        iterator: Iterator[Any] = iter(batches)
        skip = progress.batches_done
        for done in range(skip):
            if next(iterator, None) is None:
                raise ValueError(
                    f"cannot resume epoch {epoch + 1} after batch {skip}: the training "
                    f"batches now end after {done}; resume with the same data and batching."
                )
        if rng_now is not None:
            restore_rng(rng_now)
        total = len(batches) if hasattr(batches, "__len__") else None  # type: ignore[arg-type]
        bar = ProgressBar(
            self.config.progress and self._dist.is_main,
            total,
            f"epoch {epoch + 1}/{self.config.epochs}",
            initial=skip,
        )
        self._net.train()
        per_step = self.config.lr_schedule not in (None, "plateau")
        loss_sum = torch.tensor(progress.loss_sum, dtype=torch.float64, device=self.device)
        totals = {
            k: torch.tensor(v, dtype=torch.float64, device=self.device)
            for k, v in progress.totals.items()
        }
        count, tokens = progress.count, progress.tokens
        started = time.perf_counter() - progress.seconds
        batches_done = skip
        lr = progress.lr
        interrupted = False
        check_every = (
            _STOP_CHECK_EVERY_CUDA if self._dist.enabled and self.device.type == "cuda" else 1
        )
        try:
            for raw in iterator:
                _check_batch(raw)
                n = self.task.count(raw)
                tokens += _count_tokens(raw)
                batch = _to_device(raw, self.device)
                with self._autocast():
                    output = self.task.forward(self._net, batch)
                    loss = self.task.loss(output, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.config.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
                optimizer.step()
                lr = optimizer.param_groups[0]["lr"]
                if per_step:
                    scheduler.step()
                self._step += 1
                with torch.no_grad():
                    loss_sum += loss.detach().double() * n
                    for key, value in self.task.totals(_detach(output), batch).items():
                        totals[key] = totals.get(key, 0) + value.double()
                count += n
                batches_done += 1
                if self._batch_events:
                    self._call("on_batch_end", self._event(epoch + 1, {"loss": float(loss.item())}))
                postfix = None
                if bar.due():
                    elapsed = max(time.perf_counter() - started, 1e-9)
                    postfix = {"loss": f"{loss_sum.item() / max(count, 1):.4f}"}
                    running = self.task.summarize({k: v.item() for k, v in totals.items()}, count)
                    postfix.update({k: f"{v:.4f}" for k, v in running.items()})
                    if tokens:
                        postfix["tok/s"] = f"{tokens / elapsed:,.0f}"
                bar.update(postfix)
                # Ranks agree on stopping at the same batch; on GPUs that agreement is a
                # synchronisation, so it is sought every few batches only.
                if batches_done % check_every == 0 and self._dist.any(stop.requested, self.device):
                    stop.requested = interrupted = True
                    break
        finally:
            bar.close()
        return (
            _EpochProgress(
                loss_sum=float(loss_sum.item()),
                count=count,
                tokens=tokens,
                totals={k: float(v.item()) for k, v in totals.items()},
                seconds=time.perf_counter() - started,
                batches_done=batches_done,
                lr=lr,
            ),
            rng_at_start,
            interrupted,
        )

    def _figures(self, sums: _EpochProgress) -> dict[str, float]:
        """Per-sample figures from sums, added up over ranks first."""
        assert self.device is not None
        keys = sorted(sums.totals)
        reduced = self._dist.all_reduce_sum(
            [sums.loss_sum, float(sums.count), float(sums.tokens)] + [sums.totals[k] for k in keys],
            self.device,
        )
        loss_sum, count, tokens = reduced[0], int(reduced[1]), reduced[2]
        totals = dict(zip(keys, reduced[3:], strict=True))
        figures = {"loss": loss_sum / count if count else math.nan}
        figures.update(self.task.summarize(totals, count))
        figures["count"] = count
        figures["tokens"] = tokens
        return figures

    def _evaluate_sums(self, batches: Iterable[Any]) -> _EpochProgress:
        assert self.device is not None
        self.model.eval()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        totals: dict[str, torch.Tensor] = {}
        count = tokens = 0
        started = time.perf_counter()
        with torch.no_grad():
            for raw in batches:
                _check_batch(raw)
                n = self.task.count(raw)
                tokens += _count_tokens(raw)
                batch = _to_device(raw, self.device)
                with self._autocast():
                    output = self.task.forward(self.model, batch)
                    loss = self.task.loss(output, batch)
                loss_sum += loss.double() * n
                for key, value in self.task.totals(output, batch).items():
                    totals[key] = totals.get(key, 0) + value.double()
                count += n
        return _EpochProgress(
            loss_sum=float(loss_sum.item()),
            count=count,
            tokens=tokens,
            totals={k: float(v.item()) for k, v in totals.items()},
            seconds=time.perf_counter() - started,
        )

    def evaluate(self, batches: Iterable[Any]) -> dict[str, float]:
        """Per-sample loss and task metrics over ``batches``, with count and seconds.

        Classification returns ``{"loss", "accuracy", "count", "seconds"}``; regression
        ``{"loss", "mae", "rmse", "count", "seconds"}``. Under torch.distributed each
        rank evaluates its share and the totals are summed over ranks.
        """
        self._setup()
        started = time.perf_counter()
        sums = self._evaluate_sums(self._shard(batches, train=False))
        figures = self._figures(sums)
        if figures["count"] == 0:
            raise ValueError("evaluate(): the batches yielded no samples.")
        del figures["tokens"]
        figures["seconds"] = time.perf_counter() - started
        return figures

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        train_batches: Iterable[Any],
        valid_batches: Iterable[Any] | None = None,
        resume: bool = False,
    ) -> list[dict[str, float]]:
        """Train for ``config.epochs`` epochs (fewer if stopped early); return the history.

        The history is one dict per epoch: ``epoch``, ``train_loss``, ``train_<metric>``,
        ``valid_loss``, ``valid_<metric>``, ``lr``, ``seconds`` and ``tokens_per_s`` when
        the batches are sequences. ``resume=True`` continues the run saved in
        ``run_dir`` (after a Ctrl-C, or with more ``epochs``). Ctrl-C saves a resumable
        state (when there is a run_dir) and raises KeyboardInterrupt.
        """
        for name, batches in (("train_batches", train_batches), ("valid_batches", valid_batches)):
            if isinstance(batches, Iterator):
                raise TypeError(
                    f"{name} must be re-iterable (a list, a DataLoader, an object with "
                    "__iter__), not a one-shot iterator or generator: each epoch iterates it "
                    "again."
                )
        if resume and self.run_dir is None:
            raise ValueError("resume=True needs a run_dir holding a saved run.")
        self._setup()
        cfg = self.config
        monitor, mode = self._monitor(valid_batches is not None)
        train_src = self._shard(train_batches, train=True)
        valid_src = self._shard(valid_batches, train=False) if valid_batches is not None else None
        steps = len(train_src) if hasattr(train_src, "__len__") else None  # type: ignore[arg-type]
        if steps == 0:
            raise ValueError(
                "train_batches holds no batches"
                + (" for this rank (fewer batches than ranks)." if self._dist.enabled else ".")
            )
        optimizer = self._build_optimizer()
        scheduler = self._build_scheduler(optimizer, steps, mode)

        start_epoch, partial, rng_start, rng_now = 0, _EpochProgress(), None, None
        if resume:
            start_epoch, partial, rng_start, rng_now = self._load_resume(optimizer, scheduler)
        else:
            self.history, self.best_value, self.best_epoch = [], None, None
            self._bad_epochs, self._step, self._best_state, self.stopped_early = 0, 0, None, False
            if cfg.seed is not None:
                seed_everything(cfg.seed)
        created = self._writes and not self.run_dir.exists()  # type: ignore[union-attr]
        self._active = [*self.callbacks, *attached_callbacks()] if self._dist.is_main else []
        self._batch_events = wants_batches(self._active)
        started = False
        try:
            if self._writes:
                self._write_config(fresh=not resume)
            self._call("on_fit_start", self._fit_start(resume))
            started = True
            try:
                with _StopRequest() as stop:
                    for epoch in range(start_epoch, cfg.epochs):
                        if self.stopped_early:
                            break
                        sums, rng_start, interrupted = self._run_epoch(
                            train_src,
                            epoch,
                            optimizer,
                            scheduler,
                            stop,
                            partial,
                            rng_start,
                            rng_now,
                        )
                        partial, rng_now = _EpochProgress(), None
                        if interrupted and (steps is None or sums.batches_done < steps):
                            self._interrupt(epoch, sums, rng_start, optimizer, scheduler)
                        rng_start = None
                        record = self._end_epoch(
                            epoch, sums, valid_src, optimizer, scheduler, monitor, mode
                        )
                        self._call("on_epoch_end", self._event(epoch + 1, record))
                        left = (cfg.epochs - epoch - 1) * record["seconds"]
                        logger.info(
                            "epoch %d/%d: %s (about %.0f s of training left)",
                            epoch + 1,
                            cfg.epochs,
                            ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch"),
                            left,
                        )
                        if not math.isfinite(record["train_loss"]):
                            raise FloatingPointError(
                                f"training diverged: train_loss is {record['train_loss']} at epoch "
                                f"{epoch + 1}; lower lr, set grad_clip or check the inputs for NaN."
                            )
                        if self._dist.any(stop.requested, self.device):
                            logger.warning("stopped by Ctrl-C after epoch %d", epoch + 1)
                            self._dist.barrier()
                            raise KeyboardInterrupt
            finally:
                if self._writes and self.history:
                    self._write_history(plot=True)
                if started:
                    self._call("on_fit_end", list(self.history))
        except BaseException:
            if self._writes and not resume:
                self._discard_unresumable(created)
            raise
        if cfg.restore_best:
            self._restore_best()
        return self.history

    def _end_epoch(
        self,
        epoch: int,
        sums: _EpochProgress,
        valid_src: Iterable[Any] | None,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        monitor: str,
        mode: str,
    ) -> dict[str, float]:
        train = self._figures(sums)
        record: dict[str, float] = {"epoch": epoch + 1}
        record.update({f"train_{k}": v for k, v in train.items() if k not in ("count", "tokens")})
        if valid_src is not None:
            valid = self._figures(self._evaluate_sums(valid_src))
            if valid["count"] == 0:
                raise ValueError("valid_batches yielded no samples.")
            record.update(
                {f"valid_{k}": v for k, v in valid.items() if k not in ("count", "tokens")}
            )
        record["lr"] = sums.lr
        record["seconds"] = sums.seconds
        if train["tokens"]:
            record["tokens_per_s"] = train["tokens"] / max(sums.seconds, 1e-9)
        self.history.append(record)

        value = record[monitor]
        if self.config.lr_schedule == "plateau":
            scheduler.step(value)
        if self._improved(value, mode):
            self.best_value, self.best_epoch, self._bad_epochs = value, epoch + 1, 0
            self._save_best()
        else:
            self._bad_epochs += 1
        patience = self.config.early_stopping_patience
        if patience is not None and self._bad_epochs >= patience and epoch + 1 < self.config.epochs:
            self.stopped_early = True
            logger.info(
                "early stopping after epoch %d: %s has not improved for %d epochs (best %.4g at "
                "epoch %d)",
                epoch + 1,
                monitor,
                patience,
                self.best_value,
                self.best_epoch,
            )
        if self._writes:
            self._save_resume_point(epoch + 1, _EpochProgress(), None, optimizer, scheduler)
            self._call("on_checkpoint", self._event(epoch + 1, record))
            # Drawing costs about a second, so mid-run curves are redrawn at most once
            # a minute; the final ones are drawn when fit() ends or is interrupted.
            self._write_history(plot=time.perf_counter() - self._plotted_at > _PLOT_EVERY_S)
        return record

    # ------------------------------------------------------------ callbacks
    def _event(self, epoch: int, metrics: Mapping[str, float]) -> TrainEvent:
        return TrainEvent(epoch=epoch, step=self._step, metrics=dict(metrics), run_dir=self.run_dir)

    def _fit_start(self, resume: bool) -> FitStart:
        config = {
            **self.config.to_dict(),
            "model": self.model_config,
            "task": self.task.describe(),
        }
        return FitStart(config=config, run_dir=self.run_dir, resume=resume)

    def _call(self, hook: str, payload: Any) -> None:
        for callback in self._active:
            getattr(callback, hook)(payload)

    def _improved(self, value: float, mode: str) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_value is None:
            return True
        delta = self.config.min_delta
        return value < self.best_value - delta if mode == "min" else value > self.best_value + delta

    # ---------------------------------------------------------- checkpoints
    def _save_best(self) -> None:
        if self._writes:
            assert self.run_dir is not None
            save_weights(self.run_dir / BEST_WEIGHTS, self.model.state_dict())
        if self.config.restore_best:
            self._best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }

    def _restore_best(self) -> None:
        if self._best_state is None and self.best_epoch is not None and self.run_dir is not None:
            # A resumed run: the best weights so far are on disk, not in memory.
            path = self.run_dir / BEST_WEIGHTS
            if path.exists():
                self._best_state = load_weights(path)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)

    def _interrupt(
        self,
        epoch: int,
        sums: _EpochProgress,
        rng_start: dict[str, Any],
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
    ) -> None:
        if self.run_dir is None:
            logger.warning("stopped by Ctrl-C in epoch %d; no run_dir, nothing saved", epoch + 1)
        else:
            if self._writes:
                self._save_resume_point(epoch, sums, rng_start, optimizer, scheduler)
            logger.warning(
                "stopped by Ctrl-C in epoch %d after %d batches; state saved in %s, "
                "continue with resume=True",
                epoch + 1,
                sums.batches_done,
                self.run_dir,
            )
        # Other ranks wait for rank 0's files before they exit: torchrun tears down
        # every worker as soon as one ends.
        self._dist.barrier()
        raise KeyboardInterrupt

    def _save_resume_point(
        self,
        epoch: int,
        sums: _EpochProgress,
        rng_start: dict[str, Any] | None,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
    ) -> None:
        assert self.run_dir is not None
        # The step count ties the two files together: a crash between the two writes
        # leaves them disagreeing, which resume detects instead of mixing them.
        save_weights(
            self.run_dir / LAST_WEIGHTS, self.model.state_dict(), metadata={"step": str(self._step)}
        )
        state = {
            "format_version": FORMAT_VERSION,
            "epoch": epoch,
            "step": self._step,
            "progress": dataclasses.asdict(sums),
            "rng_epoch_start": rng_start,
            "rng_now": capture_rng(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "history": self.history,
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "bad_epochs": self._bad_epochs,
            "stopped_early": self.stopped_early,
        }
        save_state(self.run_dir / STATE_FILE, state)

    def _load_resume(
        self, optimizer: torch.optim.Optimizer, scheduler: Any
    ) -> tuple[int, _EpochProgress, dict[str, Any] | None, dict[str, Any] | None]:
        assert self.run_dir is not None
        state_path = self.run_dir / STATE_FILE
        if not state_path.exists():
            raise ValueError(
                f"resume=True but {state_path} does not exist; nothing to resume "
                "(train without resume, or point run_dir at the interrupted run)."
            )
        saved_config = _read_config(self.run_dir)
        if self.model_config is not None and saved_config.get("model") != self.model_config:
            raise ValueError(
                f"{self.run_dir} was trained with model config {saved_config.get('model')}, "
                f"not {self.model_config}; resume with the same model."
            )
        changed = sorted(
            k
            for k, v in self.config.to_dict().items()
            if k not in _RESUME_FREE_FIELDS and saved_config.get("train", {}).get(k, v) != v
        )
        if changed:
            warnings.warn(
                f"resuming {self.run_dir} with changed training settings {changed}; the "
                "figures will differ from an uninterrupted run.",
                stacklevel=3,
            )
        state = load_state(state_path)
        _check_state(state, state_path)
        weights_step = read_weights_metadata(self.run_dir / LAST_WEIGHTS).get("step")
        if weights_step != str(state["step"]):
            raise ValueError(
                f"{self.run_dir}: {LAST_WEIGHTS} and {STATE_FILE} are from different steps "
                "(was saving interrupted?); cannot resume exactly."
            )
        load_model_weights(self.model, self.run_dir / LAST_WEIGHTS, device=self.device or "cpu")
        try:
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None and state["scheduler"] is not None:
                scheduler.load_state_dict(state["scheduler"])
            partial = _EpochProgress(**state["progress"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            first = str(exc).strip().partition("\n")[0]
            raise ValueError(
                f"{state_path}: the optimizer, scheduler or progress state does not fit this "
                f"run ({type(exc).__name__}: {first}); cannot resume it."
            ) from None
        self.history = list(state["history"])
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
        self._bad_epochs, self._step = state["bad_epochs"], state["step"]
        self.stopped_early = bool(state["stopped_early"])
        logger.info(
            "resuming %s at epoch %d, batch %d",
            self.run_dir,
            state["epoch"] + 1,
            partial.batches_done,
        )
        if state["rng_epoch_start"] is None:
            restore_rng(state["rng_now"])
            return state["epoch"], partial, None, None
        return state["epoch"], partial, state["rng_epoch_start"], state["rng_now"]

    def _discard_unresumable(self, created: bool) -> None:
        """After a failed fresh run: remove what it wrote unless a resume point exists.

        A folder holding ``config.json`` but no ``trainer_state.pt`` looks like a run yet
        cannot be resumed; the files this run wrote go, and the folder too when this run
        created it and nothing else is left in it.
        """
        assert self.run_dir is not None
        if (self.run_dir / STATE_FILE).exists():
            return
        names = {*_RESERVED, *self.extra_files}
        removed = []
        for name in sorted(names):
            with contextlib.suppress(FileNotFoundError):
                (self.run_dir / name).unlink()
                removed.append(name)
        if created:
            with contextlib.suppress(OSError):
                self.run_dir.rmdir()
        if removed:
            logger.warning(
                "%s: stopped before the first checkpoint; removed its partial files %s",
                self.run_dir,
                removed,
            )

    def _write_config(self, fresh: bool) -> None:
        assert self.run_dir is not None
        if fresh and (self.run_dir / STATE_FILE).exists():
            warnings.warn(
                f"{self.run_dir} already holds a run; starting a new one over it "
                "(use resume=True to continue the old one).",
                stacklevel=3,
            )
            for name in (STATE_FILE, LAST_WEIGHTS, BEST_WEIGHTS):
                with contextlib.suppress(FileNotFoundError):
                    (self.run_dir / name).unlink()
        config = {
            "format_version": FORMAT_VERSION,
            "seqlab_version": seqlab.__version__,
            "model": self.model_config,
            "task": self.task.describe(),
            "train": self.config.to_dict(),
            "extra_files": sorted(self.extra_files),
        }
        write_json(self.run_dir / CONFIG_FILE, config)
        for name, content in self.extra_files.items():
            path = self.run_dir / name
            if isinstance(content, bytes):
                with atomic_write(path, "wb") as handle:
                    handle.write(content)
            elif isinstance(content, str):
                with atomic_write(path, "w", encoding="utf-8") as handle:
                    handle.write(content)
            else:
                write_json(path, content)

    def _write_history(self, plot: bool) -> None:
        assert self.run_dir is not None
        import pandas as pd

        write_json(self.run_dir / "history.json", self.history)
        frame = pd.DataFrame(self.history)
        with atomic_write(
            self.run_dir / "history.csv", "w", encoding="utf-8", newline=""
        ) as handle:
            frame.to_csv(handle, index=False)
        if plot:
            from seqlab.plot import plot_history

            columns = {k: frame[k].tolist() for k in frame.columns}
            plot_history(columns, self.run_dir / "curves.png", title=self.run_dir.name)
            self._plotted_at = time.perf_counter()


_PLOT_EVERY_S = 60.0
_STOP_CHECK_EVERY_CUDA = 16

_RESERVED = {
    CONFIG_FILE,
    BEST_WEIGHTS,
    LAST_WEIGHTS,
    STATE_FILE,
    "history.json",
    "history.csv",
    "curves.png",
}


def _detach(output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output.detach()
    if isinstance(output, (tuple, list)):
        return type(output)(_detach(o) for o in output)
    return output


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


def _check_state(state: Any, path: Path) -> None:
    """The trainer state's layout: the keys :meth:`Trainer._save_resume_point` writes."""
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


def _read_config(run_dir: Path) -> dict[str, Any]:
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
    config = _read_config(run_dir)
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

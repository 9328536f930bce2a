"""The one Trainer for every neural task in seqlab.

Per epoch: train over the batches (mean loss back-propagated, gradient clipping, LR
schedule), validate, record per-sample averaged figures, keep the best weights, save a
resumable checkpoint, stop early when the monitored figure stops improving.

The parts live beside this module: :mod:`~seqlab.train.config` (``TrainConfig`` and its
checks), :mod:`~seqlab.train.runtime` (seeding, device choice),
:mod:`~seqlab.train.signals` (Ctrl-C), :mod:`~seqlab.train.loop` (the training and
evaluation passes and their per-sample figures) and :mod:`~seqlab.train.runfolder`
(the run folder and :func:`load_run`).

Resume: the trainer state holds the optimizer, the scheduler, every RNG state, the epoch,
the position inside the epoch and the partial totals. Ctrl-C sets a flag; the step in
flight finishes, the state is saved and KeyboardInterrupt is raised again, so a
``fit(..., resume=True)`` later replays the rest of the run exactly as an uninterrupted
run with the same seed would (the data order is rebuilt from the epoch's starting RNG
state and ``set_epoch``, the batches already done are skipped without training).

Callbacks (:mod:`seqlab.train.callbacks`: ``on_fit_start``, ``on_batch_end``,
``on_epoch_end``, ``on_checkpoint``, ``on_fit_end``) run on rank 0 only; the TensorBoard
and MLflow loggers are callbacks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from seqlab.models import model_config_dict
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
    load_weights,
    restore_rng,
    save_weights,
)
from seqlab.train.config import RESUME_FREE_FIELDS, TrainConfig
from seqlab.train.loop import EpochProgress, evaluate_pass, figures, train_pass
from seqlab.train.runfolder import (
    BEST_WEIGHTS,
    CONFIG_FILE,
    FORMAT_VERSION,
    LAST_WEIGHTS,
    RESERVED,
    STATE_FILE,
    discard_unresumable,
    load_run,
    read_config,
    read_resume_state,
    save_resume_point,
    write_config,
    write_history,
)
from seqlab.train.runtime import resolve_device, seed_everything
from seqlab.train.signals import StopRequest
from seqlab.train.tasks import Task

__all__ = [
    "BEST_WEIGHTS",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "LAST_WEIGHTS",
    "STATE_FILE",
    "TrainConfig",
    "Trainer",
    "load_run",
    "seed_everything",
]

logger = logging.getLogger(__name__)

# Drawing the curves costs about a second, so mid-run curves are redrawn at most this
# often; the final ones are drawn when fit() ends or is interrupted.
_PLOT_EVERY_S = 60.0


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

    ``config.lr_layer_decay`` and ``config.gradual_unfreeze`` need a model with
    ``parameter_groups()``: a list of lists of parameters from the input side to the
    output side, covering every parameter once. Group ``i`` of ``n`` gets its own
    optimizer group at ``lr / lr_layer_decay ** (n - 1 - i)`` (every schedule scales each
    group; onecycle peaks each at its own rate). With gradual unfreezing, epoch ``k``
    (from 1) trains only the last ``k`` groups: the others get ``requires_grad=False``
    for that epoch, so they have no gradient and the optimizer leaves them as they are.
    The frozen set follows from the epoch alone, so a resumed run freezes as an
    uninterrupted one does; parameters frozen before ``fit`` stay frozen, and the others
    are trainable again when ``fit`` returns. Gradual unfreezing is refused under
    torch.distributed (DDP expects a gradient for every parameter it wraps).
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
            if not isinstance(name, str) or Path(name).name != name or name in RESERVED:
                raise ValueError(
                    f"extra_files key {name!r} must be a plain file name not used by the "
                    f"run folder itself ({sorted(RESERVED)})."
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
        # Trainable parameters of each of the model's parameter_groups() (gradual unfreezing).
        self._stages: list[list[torch.nn.Parameter]] = []

    # ----------------------------------------------------------------- set-up
    def _setup(self) -> None:
        if self.device is not None:
            return
        wants_cuda = self.config.device == "auto" and torch.cuda.is_available()
        wants_cuda = wants_cuda or self.config.device.startswith("cuda")
        self._dist = dist_utils.setup(use_cuda=wants_cuda)
        self.device = resolve_device(self.config.device, self._dist.local_rank)
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
        groups: list[dict[str, Any]] | list[torch.nn.Parameter] = params
        self._stages = []
        if cfg.uses_parameter_groups:
            self._stages = self._parameter_groups()
            decay = cfg.lr_layer_decay or 1.0
            n = len(self._stages)
            groups = [
                {"params": stage, "lr": cfg.lr / decay ** (n - 1 - i)}
                for i, stage in enumerate(self._stages)
                if stage
            ]
        if cfg.optimizer == "adam":
            return torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.optimizer == "adamw":
            return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return torch.optim.SGD(
            groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )

    def _parameter_groups(self) -> list[list[torch.nn.Parameter]]:
        """The model's ``parameter_groups()``, checked, each keeping its trainable parameters.

        Raises
        ------
        ValueError
            The model defines no ``parameter_groups()``, or its groups are empty, repeat
            a parameter or leave one of the model's parameters out.
        TypeError
            ``parameter_groups()`` returns something other than lists of parameters.
        """
        cfg = self.config
        wanted = " and ".join(
            name
            for name, on in (
                ("lr_layer_decay", cfg.lr_layer_decay is not None),
                ("gradual_unfreeze", cfg.gradual_unfreeze),
            )
            if on
        )
        name = type(self.model).__name__
        method = getattr(self.model, "parameter_groups", None)
        if not callable(method):
            raise ValueError(
                f"{wanted} needs a model with parameter_groups() (lists of parameters from "
                f"the input side to the output side); {name} has none."
            )
        groups = method()
        if not isinstance(groups, (list, tuple)) or not groups:
            raise TypeError(
                f"{name}.parameter_groups() must return a non-empty list of lists of "
                f"parameters, got {type(groups).__name__}."
            )
        seen: set[int] = set()
        stages: list[list[torch.nn.Parameter]] = []
        for i, group in enumerate(groups):
            if not isinstance(group, (list, tuple)) or not group:
                raise TypeError(
                    f"{name}.parameter_groups()[{i}] must be a non-empty list of parameters."
                )
            for param in group:
                if not isinstance(param, torch.nn.Parameter):
                    raise TypeError(
                        f"{name}.parameter_groups()[{i}] holds a {type(param).__name__}, "
                        "not a torch.nn.Parameter."
                    )
                if id(param) in seen:
                    raise ValueError(f"{name}.parameter_groups() lists a parameter twice.")
                seen.add(id(param))
            stages.append([p for p in group if p.requires_grad])
        missing = [n for n, p in self.model.named_parameters() if id(p) not in seen]
        if missing:
            raise ValueError(
                f"{name}.parameter_groups() leaves out parameters {missing[:5]}"
                f"{' ...' if len(missing) > 5 else ''}; every parameter must be in one group."
            )
        return stages

    def _unfreeze_for(self, epoch: int) -> None:
        """Gradual unfreezing: epoch ``epoch`` (from 0) trains the last ``epoch + 1`` groups.

        Only parameters trainable when the optimizer was built are switched, so a
        parameter the model keeps frozen stays frozen; a frozen parameter gets no
        gradient and the optimizer leaves it (and its state) untouched.
        """
        if not self.config.gradual_unfreeze:
            return
        n = len(self._stages)
        first = max(n - 1 - epoch, 0)
        for i, stage in enumerate(self._stages):
            for param in stage:
                param.requires_grad_(i >= first)
        logger.info(
            "gradual unfreezing: epoch %d trains parameter groups %d-%d of %d",
            epoch + 1,
            first + 1,
            n,
            n,
        )

    def _unfreeze_all(self) -> None:
        for stage in self._stages:
            for param in stage:
                param.requires_grad_(True)

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
            # One peak per parameter group: the groups' own (decayed) learning rates.
            return torch.optim.lr_scheduler.OneCycleLR(
                optimizer,
                max_lr=[group["lr"] for group in optimizer.param_groups],
                total_steps=total,
                pct_start=min(max(pct, 1e-3), 0.99),
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
        stop: StopRequest,
        progress: EpochProgress,
        rng_at_start: dict[str, Any] | None,
        rng_now: dict[str, Any] | None,
    ) -> tuple[EpochProgress, dict[str, Any], bool]:
        """One training pass (:func:`seqlab.train.loop.train_pass`)."""
        assert self.device is not None

        def on_step(loss: torch.Tensor) -> None:
            self._step += 1
            if self._batch_events:
                self._call("on_batch_end", self._event(epoch + 1, {"loss": float(loss.item())}))

        return train_pass(
            net=self._net,
            model=self.model,
            task=self.task,
            batches=batches,
            epoch=epoch,
            epochs=self.config.epochs,
            optimizer=optimizer,
            scheduler=scheduler,
            per_step_schedule=self.config.lr_schedule not in (None, "plateau"),
            grad_clip=self.config.grad_clip,
            device=self.device,
            autocast=self._autocast,
            dist=self._dist,
            stop=stop,
            progress=progress,
            rng_at_start=rng_at_start,
            rng_now=rng_now,
            show_progress=self.config.progress and self._dist.is_main,
            on_step=on_step,
        )

    def _figures(self, sums: EpochProgress) -> dict[str, float]:
        assert self.device is not None
        return figures(sums, self.task, self._dist, self.device)

    def _evaluate_sums(self, batches: Iterable[Any]) -> EpochProgress:
        assert self.device is not None
        return evaluate_pass(
            model=self.model,
            task=self.task,
            batches=batches,
            device=self.device,
            autocast=self._autocast,
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
        if cfg.gradual_unfreeze and self._dist.enabled:
            raise ValueError(
                "gradual_unfreeze is not supported under torch.distributed: DDP expects a "
                "gradient for every parameter it was built with."
            )
        optimizer = self._build_optimizer()
        scheduler = self._build_scheduler(optimizer, steps, mode)

        start_epoch, partial, rng_start, rng_now = 0, EpochProgress(), None, None
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
                write_config(
                    self.run_dir,  # type: ignore[arg-type]
                    model_config=self.model_config,
                    task=self.task.describe(),
                    train=self.config.to_dict(),
                    extra_files=self.extra_files,
                    fresh=not resume,
                )
            self._call("on_fit_start", self._fit_start(resume))
            started = True
            try:
                with StopRequest() as stop:
                    for epoch in range(start_epoch, cfg.epochs):
                        if self.stopped_early:
                            break
                        self._unfreeze_for(epoch)
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
                        partial, rng_now = EpochProgress(), None
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
                self._unfreeze_all()
                if self._writes and self.history:
                    self._write_history(plot=True)
                if started:
                    self._call("on_fit_end", list(self.history))
        except BaseException:
            if self._writes and not resume:
                discard_unresumable(self.run_dir, self.extra_files, created)  # type: ignore[arg-type]
            raise
        if cfg.restore_best:
            self._restore_best()
        return self.history

    def _end_epoch(
        self,
        epoch: int,
        sums: EpochProgress,
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
            self._save_resume_point(epoch + 1, EpochProgress(), None, optimizer, scheduler)
            self._call("on_checkpoint", self._event(epoch + 1, record))
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
        sums: EpochProgress,
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
        sums: EpochProgress,
        rng_start: dict[str, Any] | None,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
    ) -> None:
        assert self.run_dir is not None
        state = {
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
        save_resume_point(self.run_dir, self.model.state_dict(), self._step, state)

    def _load_resume(
        self, optimizer: torch.optim.Optimizer, scheduler: Any
    ) -> tuple[int, EpochProgress, dict[str, Any] | None, dict[str, Any] | None]:
        assert self.run_dir is not None
        state_path = self.run_dir / STATE_FILE
        if not state_path.exists():
            raise ValueError(
                f"resume=True but {state_path} does not exist; nothing to resume "
                "(train without resume, or point run_dir at the interrupted run)."
            )
        saved_config = read_config(self.run_dir)
        if self.model_config is not None and saved_config.get("model") != self.model_config:
            raise ValueError(
                f"{self.run_dir} was trained with model config {saved_config.get('model')}, "
                f"not {self.model_config}; resume with the same model."
            )
        changed = sorted(
            k
            for k, v in self.config.to_dict().items()
            if k not in RESUME_FREE_FIELDS and saved_config.get("train", {}).get(k, v) != v
        )
        if changed:
            warnings.warn(
                f"resuming {self.run_dir} with changed training settings {changed}; the "
                "figures will differ from an uninterrupted run.",
                stacklevel=3,
            )
        state = read_resume_state(self.run_dir)
        load_model_weights(self.model, self.run_dir / LAST_WEIGHTS, device=self.device or "cpu")
        try:
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None and state["scheduler"] is not None:
                scheduler.load_state_dict(state["scheduler"])
            partial = EpochProgress(**state["progress"])
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

    def _write_history(self, plot: bool) -> None:
        assert self.run_dir is not None
        drawn = write_history(self.run_dir, self.history, plot)
        if drawn is not None:
            self._plotted_at = drawn

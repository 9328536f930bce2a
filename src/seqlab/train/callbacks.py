"""Callbacks for the Trainer, and the TensorBoard and MLflow loggers.

A callback is any :class:`Callback` subclass; the Trainer calls its hooks on the main
rank only, in the order the callbacks were given:

- ``on_fit_start(start)`` once before the first epoch, with a :class:`FitStart`;
- ``on_batch_end(event)`` after each optimiser step, ``event.metrics == {"loss": ...}``
  (the batch's mean loss; reading it waits for the device, so the Trainer reads it only
  when some callback overrides this hook);
- ``on_epoch_end(event)`` after each epoch's validation, ``event.metrics`` the epoch's
  history record (``train_loss``, ``valid_loss``, ``valid_accuracy``, ``seconds``, ...);
- ``on_checkpoint(event)`` after the run folder's resumable state was written;
- ``on_fit_end(history)`` once when ``fit`` returns or stops (Ctrl-C, an error).

Callbacks given to the Trainer (``Trainer(..., callbacks=[...])``) and those attached
for a block of code with :func:`attached` (for Trainers built deep inside other code,
such as a forecaster's fit in a backtest) are both called.

The loggers import their packages when built: ``TensorBoardLogger`` needs
``pip install 'seqlab[tensorboard]'``, ``MLflowLogger`` ``pip install 'seqlab[mlflow]'``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Callback",
    "FitStart",
    "MLflowLogger",
    "TensorBoardLogger",
    "TrainEvent",
    "attached",
    "make_logger",
]

#: The local MLflow store's database file, in the logger's folder.
STORE_FILE = "mlflow.db"

#: Logger names :func:`make_logger` knows.
LOGGERS = ("tensorboard", "mlflow")


@dataclass(frozen=True)
class TrainEvent:
    """What a hook is told.

    Attributes
    ----------
    epoch : int
        The epoch, counted from 1.
    step : int
        Optimiser steps taken so far in this run.
    metrics : Mapping[str, float]
        ``{"loss": ...}`` for a batch; the epoch's history record for an epoch or a
        checkpoint.
    run_dir : Path or None
        The Trainer's run folder, None when it keeps everything in memory.
    """

    epoch: int
    step: int
    metrics: Mapping[str, float]
    run_dir: Path | None


@dataclass(frozen=True)
class FitStart:
    """What ``on_fit_start`` is told.

    Attributes
    ----------
    config : dict
        The training config (``TrainConfig.to_dict()``) plus ``model`` (the model's
        registry config, or None) and ``task`` (the task's description).
    run_dir : Path or None
        The Trainer's run folder, None when it keeps everything in memory.
    resume : bool
        Whether this fit continues a saved run.
    """

    config: dict[str, Any]
    run_dir: Path | None
    resume: bool = False


class Callback:
    """Base class: every hook does nothing; override those you need."""

    def on_fit_start(self, start: FitStart) -> None:
        """Called once before the first epoch."""

    def on_batch_end(self, event: TrainEvent) -> None:
        """Called after each optimiser step."""

    def on_epoch_end(self, event: TrainEvent) -> None:
        """Called after each epoch and its validation."""

    def on_checkpoint(self, event: TrainEvent) -> None:
        """Called after the resumable state was written to the run folder."""

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        """Called once when fit ends, also when it stops on Ctrl-C or an error."""


def wants_batches(callbacks: Sequence[Callback]) -> bool:
    """Whether any callback overrides ``on_batch_end`` and has not set ``batch_events``
    false (the Trainer then reads each batch's loss)."""
    return any(
        type(c).on_batch_end is not Callback.on_batch_end and getattr(c, "batch_events", True)
        for c in callbacks
    )


def check_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list, each a :class:`Callback` (TypeError otherwise)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback, got {type(callbacks).__name__}.")
    for item in callbacks:
        if not isinstance(item, Callback):
            raise TypeError(
                f"each callback must be a seqlab.train.callbacks.Callback, got "
                f"{type(item).__name__}."
            )
    return list(callbacks)


_ATTACHED: contextvars.ContextVar[tuple[Callback, ...]] = contextvars.ContextVar(
    "seqlab_train_callbacks", default=()
)


@contextlib.contextmanager
def attached(callbacks: Sequence[Callback]) -> Iterator[None]:
    """Call ``callbacks`` from every Trainer's ``fit`` inside this block.

    Parameters
    ----------
    callbacks : sequence of Callback
        Added after each Trainer's own callbacks, for fits that start in the block.
    """
    checked = check_callbacks(list(callbacks))
    token = _ATTACHED.set(_ATTACHED.get() + tuple(checked))
    try:
        yield
    finally:
        _ATTACHED.reset(token)


def attached_callbacks() -> list[Callback]:
    """The callbacks :func:`attached` holds in this context."""
    return list(_ATTACHED.get())


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric figures of a record, without the epoch counter."""
    out = {}
    for key, value in metrics.items():
        if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[key] = float(value)
    return out


def _missing(package: str, extra: str) -> ImportError:
    return ImportError(
        f"the {extra} logger needs the {package} package: pip install 'seqlab[{extra}]'"
    )


class _PerFit(Callback):
    """A logger that opens one run per fit: ``fit-1``, ``fit-2``, ... after the first."""

    def __init__(self, log_dir: str | os.PathLike | None) -> None:
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"log_dir must be a path or None, got {type(log_dir).__name__}.")
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.fits = 0

    def _folder(self, run_dir: Path | None, name: str) -> Path:
        base = self.log_dir if self.log_dir is not None else run_dir
        if base is None:
            raise ValueError(
                f"the {name} logger has no folder: give the Trainer a run_dir or the "
                "logger a log_dir."
            )
        return base


class TensorBoardLogger(_PerFit):
    """Scalars per epoch (and per batch with ``batches=True``) as TensorBoard event files.

    Parameters
    ----------
    log_dir : path or None
        Folder for the event files; None: ``<run_dir>/tensorboard``. A second fit with
        the same logger writes to ``fit-2`` under it, and so on.
    batches : bool
        Also record each batch's loss as ``batch/loss`` against the step.

    Raises
    ------
    ImportError
        When ``tensorboard`` is not installed (``pip install 'seqlab[tensorboard]'``).

    Notes
    -----
    Epoch figures are tagged ``train/loss``, ``valid/loss``, ``valid/accuracy``, ...
    (other record fields such as ``lr`` and ``seconds`` keep their name), with the epoch
    as the step. The config is written as text under the tag ``config``.
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, *, batches: bool = False):
        super().__init__(log_dir)
        try:
            import tensorboard  # noqa: F401
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise _missing("tensorboard", "tensorboard") from None
        self._writer_class = SummaryWriter
        self.batches = bool(batches)
        self.writer: Any = None
        self.folder: Path | None = None
        # Without batch figures, the Trainer need not read each batch's loss for it.
        self.batch_events = self.batches

    def on_fit_start(self, start: FitStart) -> None:
        import json

        self.fits += 1
        folder = self._folder(start.run_dir, "tensorboard")
        folder = folder / "tensorboard" if self.log_dir is None else folder
        if self.fits > 1:
            folder = folder / f"fit-{self.fits}"
        self.folder = folder
        self.writer = self._writer_class(log_dir=str(folder))
        self.writer.add_text("config", json.dumps(start.config, indent=1, default=str))

    def on_batch_end(self, event: TrainEvent) -> None:
        if self.writer is not None and self.batches:
            self.writer.add_scalar("batch/loss", event.metrics["loss"], event.step)

    def on_epoch_end(self, event: TrainEvent) -> None:
        if self.writer is None:
            return
        for key, value in _numbers(event.metrics).items():
            split, _, name = key.partition("_")
            tag = f"{split}/{name}" if split in ("train", "valid") and name else key
            self.writer.add_scalar(tag, value, event.epoch)
        self.writer.flush()

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class MLflowLogger(_PerFit):
    """Epoch figures as MLflow metrics and the config as parameters, one MLflow run per fit.

    Parameters
    ----------
    tracking_uri : str or None
        Any MLflow tracking URI (``http://host:5000``, ``sqlite:///mlflow.db``, ...);
        None: a local store in ``log_dir``, the SQLite file ``mlflow.db`` with the
        artifacts beside it in ``artifacts/`` (MLflow 3 refuses plain ``file:`` stores
        unless ``MLFLOW_ALLOW_FILE_STORE=true``). Read it back with
        ``MlflowClient(tracking_uri="sqlite:///<log_dir>/mlflow.db")`` or
        ``mlflow ui --backend-store-uri sqlite:///<log_dir>/mlflow.db``.
    log_dir : path or None
        The local store's folder when ``tracking_uri`` is None; None:
        ``<run_dir>/mlruns``.
    experiment : str
        Experiment name (created when missing).
    run_name : str or None
        Name of the MLflow run; None: the run folder's name, else MLflow's default.

    Raises
    ------
    ImportError
        When ``mlflow`` is not installed (``pip install 'seqlab[mlflow]'``).

    Notes
    -----
    Metrics are logged per epoch (step = epoch) under the history's names
    (``train_loss``, ``valid_loss``, ``valid_accuracy``, ``lr``, ``seconds``, ...).
    Parameters are the config's fields, nested ones flattened as ``model.hidden_size``.
    The run ends ``FINISHED``, ``KILLED`` (Ctrl-C) or ``FAILED`` (an error).
    ``run_id`` holds the last run's id. The logger uses an ``MlflowClient`` of its own
    and leaves MLflow's global active run alone.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        log_dir: str | os.PathLike | None = None,
        experiment: str = "seqlab",
        run_name: str | None = None,
    ) -> None:
        super().__init__(log_dir)
        if tracking_uri is not None and not isinstance(tracking_uri, str):
            raise TypeError(f"tracking_uri must be a string, got {type(tracking_uri).__name__}.")
        if not isinstance(experiment, str) or not experiment:
            raise ValueError(f"experiment must be a non-empty string, got {experiment!r}.")
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise _missing("mlflow", "mlflow") from None
        self._client_class = MlflowClient
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.client: Any = None
        self.run_id: str | None = None

    def on_fit_start(self, start: FitStart) -> None:
        self.fits += 1
        uri, artifacts = self.tracking_uri, None
        if uri is None:
            folder = self._folder(start.run_dir, "mlflow")
            folder = folder / "mlruns" if self.log_dir is None else folder
            folder.mkdir(parents=True, exist_ok=True)
            uri = f"sqlite:///{(folder / STORE_FILE).resolve()}"
            artifacts = (folder / "artifacts").resolve().as_uri()
        self.uri = uri
        self.client = self._client_class(tracking_uri=uri)
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            experiment_id = found.experiment_id
        else:
            experiment_id = self.client.create_experiment(
                self.experiment, artifact_location=artifacts
            )
        name = self.run_name or (start.run_dir.name if start.run_dir is not None else None)
        if name is not None and self.fits > 1:
            name = f"{name}-fit-{self.fits}"
        run = self.client.create_run(experiment_id, run_name=name)
        self.run_id = run.info.run_id
        from mlflow.entities import Param

        params = [Param(k, str(v)[:500]) for k, v in _flatten(start.config).items()]
        for first in range(0, len(params), 100):
            self.client.log_batch(self.run_id, params=params[first : first + 100])

    def on_epoch_end(self, event: TrainEvent) -> None:
        if self.client is None or self.run_id is None:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, event.epoch) for k, v in _numbers(event.metrics).items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def on_fit_end(self, history: Sequence[Mapping[str, float]]) -> None:
        if self.client is not None and self.run_id is not None:
            # fit calls this hook from a ``finally``: an exception on its way out is the
            # reason the fit ended.
            error = sys.exc_info()[1]
            status = (
                "FINISHED"
                if error is None
                else "KILLED"
                if isinstance(error, KeyboardInterrupt)
                else "FAILED"
            )
            self.client.set_terminated(self.run_id, status=status)
        self.client = None


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def make_logger(
    name: str,
    *,
    log_dir: str | os.PathLike | None = None,
    tracking_uri: str | None = None,
) -> Callback:
    """A logger by name: ``"tensorboard"`` or ``"mlflow"``.

    Parameters
    ----------
    name : str
        ``"tensorboard"`` or ``"mlflow"``.
    log_dir : path or None
        Base folder: TensorBoard writes to ``<log_dir>/tensorboard``, the local MLflow
        store is ``<log_dir>/mlruns``; None: the same under the Trainer's run folder.
    tracking_uri : str or None
        MLflow only: a tracking URI instead of the local store.

    Raises
    ------
    ValueError
        For an unknown name.
    ImportError
        When the logger's package is missing (the message names the extra).
    """
    if name == "tensorboard":
        return TensorBoardLogger(Path(log_dir) / "tensorboard" if log_dir is not None else None)
    if name == "mlflow":
        return MLflowLogger(
            tracking_uri, log_dir=Path(log_dir) / "mlruns" if log_dir is not None else None
        )
    raise ValueError(f"unknown logger {name!r}; choose from {list(LOGGERS)}.")

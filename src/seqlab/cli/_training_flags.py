"""The flags every training command shares: ``--seed``, ``--device``, ``--log``, ``--quiet``.

``add_training_flags(parser)`` adds them; ``check_device(args.device)`` refuses ``cuda``
on a machine without one before any data is read; ``training_callbacks(args, folder)``
builds the loggers ``--log`` names (and the per-epoch lines), to pass to a Trainer or to
attach with :func:`seqlab.train.callbacks.attached`. Nothing here imports torch until a
command runs.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

LOGGERS = ("tensorboard", "mlflow")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_SEED = 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def _loggers(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in LOGGERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"choose from {', '.join(LOGGERS)} (comma-separated or repeated), got {text!r}"
        )
    return names


def add_training_flags(
    parser: argparse.ArgumentParser, *, quiet: bool = True, run_folder: bool = True
) -> None:
    """Add ``--seed``, ``--device``, ``--log``, ``--log-dir``, ``--tracking-uri`` (and ``--quiet``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The training command's parser.
    quiet : bool
        Also add ``--quiet`` (no progress bar, no per-epoch lines).
    run_folder : bool
        Whether the command writes a run folder (the loggers' default folder); without
        one, ``--log`` needs ``--log-dir``.
    """
    group = parser.add_argument_group("training")
    group.add_argument(
        "--seed",
        type=_seed,
        default=None,  # None: DEFAULT_SEED, or the saved seed when resuming
        help=f"seeds weights, dropout and data order; same seed, same figures "
        f"(default {DEFAULT_SEED})",
    )
    group.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where to train: auto (CUDA when available), cpu or cuda (default auto)",
    )
    group.add_argument(
        "--log",
        type=_loggers,
        action="append",
        default=[],
        metavar="{tensorboard,mlflow}",
        help="also log training to tensorboard and/or mlflow (repeat or comma-separate); "
        "needs pip install 'seqlab[tensorboard]' / 'seqlab[mlflow]'",
    )
    group.add_argument(
        "--log-dir",
        help="folder for the --log files: tensorboard/ and mlruns/ (MLflow's local store) "
        + ("in it (default: the run folder)" if run_folder else "in it (needed with --log)"),
    )
    group.add_argument(
        "--tracking-uri", help="MLflow tracking URI instead of the local store in --log-dir"
    )
    if quiet:
        group.add_argument(
            "--quiet", action="store_true", help="no progress bar and no per-epoch lines"
        )


def logger_names(args: argparse.Namespace) -> list[str]:
    """The loggers ``--log`` asked for, each once, in the order first given."""
    names: list[str] = []
    for group in getattr(args, "log", None) or []:
        names.extend(n for n in group if n not in names)
    return names


def check_device(device: str) -> None:
    """Refuse ``--device cuda`` where torch sees no CUDA device (a one-line ValueError)."""
    if device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        raise ValueError(
            "--device cuda: no CUDA device is available here (torch "
            f"{torch.__version__}); use --device auto or cpu."
        )


def check_training_flags(args: argparse.Namespace, folder: str | Path | None) -> None:
    """Check ``--device``, the loggers' packages and folder, before any data is read.

    Raises
    ------
    ValueError
        ``--device cuda`` without CUDA; a ``--log`` whose package is not installed (the
        message names the extra); loggers with no folder; ``--tracking-uri`` without
        ``--log mlflow``.
    """
    import importlib.util

    check_device(args.device)
    names = logger_names(args)
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise ValueError(f"--log {name} needs the {name} package: pip install 'seqlab[{name}]'")
    if args.tracking_uri and "mlflow" not in names:
        raise ValueError("--tracking-uri is for MLflow: add --log mlflow.")
    needs_folder = "tensorboard" in names or ("mlflow" in names and not args.tracking_uri)
    if needs_folder and folder is None and not args.log_dir:
        raise ValueError(f"--log {','.join(names)}: give --log-dir, the folder for its files.")


def training_callbacks(
    args: argparse.Namespace,
    folder: str | Path | None,
    *,
    epoch_lines: bool = False,
    loss_units: str = "",
) -> list[Any]:
    """The callbacks the flags ask for: loggers, then per-epoch lines.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags from :func:`add_training_flags`.
    folder : path or None
        Default folder for the loggers' files when ``--log-dir`` is not given.
    epoch_lines : bool
        Add :func:`epoch_lines_callback` (on stderr) unless ``--quiet`` or ``-v`` (which logs the
        epoch figures itself).
    loss_units : str
        Shown after the epoch in the per-epoch lines, e.g. ``"scaled"``.

    Raises
    ------
    ImportError
        When a logger's package is missing; the message names the extra to install.
    """
    from seqlab.train.callbacks import make_logger

    log_dir = args.log_dir or folder
    callbacks: list[Any] = []
    for name in logger_names(args):
        try:
            callbacks.append(make_logger(name, log_dir=log_dir, tracking_uri=args.tracking_uri))
        except ImportError as exc:  # a package that is there but does not import
            raise ValueError(f"--log {name}: {exc}") from None
    quiet = getattr(args, "quiet", False)
    if "mlflow" in logger_names(args) and not getattr(args, "verbose", False):
        # MLflow logs its store's set-up at INFO through a handler of its own; the
        # command shows INFO lines with -v only.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
    if epoch_lines and not quiet and not getattr(args, "verbose", False):
        callbacks.append(epoch_lines_callback(loss_units))
    return callbacks


def logger_lines(callbacks: Sequence[Any]) -> list[str]:
    """Where each logger wrote, with the command that shows it (one line per logger)."""
    import shlex

    from seqlab.train.callbacks import MLflowLogger, TensorBoardLogger

    lines = []
    for callback in callbacks:
        if isinstance(callback, TensorBoardLogger) and callback.folder is not None:
            root = callback.folder.parent if callback.fits > 1 else callback.folder
            lines.append(
                f"tensorboard: event files in {root}; view: "
                f"tensorboard --logdir {shlex.quote(str(root))}"
            )
        elif isinstance(callback, MLflowLogger) and callback.run_id is not None:
            runs = f"{callback.fits} runs" if callback.fits > 1 else f"run {callback.run_id}"
            lines.append(
                f"mlflow: {runs} in experiment {callback.experiment!r} at {callback.uri}; "
                f"view: mlflow ui --backend-store-uri {shlex.quote(callback.uri)}"
            )
    return lines


def significant(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, zeros kept (``0.1900``, ``1235``, ``nan``)."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:#.{digits}g}"
    return text.rstrip(".") if "e" not in text else text


def epoch_line(record: Mapping[str, float], epochs: int | None, loss_units: str = "") -> str:
    """One epoch as a line: ``epoch 2/5  train loss 0.4123  valid loss 0.4321 ...  3.2 s``.

    Figures have 4 significant digits (accuracy 4 decimals); ``loss_units``, when given,
    follows the epoch as ``[scaled]``.
    """
    width = len(str(epochs)) if epochs else 1
    head = f"epoch {int(record['epoch']):>{width}}" + (f"/{epochs}" if epochs else "")
    parts = [head + (f" [{loss_units}]" if loss_units else "")]
    for split in ("train", "valid"):
        figures = [
            (key[len(split) + 1 :], value)
            for key, value in record.items()
            if key.startswith(split + "_")
        ]
        for name, value in figures:
            text = f"{value:.4f}" if name == "accuracy" else significant(value)
            parts.append(f"{split} {name} {text}")
    if "seconds" in record:
        seconds = record["seconds"]
        parts.append(f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2g} s")
    return "  ".join(parts)


def epoch_lines_callback(loss_units: str = "", stream: TextIO | None = None) -> Any:
    """A Trainer callback printing :func:`epoch_line` per epoch, a line that stays.

    The progress bar is cleared at each epoch's end; this line is what remains of it.
    It goes to ``stream`` (default: stderr at the time of printing), flushed each time.
    """
    from seqlab.train.callbacks import Callback

    class EpochLines(Callback):
        def __init__(self) -> None:
            self.epochs: int | None = None

        def on_fit_start(self, start: Any) -> None:
            self.epochs = start.config.get("epochs")

        def on_epoch_end(self, event: Any) -> None:
            out = stream if stream is not None else sys.stderr
            print(epoch_line(event.metrics, self.epochs, loss_units), file=out, flush=True)

    return EpochLines()


def describe_history(
    history: Sequence[Mapping[str, float]], epochs: int | None = None, restore_best: bool = True
) -> str:
    """A fit's history in two lines: its last epoch's figures, and its best validation loss.

    Parameters
    ----------
    history : sequence of dict
        The Trainer's history (one record per epoch).
    epochs : int or None
        The most epochs the fit could run (shown as ``37 of 100 epochs``).
    restore_best : bool
        Whether the fit ended with its best epoch's weights (said after the best figure).
    """
    if not history:
        return "no epochs"
    ran = f"{len(history)} of {epochs} epochs" if epochs else f"{len(history)} epochs"
    last = epoch_line(history[-1], None).split("  ", 1)[1]
    lines = [f"{ran}; last epoch: {last}"]
    key = "valid_loss" if "valid_loss" in history[-1] else "train_loss"
    best = min(history, key=lambda r: r[key] if math.isfinite(r[key]) else math.inf)
    lines.append(
        f"best {key.replace('_', ' ')} {significant(best[key])} at epoch {int(best['epoch'])}"
        + (" (its weights are the ones kept)" if restore_best else "")
    )
    return "\n".join(lines)

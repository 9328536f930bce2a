"""Tasks: how a model's output and a batch become a loss and summable metric totals.

The Trainer never averages averages. Per batch a task returns the *mean* loss (what is
back-propagated) and metric *totals* (sums over the batch: correct predictions, absolute
errors, squared errors, element counts). The Trainer adds totals over batches (and over
ranks under torch.distributed) and only then divides, in :meth:`Task.summarize`, so an
epoch figure is the per-sample average whatever the batch sizes. The training loss is
kept the same way: ``sum(batch mean * batch size) / samples``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["ClassificationTask", "RegressionTask", "Task"]


class Task:
    """Base task. Subclasses implement :meth:`loss`, :meth:`totals`, :meth:`summarize`.

    ``higher_is_better`` names metrics that improve upwards (for early stopping's mode);
    every other metric, and the loss, improves downwards.
    """

    name = "task"
    metric_names: tuple[str, ...] = ()
    higher_is_better: frozenset[str] = frozenset()

    def forward(self, model: torch.nn.Module, batch: Mapping[str, Any]) -> Any:
        """Call the model: ``model(inputs, lengths=lengths)`` when the batch has lengths."""
        lengths = batch.get("lengths")
        if lengths is not None:
            return model(batch["inputs"], lengths=lengths)
        return model(batch["inputs"])

    def count(self, batch: Mapping[str, Any]) -> int:
        """Samples in ``batch`` (the size of the targets' first dimension)."""
        return int(batch["targets"].shape[0])

    def loss(self, output: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        """The batch's mean loss (a 0-d tensor that is back-propagated)."""
        raise NotImplementedError

    def totals(self, output: Any, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Summable metric totals for the batch (0-d tensors, gradient-free)."""
        raise NotImplementedError

    def summarize(self, totals: Mapping[str, float], count: int) -> dict[str, float]:
        """Turn totals summed over every batch (and rank) into the reported metrics."""
        raise NotImplementedError

    def mode(self, metric: str) -> str:
        """``"max"`` when a larger ``metric`` is better, else ``"min"``."""
        base = metric.split("_", 1)[1] if metric.startswith(("train_", "valid_")) else metric
        return "max" if base in self.higher_is_better else "min"

    def describe(self) -> dict[str, Any]:
        """JSON description saved in a run's config.json."""
        return {"name": self.name}


def _logits(output: Any) -> torch.Tensor:
    if isinstance(output, (tuple, list)):
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"the model must return a tensor of logits, got {type(output).__name__}.")
    return output


class ClassificationTask(Task):
    """Cross-entropy loss on logits ``(N, C)`` against class indices ``(N,)``; accuracy.

    ``label_smoothing`` is passed to :func:`torch.nn.functional.cross_entropy`.
    """

    name = "classification"
    metric_names = ("accuracy",)
    higher_is_better = frozenset({"accuracy"})

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def _check(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        if logits.ndim != 2 or targets.ndim != 1 or logits.shape[0] != targets.shape[0]:
            raise ValueError(
                "ClassificationTask needs logits of shape (N, C) and targets of shape (N,); "
                f"got logits {tuple(logits.shape)} and targets {tuple(targets.shape)}."
            )
        if targets.dtype.is_floating_point:
            raise TypeError(
                f"classification targets must be integer class indices, got {targets.dtype}; "
                "convert them with .long()."
            )

    def loss(self, output: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        logits, targets = _logits(output), batch["targets"]
        self._check(logits, targets)
        return F.cross_entropy(logits.float(), targets, label_smoothing=self.label_smoothing)

    def totals(self, output: Any, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        logits, targets = _logits(output), batch["targets"]
        return {"correct": (logits.argmax(dim=1) == targets).sum()}

    def summarize(self, totals: Mapping[str, float], count: int) -> dict[str, float]:
        return {"accuracy": totals.get("correct", 0.0) / count if count else math.nan}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label_smoothing": self.label_smoothing}


class RegressionTask(Task):
    """Mean squared error (or ``loss="mae"``/``"huber"``) with MAE and RMSE reported.

    Output and targets must have the same shape (``(N,)``, ``(N, H)`` for an H-step
    forecast, ...); a lone trailing dimension of size 1 on either side is dropped, any
    other mismatch is an error rather than a silent broadcast. MAE and RMSE average over
    every target element: ``MAE = sum|e| / n``, ``RMSE = sqrt(sum e^2 / n)``.
    """

    name = "regression"
    metric_names = ("mae", "rmse")
    _losses = ("mse", "mae", "huber")

    def __init__(self, loss: str = "mse", huber_delta: float = 1.0) -> None:
        if loss not in self._losses:
            raise ValueError(f"loss must be one of {self._losses}, got {loss!r}.")
        if not float(huber_delta) > 0:
            raise ValueError(f"huber_delta must be > 0, got {huber_delta!r}.")
        self.loss_name = loss
        self.huber_delta = float(huber_delta)

    def _pair(self, output: Any, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        pred, targets = _logits(output), batch["targets"]
        if pred.shape != targets.shape:
            if pred.ndim == targets.ndim + 1 and pred.shape[-1] == 1:
                pred = pred.squeeze(-1)
            elif targets.ndim == pred.ndim + 1 and targets.shape[-1] == 1:
                targets = targets.squeeze(-1)
        if pred.shape != targets.shape:
            raise ValueError(
                f"RegressionTask: model output shape {tuple(pred.shape)} does not match "
                f"targets shape {tuple(targets.shape)}; they must be equal."
            )
        return pred.float(), targets.float()

    def loss(self, output: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        pred, targets = self._pair(output, batch)
        if self.loss_name == "mse":
            return F.mse_loss(pred, targets)
        if self.loss_name == "mae":
            return F.l1_loss(pred, targets)
        return F.huber_loss(pred, targets, delta=self.huber_delta)

    def totals(self, output: Any, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        pred, targets = self._pair(output, batch)
        error = pred - targets
        return {
            "abs_error": error.abs().sum(),
            "sq_error": error.square().sum(),
            "elements": torch.tensor(float(error.numel()), device=error.device),
        }

    def summarize(self, totals: Mapping[str, float], count: int) -> dict[str, float]:
        elements = totals.get("elements", 0.0)
        if not elements:
            return {"mae": math.nan, "rmse": math.nan}
        return {
            "mae": totals["abs_error"] / elements,
            "rmse": math.sqrt(totals["sq_error"] / elements),
        }

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "loss": self.loss_name, "huber_delta": self.huber_delta}

"""The passes over the batches: one training epoch, one evaluation, per-sample figures.

A training step and an evaluation step share one body: check the batch, count its
samples and tokens, move it to the device, run the task's forward and loss (under
autocast), and add ``loss * samples`` and the task's totals to :class:`PassSums`. The
training pass adds the backward step, clipping, the optimizer and a per-step schedule
between the forward and the sums; the evaluation pass runs under ``torch.no_grad``.

Figures are per-sample averages: the loss is ``sum(batch mean * batch size) /
samples`` and metrics come from totals summed over batches (and ranks) before dividing
(see :mod:`seqlab.train.tasks`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.train import distributed as dist_utils
from seqlab.train.checkpoint import capture_rng, restore_rng
from seqlab.train.progress import ProgressBar
from seqlab.train.signals import StopRequest
from seqlab.train.tasks import Task

__all__ = ["EpochProgress", "PassSums", "evaluate_pass", "figures", "train_pass"]

# Under DDP on GPUs, agreeing on a Ctrl-C is a synchronisation: sought every this many
# batches only.
STOP_CHECK_EVERY_CUDA = 16


@dataclass
class EpochProgress:
    """Running sums of one pass; everything needed to continue it after a resume."""

    loss_sum: float = 0.0
    count: int = 0
    tokens: int = 0
    totals: dict[str, float] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    batches_done: int = 0
    lr: float = math.nan  # learning rate of the last step taken (the output-side group's)


class PassSums:
    """The sums a pass accumulates on the device, continuing from ``start``."""

    def __init__(self, device: torch.device, start: EpochProgress | None = None) -> None:
        start = EpochProgress() if start is None else start
        self.loss_sum = torch.tensor(start.loss_sum, dtype=torch.float64, device=device)
        self.totals = {
            k: torch.tensor(v, dtype=torch.float64, device=device) for k, v in start.totals.items()
        }
        self.count = start.count
        self.tokens = start.tokens

    def add(self, task: Task, step: Step) -> None:
        """Add one batch: ``loss * samples`` and the task's totals of its output."""
        with torch.no_grad():
            self.loss_sum += step.loss.detach().double() * step.count
            for key, value in task.totals(_detach(step.output), step.batch).items():
                self.totals[key] = self.totals.get(key, 0) + value.double()
        self.count += step.count

    def running(self, task: Task) -> dict[str, float]:
        """The per-sample loss and metrics so far (reads the device)."""
        figures = {"loss": self.loss_sum.item() / max(self.count, 1)}
        figures.update(task.summarize({k: v.item() for k, v in self.totals.items()}, self.count))
        return figures

    def progress(self, seconds: float, batches_done: int = 0, lr: float = math.nan):
        """The sums as an :class:`EpochProgress` (host values)."""
        return EpochProgress(
            loss_sum=float(self.loss_sum.item()),
            count=self.count,
            tokens=self.tokens,
            totals={k: float(v.item()) for k, v in self.totals.items()},
            seconds=seconds,
            batches_done=batches_done,
            lr=lr,
        )


@dataclass
class Step:
    """One batch after the forward pass: the batch on the device, its sample count, the
    output and the (mean) loss."""

    batch: dict[str, Any]
    count: int
    output: Any
    loss: torch.Tensor


def forward_step(
    task: Task,
    net: torch.nn.Module,
    raw: Any,
    device: torch.device,
    autocast: Callable[[], Any],
    sums: PassSums,
) -> Step:
    """Check ``raw``, count its tokens into ``sums``, move it to ``device`` and run the
    task's forward and loss under ``autocast()``."""
    _check_batch(raw)
    count = task.count(raw)
    sums.tokens += _count_tokens(raw)
    batch = _to_device(raw, device)
    with autocast():
        output = task.forward(net, batch)
        loss = task.loss(output, batch)
    return Step(batch=batch, count=count, output=output, loss=loss)


def train_pass(
    *,
    net: torch.nn.Module,
    model: torch.nn.Module,
    task: Task,
    batches: Iterable[Any],
    epoch: int,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    per_step_schedule: bool,
    grad_clip: float | None,
    device: torch.device,
    autocast: Callable[[], Any],
    dist: dist_utils.DistContext,
    stop: StopRequest,
    progress: EpochProgress,
    rng_at_start: dict[str, Any] | None,
    rng_now: dict[str, Any] | None,
    show_progress: bool,
    on_step: Callable[[torch.Tensor], None],
) -> tuple[EpochProgress, dict[str, Any], bool]:
    """One training pass: its sums, the RNG state it started from, whether Ctrl-C cut it.

    ``net`` runs the forward pass (the DDP wrapper under torchrun), ``model`` owns the
    parameters clipped. When ``progress.batches_done`` > 0 (a resumed pass), the RNG
    state the pass started from is put back, the data order rebuilt, the done batches
    skipped without training and the RNG state at the interruption put back.
    ``on_step(loss)`` runs after each optimizer step.

    Raises
    ------
    ValueError
        A resumed pass whose batches now end before the batches already done.
    TypeError
        A batch that is not a dict with ``inputs`` and ``targets``.
    """
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
    bar = ProgressBar(show_progress, total, f"epoch {epoch + 1}/{epochs}", initial=skip)
    net.train()
    sums = PassSums(device, progress)
    started = time.perf_counter() - progress.seconds
    batches_done = skip
    lr = progress.lr
    interrupted = False
    check_every = STOP_CHECK_EVERY_CUDA if dist.enabled and device.type == "cuda" else 1
    try:
        for raw in iterator:
            step = forward_step(task, net, raw, device, autocast, sums)
            optimizer.zero_grad(set_to_none=True)
            step.loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            lr = optimizer.param_groups[-1]["lr"]
            if per_step_schedule:
                scheduler.step()
            sums.add(task, step)
            batches_done += 1
            on_step(step.loss)
            postfix = None
            if bar.due():
                elapsed = max(time.perf_counter() - started, 1e-9)
                postfix = {k: f"{v:.4f}" for k, v in sums.running(task).items()}
                if sums.tokens:
                    postfix["tok/s"] = f"{sums.tokens / elapsed:,.0f}"
            bar.update(postfix)
            # Ranks agree on stopping at the same batch; on GPUs that agreement is a
            # synchronisation, so it is sought every few batches only.
            if batches_done % check_every == 0 and dist.any(stop.requested, device):
                stop.requested = interrupted = True
                break
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    return sums.progress(seconds, batches_done, lr), rng_at_start, interrupted


def evaluate_pass(
    *,
    model: torch.nn.Module,
    task: Task,
    batches: Iterable[Any],
    device: torch.device,
    autocast: Callable[[], Any],
) -> EpochProgress:
    """The sums of ``model`` (in eval mode, without gradients) over ``batches``."""
    model.eval()
    sums = PassSums(device)
    started = time.perf_counter()
    with torch.no_grad():
        for raw in batches:
            sums.add(task, forward_step(task, model, raw, device, autocast, sums))
    return sums.progress(time.perf_counter() - started)


def figures(
    sums: EpochProgress, task: Task, dist: dist_utils.DistContext, device: torch.device
) -> dict[str, float]:
    """Per-sample figures from ``sums``, added up over ranks first: ``loss``, the task's
    metrics, ``count`` and ``tokens``."""
    keys = sorted(sums.totals)
    reduced = dist.all_reduce_sum(
        [sums.loss_sum, float(sums.count), float(sums.tokens)] + [sums.totals[k] for k in keys],
        device,
    )
    loss_sum, count, tokens = reduced[0], int(reduced[1]), reduced[2]
    totals = dict(zip(keys, reduced[3:], strict=True))
    result = {"loss": loss_sum / count if count else math.nan}
    result.update(task.summarize(totals, count))
    result["count"] = count
    result["tokens"] = tokens
    return result


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


def _detach(output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output.detach()
    if isinstance(output, (tuple, list)):
        return type(output)(_detach(o) for o in output)
    return output

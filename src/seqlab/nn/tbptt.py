"""Truncated back-propagation through time, TBPTT(k1, k2).

A long sequence is run in chunks of ``k1`` steps; the recurrent state is carried from
chunk to chunk, and gradients flow back at most ``k2`` steps (Williams & Peng 1990;
Sutskever 2013, sec. 2.8.6; the textbook chapter backpropagates "only ~5 steps back").

How the k2 limit is kept exactly: the chunk covering steps ``[s, e)`` is run from the
state at step ``s - (k2 - k1)`` (clipped at 0), detached there, over the ``k2 - k1``
steps before the chunk again and then over the chunk, and only the chunk's own steps
enter its loss. The loss at step ``t`` therefore reaches back to step
``s - (k2 - k1)``, that is at most ``k2`` and at least ``k2 - k1 + 1`` steps, and steps
before that get exactly zero gradient from it. With ``k2 = k1`` (the default) this is
the usual "detach the state between chunks"; with ``k2 >= length`` and no optimizer
step in between, the summed chunk gradients equal full BPTT. ``tests/nn/test_tbptt.py``
checks both properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = ["TBPTTResult", "chunk_plan", "detach_state", "truncated_bptt"]

State = Any  # None, a Tensor, or a (nested) tuple of Tensors such as LSTM's (h, c)


@dataclass(frozen=True)
class TBPTTResult:
    """What one :func:`truncated_bptt` pass returns.

    loss: the chunk losses weighted by their share of the steps and summed (equals the
    mean loss over all steps when ``loss_fn`` is a mean over steps); state: the final
    state, detached, to carry into the next batch of the same streams; chunks: how many
    chunks were run.
    """

    loss: float
    state: State
    chunks: int


def detach_state(state: State) -> State:
    """The state with every tensor detached from the graph (tuples kept as tuples)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(part) for part in state)
    raise TypeError(
        f"state must be None, a Tensor or a tuple of Tensors, got {type(state).__name__}."
    )


def chunk_plan(length: int, k1: int, k2: int | None = None) -> Iterator[tuple[int, int, int]]:
    """Yield ``(replay_start, chunk_start, chunk_end)`` for each chunk of a sequence.

    The chunk's loss covers steps ``[chunk_start, chunk_end)``; it is run from the state
    at ``replay_start = max(chunk_start - (k2 - k1), 0)``.
    """
    k1, k2 = _check_k(k1, k2)
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}.")
    for start in range(0, length, k1):
        yield max(start - (k2 - k1), 0), start, min(start + k1, length)


def _check_k(k1: int, k2: int | None) -> tuple[int, int]:
    if isinstance(k1, bool) or not isinstance(k1, int) or k1 < 1:
        raise ValueError(f"k1 (steps per chunk) must be a positive int, got {k1!r}.")
    if k2 is None:
        return k1, k1
    if isinstance(k2, bool) or not isinstance(k2, int) or k2 < k1:
        raise ValueError(
            f"k2 (steps to back-propagate) must be an int >= k1={k1}, got {k2!r}. "
            "Use a smaller k1 to update more often than every k2 steps."
        )
    return k1, k2


def truncated_bptt(
    step: Callable[[Tensor, State], tuple[Tensor, State]],
    inputs: Tensor,
    targets: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    k1: int,
    k2: int | None = None,
    state: State = None,
    *,
    time_dim: int = 1,
    optimizer: torch.optim.Optimizer | None = None,
    grad_clip: float | None = None,
) -> TBPTTResult:
    """Run ``step`` over ``inputs`` in chunks of ``k1`` steps, back-propagating ``k2`` steps.

    step: ``step(chunk_inputs, state) -> (chunk_outputs, new_state)``; a seqlab or
        torch.nn recurrent layer fits as is, a model with a head fits as a small lambda.
    inputs, targets: tensors with time along ``time_dim`` (1 for batch-first, 0 for
        time-major); ``chunk_outputs`` must use the same ``time_dim``.
    loss_fn: ``loss_fn(chunk_outputs, chunk_targets)`` -> scalar mean loss of the chunk.
    k1: steps per chunk; k2: steps to back-propagate (``>= k1``, default ``k1``).
    state: initial state (None for the step's own default).
    optimizer: if given, ``optimizer.step()`` and ``zero_grad()`` after every chunk
        (the classic TBPTT update every k1 steps); if None, gradients accumulate in
        ``.grad`` over all chunks and the caller steps.
    grad_clip: clip the global gradient norm to this before each optimizer step.

    Returns a :class:`TBPTTResult`. The module docstring states exactly which steps each
    loss reaches.
    """
    if not isinstance(inputs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("inputs and targets must be torch.Tensors.")
    if inputs.dim() <= time_dim or targets.dim() <= time_dim:
        raise ValueError(
            f"time_dim={time_dim} is out of range for inputs of shape {tuple(inputs.shape)} "
            f"or targets of shape {tuple(targets.shape)}."
        )
    length = inputs.shape[time_dim]
    if targets.shape[time_dim] != length:
        raise ValueError(
            f"inputs and targets must have the same number of steps along time_dim="
            f"{time_dim}: got {length} and {targets.shape[time_dim]}."
        )
    k1, k2 = _check_k(k1, k2)
    if optimizer is None and grad_clip is not None:
        raise ValueError("grad_clip needs an optimizer (clipping happens before its step).")

    # Detached states at the step where a later chunk starts its replay.
    saved: dict[int, State] = {0: detach_state(state)}
    total = 0.0
    chunks = 0
    for replay_start, start, end in chunk_plan(length, k1, k2):
        next_replay = max(end - (k2 - k1), 0)
        current = saved.pop(replay_start)
        if next_replay == replay_start:
            saved[next_replay] = current
        outputs = []
        # Run up to the next chunk's replay point first, so its state can be saved there.
        for segment_start, segment_end in ((replay_start, next_replay), (next_replay, end)):
            if segment_end > segment_start:
                segment = inputs.narrow(time_dim, segment_start, segment_end - segment_start)
                segment_out, current = step(segment, current)
                outputs.append(segment_out)
                if segment_end == next_replay:
                    saved[next_replay] = detach_state(current)
        chunk_outputs = torch.cat(outputs, dim=time_dim) if len(outputs) > 1 else outputs[0]
        own_steps = chunk_outputs.narrow(time_dim, start - replay_start, end - start)
        loss = loss_fn(own_steps, targets.narrow(time_dim, start, end - start))
        weighted = loss * ((end - start) / length)
        if weighted.requires_grad:
            weighted.backward()
        if optimizer is not None:
            if grad_clip is not None:
                params = [p for group in optimizer.param_groups for p in group["params"]]
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            optimizer.zero_grad()
        total += float(weighted.detach())
        chunks += 1
        final_state = current
    return TBPTTResult(loss=total, state=detach_state(final_state), chunks=chunks)

"""Packed-row layout and path choice shared by the recurrences of :mod:`seqlab.nn.layers`.

What it computes: the index tensors of a packed batch (:class:`Schedule`), the grouping
of steps into chunks whose input projections are made by one matmul (:func:`chunks`),
and which implementation serves a call: autograd training (:mod:`seqlab.nn._training`)
or inference without autograd (:mod:`seqlab.nn._inference`) (:func:`wants_grad`), and
whether the numba float32 kernels (:mod:`seqlab.nn._kernels`) run the elementwise part
of a step (:func:`uses_kernels`, :func:`kernel`).

Layout: rows are in the order of ``torch.nn.utils.rnn.PackedSequence``: time-major,
sequences sorted by decreasing length, ``batch_sizes[t]`` rows at step t (a full batch
has every entry equal).

Tests: ``tests/nn/test_layers.py`` runs every layer configuration through these paths
against torch.nn and the plain cell loop; ``small_chunks`` there shrinks
``_CHUNK_ROWS`` so that chunk ends fall inside steps of every kind.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Schedule", "SizeViews", "chunks", "kernel", "schedule", "uses_kernels", "wants_grad"]


@dataclass(frozen=True)
class Schedule:
    """Index tensors for one packed batch layout.

    prev_index: for each packed row, the row of its previous state in
    ``cat(h0, outputs)`` along the row dimension (``< batch`` means the initial state).
    last_index: for each sequence, the packed row of its final state.
    reverse_index: for each packed row (step k of sequence b), the row of step
    ``length_b - 1 - k`` of the same sequence; applying it twice is the identity.
    """

    prev_index: Tensor
    last_index: Tensor
    reverse_index: Tensor


@functools.lru_cache(maxsize=256)
def schedule(batch_sizes: tuple[int, ...]) -> Schedule:
    """Build (and cache) the index tensors for a packed layout with these batch sizes."""
    num_steps, batch = len(batch_sizes), batch_sizes[0]
    sizes = torch.tensor(batch_sizes, dtype=torch.long)
    offsets = torch.zeros(num_steps, dtype=torch.long)
    offsets[1:] = torch.cumsum(sizes, 0)[:-1]
    step_of_row = torch.repeat_interleave(torch.arange(num_steps), sizes)
    column = torch.arange(int(sizes.sum())) - offsets[step_of_row]
    previous_offset = offsets[(step_of_row - 1).clamp(min=0)]
    prev_index = torch.where(step_of_row > 0, batch + previous_offset + column, column)
    lengths = (sizes.unsqueeze(0) > torch.arange(batch).unsqueeze(1)).sum(1)
    last_index = offsets[lengths - 1] + torch.arange(batch)
    reverse_index = offsets[lengths[column] - 1 - step_of_row] + column
    return Schedule(prev_index, last_index, reverse_index)


# Rows (steps x batch) of input projections made per matmul: 1024 rows x 4H floats stay
# in the L2 cache for H = 128, and the matmul is still large enough to run at full speed.
_CHUNK_ROWS = 1024


@functools.lru_cache(maxsize=256)
def chunks(batch_sizes: tuple[int, ...]) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """Consecutive steps grouped as (first row, last row + 1, step sizes), each group at
    most ``_CHUNK_ROWS`` rows unless a single step is larger."""
    groups, start, sizes = [], 0, []
    for size in batch_sizes:
        if sizes and sum(sizes) + size > _CHUNK_ROWS:
            groups.append((start, start + sum(sizes), tuple(sizes)))
            start, sizes = start + sum(sizes), []
        sizes.append(size)
    groups.append((start, start + sum(sizes), tuple(sizes)))
    return tuple(groups)


def summed_bias(bias_ih: Tensor | None, bias_hh: Tensor | None) -> Tensor | None:
    """``b_ih + b_hh`` (both added to every pre-activation), or None without biases."""
    return None if bias_ih is None else bias_ih + bias_hh


def wants_grad(*tensors: Tensor | None) -> bool:
    """Whether autograd would record an op on these tensors (else the inference path runs)."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


@functools.cache
def numba_available() -> bool:
    """Whether numba can be imported (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


def uses_kernels(x: Tensor) -> bool:
    """Whether the numba float32 kernels serve this input: float32 on the CPU, numba
    installed. They then run the elementwise part of every inference step (which also
    takes row maps, ``rows=``) and of the LSTM and GRU training forward steps."""
    return x.dtype == torch.float32 and x.device.type == "cpu" and numba_available()


def kernel(name: str):
    """The compiled kernel ``name`` of :mod:`seqlab.nn._kernels` (imports numba and
    compiles or loads that one kernel on first use; see :func:`seqlab.nn._kernels.compiled`)."""
    from seqlab.nn import _kernels

    return _kernels.compiled(name)


class SizeViews:
    """Views of ``state`` on its first ``size`` entries along ``dim``, made once per size.

    ``views[size]`` is ``state.narrow(dim, 0, size)``, cached, so a packed loop that
    runs the same batch sizes again and again builds each view once; ``views[n]`` for
    the full length ``n`` is ``state`` itself.
    """

    def __init__(self, state: Tensor, dim: int = 0) -> None:
        self.state = state
        self._dim = dim
        self._views: dict[int, Tensor] = {state.shape[dim]: state}

    def __getitem__(self, size: int) -> Tensor:
        view = self._views.get(size)
        if view is None:
            view = self._views[size] = self.state.narrow(self._dim, 0, size)
        return view

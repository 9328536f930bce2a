"""Fast recurrences over all steps of a batch: with a hand-written backward pass, and
without autograd for inference.

Training (``*_recurrence``): each function runs a whole recurrence in one
``torch.autograd.Function``. The input projections ``x_t W_ih^T + b`` are made a chunk
of steps at a time (one 2-D matmul per direction and chunk, just before those steps
run); the loop then does one batched matmul (``h W_hh^T``, added in place) and a few
in-place elementwise ops per step into preallocated buffers, and ``backward`` walks the
steps in reverse with the gradient formulas of the cell equations
(:mod:`seqlab.nn.cells`). Factors of those formulas that do not depend on the backward
recurrence are computed for all steps at once before its loop (and overwritten in place
by the gradients they scale); the weight and input gradients are single matmuls after
it. No autograd graph is built per step and every per-step view is made up front by one
``split`` call, which is where most of the time of a step-by-step implementation goes
on a CPU. The backward is first-order only (``once_differentiable``). Large buffers are
reused rather than freshly allocated: the backward's scratch memory (:class:`_Scratch`)
and, once nothing references them, the buffers a forward pass saved
(:class:`_SavedBlocks`); :func:`release_scratch` frees what is kept.

Inference (``*_inference``, when :func:`wants_grad` is false): one direction at a time
on 2-D tensors, nothing stored for a backward pass; see the section comment below.

On float32 CPU tensors (:func:`uses_kernels`) the elementwise part of a step, in
inference and in the LSTM and GRU training forward, is one numba-compiled loop
(vectorised rational tanh/sigmoid) instead of 5-8 ATen ops; float64 keeps the ATen ops.
GRU inference, batch 64, hidden 128, one thread, per step before (torch.profiler):
``h W_hh^T`` ~75 us plus the chunked input projection ~75 us, then sigmoid_ x2 32 us,
lerp 30 us, the bias copy of addmm 12 us, add_ x2 13 us, addcmul_ 6 us, sub_ 3.5 us
(~97 us of elementwise work); after: ``mm`` and one kernel call, 18 us. What remains
is the two matmuls (~85% of a step), already at this core's fp32 peak (~80-90
GFLOP/s), so rows where they dominate (hidden 256; the Elman RNN against the textbook
cell, which runs the same two matmuls) cannot gain much more. The inference kernels
also take a row map (``rows=``), so variable-length batches run on the padded input and
output without packing, reversing or scattering copies (:class:`_CompiledRun`).

Where a step's time went, measured with torch.profiler on this 2-core AVX2 machine
(batch 64, hidden 128, one thread): the ``h W_hh^T`` matmul ~105 us (~80 GFLOP/s); each
small elementwise op 2-3 us, except ATen's tanh (~30 us for 64 x 128, 5 ns per element,
4x its sigmoid); a Python scalar operand adds ~2 us per op; and first touches of freshly
allocated large buffers (page faults) cost as much as the matmuls that wrote them: a
fresh 32 MB buffer took 20 ms to fill, the whole-sequence projection's bias copy alone
was a third of an inference call. Elementwise ops this small stay on one thread (below
ATen's grain size), so a second thread only speeds up the matmuls.

Layout: a leading direction dimension ``D`` (1, or 2 for both directions of a
bidirectional layer, run by the same ops), then rows in the order of
``torch.nn.utils.rnn.PackedSequence`` (time-major, sequences sorted by decreasing
length, ``batch_sizes[t]`` rows at step t; a full batch has every entry equal). Every
direction here runs forwards in time: the caller hands the reverse direction its input
with each sequence reversed within its own length (``Schedule.reverse_index``), so it starts
at each sequence's true last step, and reverses the outputs back.

Reference: the step functions in :mod:`seqlab.nn.cells`; ``tests/nn/test_layers.py``
holds this path equal to them and to torch.nn, forward and backward.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

try:
    import numba
except ImportError:  # the inference path then runs on torch ops alone
    numba = None

__all__ = ["Schedule", "gru_recurrence", "lstm_recurrence", "rnn_recurrence", "schedule"]


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
def _chunks(batch_sizes: tuple[int, ...]) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """Consecutive steps grouped as (first row, last row + 1, step sizes), each group at
    most ``_CHUNK_ROWS`` rows unless a single step is larger."""
    chunks, start, sizes = [], 0, []
    for size in batch_sizes:
        if sizes and sum(sizes) + size > _CHUNK_ROWS:
            chunks.append((start, start + sum(sizes), tuple(sizes)))
            start, sizes = start + sum(sizes), []
        sizes.append(size)
    chunks.append((start, start + sum(sizes), tuple(sizes)))
    return tuple(chunks)


def _project_into(
    buffer: Tensor,
    x: Tensor,
    weight_ih: Tensor,
    bias: Tensor | None,
    start: int,
    stop: int,
    at: int | None = None,
) -> None:
    """``buffer[:, start:stop] = x[:, start:stop] W_ih^T + b``, one 2-D matmul per direction
    (written from row ``at`` of the buffer instead of ``start`` when given).

    Made a chunk of steps at a time, just before those steps run, so that the rows are
    still in cache when the recurrence adds ``h W_hh^T`` to them; one whole-sequence
    ``baddbmm`` also copied the broadcast bias through all of freshly mapped memory first.
    """
    first = start if at is None else at
    for direction in range(x.shape[0]):
        out = buffer[direction, first : first + stop - start]
        weight_t = weight_ih[direction].t()
        if bias is None:
            torch.mm(x[direction, start:stop], weight_t, out=out)
        else:
            torch.addmm(bias[direction], x[direction, start:stop], weight_t, out=out)


def _by_chunks(batch_sizes: tuple[int, ...], steps, project):
    """The per-step items of ``steps``, calling ``project(start, stop)`` before each chunk."""
    steps = iter(steps)
    for start, stop, sizes in _chunks(batch_sizes):
        project(start, stop)
        for _ in sizes:
            yield next(steps)


def _summed_bias(bias_ih: Tensor | None, bias_hh: Tensor | None) -> Tensor | None:
    return None if bias_ih is None else bias_ih + bias_hh


def _input_grads(ctx, d_xp: Tensor, x: Tensor, weight_ih: Tensor, biases: int):
    """Gradients of x, W_ih and the ``biases`` bias vectors added to ``x W_ih^T``.

    Each bias gets its own tensor: autograd may adopt a returned gradient as a leaf's
    ``.grad`` without copying, and two leaves sharing one tensor would then accumulate
    each other's gradients on the next backward pass.
    """
    d_x = torch.bmm(d_xp, weight_ih) if ctx.needs_input_grad[0] else None
    d_weight_ih = torch.bmm(d_xp.transpose(1, 2), x) if ctx.needs_input_grad[1] else None
    d_bias = d_xp.sum(1) if ctx.needs_input_grad[2] else None
    d_biases = [d_bias] + [None if d_bias is None else d_bias.clone() for _ in range(biases - 1)]
    return (d_x, d_weight_ih, *d_biases)


def _rows(tensor: Tensor, sizes: list[int]) -> tuple[Tensor, ...]:
    """Per-step views along the row dimension (dim 1), made in one call."""
    return tensor.split(sizes, dim=1)


def _previous_parts(
    initial: Tensor, states: Tensor, plan: Schedule, batch_sizes: tuple[int, ...]
) -> tuple[tuple[slice, Tensor], ...]:
    """Each packed row's input state (initial or the previous step's), for all steps at
    once, as (rows, states of those rows) parts. A full batch needs no copy: the initial
    state, then the states shifted by one step. Variable lengths are gathered."""
    batch = batch_sizes[0]
    if batch_sizes[-1] == batch:
        shifted = states[:, : states.shape[1] - batch]
        return ((slice(0, batch), initial), (slice(batch, None), shifted))
    index = plan.prev_index.to(states.device)
    return ((slice(None), torch.cat((initial, states), dim=1).index_select(1, index)),)


def _grad_weight_hh(d_pre: Tensor, initial: Tensor, states: Tensor, plan, batch_sizes) -> Tensor:
    """dL/dW_hh = sum over rows of d_pre^T h_prev, without materialising h_prev."""
    result = None
    for rows, previous in _previous_parts(initial, states, plan, batch_sizes):
        d_rows = d_pre[:, rows].transpose(1, 2)
        if result is None:
            result = torch.bmm(d_rows, previous)
        else:
            result.baddbmm_(d_rows, previous)
    return result


def _final_rows(states: Tensor, plan: Schedule) -> Tensor:
    return states.index_select(1, plan.last_index.to(states.device))


class _Scratch:
    """Memory for intermediates that live only inside one backward pass, reused by the
    next backward pass on the same thread (CPU only).

    A training step's backward needs ~5 x rows x hidden floats of such intermediates
    (tens of MB for a batch of 64 x 256 steps). Freshly allocated, that memory comes
    straight from the OS and every first touch of a page faults: measured, touching a
    fresh 32 MB buffer cost as much as a 2 GFLOP matmul. Reusing one block avoids it.
    One block (the largest asked for) is kept per thread, dtype and device;
    :func:`release_scratch` frees them. A backward pass takes the block and gives it back
    when done, so a nested or concurrent pass simply allocates its own.
    """

    _local = threading.local()

    def __init__(self, like: Tensor, numel: int) -> None:
        self.key = (like.dtype, like.device)
        pool = self._pool()
        block = pool.pop(self.key, None)
        if block is None or block.numel() < numel:
            block = like.new_empty(numel)
        self.block, self.used = block, 0

    @classmethod
    def _pool(cls) -> dict:
        if not hasattr(cls._local, "pool"):
            cls._local.pool = {}
        return cls._local.pool

    def take(self, *shape: int) -> Tensor:
        numel = 1
        for size in shape:
            numel *= size
        view = self.block[self.used : self.used + numel].view(shape)
        self.used += numel
        return view

    def give_back(self) -> None:
        if self.block.device.type == "cpu":
            self._pool()[self.key] = self.block


# Private torch API, present in torch 2.x; without it saved buffers are simply not reused.
_storage_use_count = getattr(torch._C, "_storage_Use_Count", None)


class _SavedBlocks:
    """Memory for the buffers a training forward pass saves for its backward pass (LSTM
    gates and cell states, GRU gates and hidden projections), reused by a later forward
    pass once nothing references it any more (CPU only).

    Same reason as :class:`_Scratch` (first touches of fresh memory fault), but these
    buffers outlive the call that made them, and how long is up to autograd (until the
    backward pass, longer with ``retain_graph=True``, never if no backward runs). So a
    block is handed out again only when the reference count of its storage is back to
    what it was when the block was made, i.e. no tensor (saved, viewed, or kept by a
    saved-tensor hook) still uses it. At most ``_MAX_BLOCKS`` blocks per thread are kept;
    a block serves requests of half to all its size. :func:`release_scratch` frees them.
    """

    _local = threading.local()
    _MAX_BLOCKS = 16

    @classmethod
    def empty(cls, like: Tensor, *shape: int) -> Tensor:
        numel = 1
        for size in shape:
            numel *= size
        if like.device.type != "cpu" or _storage_use_count is None:
            return like.new_empty(shape)
        blocks = cls._blocks()
        for block, baseline in blocks:
            if (
                block.dtype == like.dtype
                and numel <= block.numel() <= 2 * numel
                and cls._use_count(block) == baseline
            ):
                return block[:numel].view(shape)
        block = like.new_empty(numel)
        if len(blocks) < cls._MAX_BLOCKS:
            blocks.append((block, cls._use_count(block)))
        return block.view(shape)

    @staticmethod
    def _use_count(block: Tensor) -> int:
        return _storage_use_count(block.untyped_storage()._cdata)

    @classmethod
    def _blocks(cls) -> list[tuple[Tensor, int]]:
        if not hasattr(cls._local, "blocks"):
            cls._local.blocks = []
        return cls._local.blocks


def release_scratch() -> None:
    """Free this thread's kept memory (see :class:`_Scratch` and :class:`_SavedBlocks`)."""
    _Scratch._pool().clear()
    _SavedBlocks._blocks().clear()


class _StateViews:
    """Views of a (D, batch, ...) state buffer on its first ``size`` rows, made once per size."""

    def __init__(self, state: Tensor) -> None:
        self.state = state
        self._views: dict[int, Tensor] = {state.shape[1]: state}

    def __getitem__(self, size: int) -> Tensor:
        view = self._views.get(size)
        if view is None:
            view = self._views[size] = self.state[:, :size]
        return view


class _RNNRecurrence(torch.autograd.Function):
    """h_t = act(x_t W_ih^T + b + h_{t-1} W_hh^T), b = b_ih + b_hh."""

    @staticmethod
    def forward(ctx, x, weight_ih, bias_ih, bias_hh, weight_hh, h0, batch_sizes, relu):
        plan = schedule(batch_sizes)
        sizes = list(batch_sizes)
        # The projections are written where the outputs go; each step adds h W_hh^T in place.
        out = x.new_empty(x.shape[0], x.shape[1], h0.shape[2])
        bias = _summed_bias(bias_ih, bias_hh)
        weight_t = weight_hh.transpose(1, 2)
        h_prev = h0

        def project(start: int, stop: int) -> None:
            _project_into(out, x, weight_ih, bias, start, stop)

        for size, h in _by_chunks(batch_sizes, zip(sizes, _rows(out, sizes), strict=True), project):
            if size < h_prev.shape[1]:
                h_prev = h_prev[:, :size]
            h.baddbmm_(h_prev, weight_t)
            if relu:
                h.relu_()
            else:
                h.tanh_()
            h_prev = h
        ctx.save_for_backward(x, weight_ih, weight_hh, h0, out)
        ctx.plan, ctx.sizes, ctx.relu, ctx.batch_sizes = plan, sizes, relu, batch_sizes
        return out, _final_rows(out, plan)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_h_n):
        x, weight_ih, weight_hh, h0, out = ctx.saved_tensors
        sizes = ctx.sizes
        # d act / d pre-activation from the outputs: 1 - h^2 for tanh, [h > 0] for relu.
        scratch = _Scratch(out, 2 * out.numel())
        slope = scratch.take(*out.shape)
        if ctx.relu:
            torch.gt(out, 0, out=slope)
        else:
            torch.mul(out, out, out=slope).neg_().add_(1)
        d_pre = scratch.take(*out.shape)
        d_h = _StateViews(d_h_n.contiguous().clone())
        steps = zip(
            sizes, _rows(d_out, sizes), _rows(slope, sizes), _rows(d_pre, sizes), strict=True
        )
        for size, d_out_t, slope_t, d_pre_t in reversed(list(steps)):
            dh = d_h[size]
            torch.add(dh, d_out_t, out=d_pre_t)
            d_pre_t.mul_(slope_t)
            torch.bmm(d_pre_t, weight_hh, out=dh)
        d_weight_hh = _grad_weight_hh(d_pre, h0, out, ctx.plan, ctx.batch_sizes)
        d_inputs = _input_grads(ctx, d_pre, x, weight_ih, biases=2)
        scratch.give_back()
        return (*d_inputs, d_weight_hh, d_h.state, None, None)


class _LSTMRecurrence(torch.autograd.Function):
    """LSTM recurrence; gate blocks in the order o, i, f, g (see :func:`lstm_recurrence`)."""

    @staticmethod
    def forward(ctx, x, weight_ih, bias_ih, bias_hh, weight_hh, h0, c0, batch_sizes):
        plan = schedule(batch_sizes)
        sizes = list(batch_sizes)
        hidden = h0.shape[2]
        # Projections a chunk at a time; each step adds h W_hh^T in place, then activates
        # (o, i, f, g).
        gates = _SavedBlocks.empty(x, x.shape[0], x.shape[1], 4 * hidden)
        bias = _summed_bias(bias_ih, bias_hh)
        state_shape = (gates.shape[0], gates.shape[1], hidden)
        cells = _SavedBlocks.empty(x, *state_shape)
        tanh_cells = _SavedBlocks.empty(x, *state_shape)
        out = gates.new_empty(state_shape)
        weight_t = weight_hh.transpose(1, 2)
        o, i, f, g = gates.split(hidden, dim=2)
        steps = zip(
            sizes,
            _rows(gates, sizes),
            _rows(gates[:, :, : 3 * hidden], sizes),  # o, i, f: sigmoid
            _rows(g, sizes),
            _rows(o, sizes),
            _rows(i, sizes),
            _rows(f, sizes),
            _rows(cells, sizes),
            _rows(tanh_cells, sizes),
            _rows(out, sizes),
            strict=True,
        )
        h_prev, c_prev = h0, c0
        # float32: the elementwise part of a step is one numba kernel (see uses_kernels).
        kernel = uses_kernels(x)
        if kernel:
            # Views, never copies, of the buffers the kernel writes.
            flat = [t.view(-1).numpy() for t in (gates, cells, tanh_cells, out)]
            flat.append(c0.detach().contiguous().view(-1).numpy())
            prev, prev_at, prev_stride = flat[4], 0, c0.shape[1] * hidden
            rows, row = x.shape[1], 0

        def project(start: int, stop: int) -> None:
            _project_into(gates, x, weight_ih, bias, start, stop)

        for size, gates_t, sigmoid_t, g_t, o_t, i_t, f_t, c, tanh_c, h in _by_chunks(
            batch_sizes, steps, project
        ):
            if size < h_prev.shape[1]:
                h_prev, c_prev = h_prev[:, :size], c_prev[:, :size]
            gates_t.baddbmm_(h_prev, weight_t)
            if kernel:
                _lstm_train_rows(*flat[:4], prev, prev_at, prev_stride, row, rows, size, hidden)
                prev, prev_at, prev_stride = flat[1], row * hidden, rows * hidden
                row += size
            else:
                sigmoid_t.sigmoid_()
                g_t.tanh_()
                torch.mul(f_t, c_prev, out=c)
                c.addcmul_(i_t, g_t)  # c = f * c_prev + i * g
                torch.tanh(c, out=tanh_c)
                torch.mul(o_t, tanh_c, out=h)  # h = o * tanh(c)
            h_prev, c_prev = h, c
        ctx.save_for_backward(x, weight_ih, weight_hh, c0, gates, cells, tanh_cells, h0, out)
        ctx.plan, ctx.sizes, ctx.batch_sizes = plan, sizes, batch_sizes
        return out, _final_rows(out, plan), _final_rows(cells, plan)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_h_n, d_c_n):
        x, weight_ih, weight_hh, c0, gates, cells, tanh_c, h0, out = ctx.saved_tensors
        plan, sizes = ctx.plan, ctx.sizes
        directions, rows, hidden = cells.shape
        o, i, f, g = gates.split(hidden, dim=2)
        # Written into preallocated buffers (x - x*y by addcmul) to keep memory traffic low.
        # dL/dc_t gets dL/dh_t * o * (1 - tanh(c_t)^2) besides what flows back from c_{t+1}.
        scratch = _Scratch(cells, 5 * cells.numel())
        h_to_c = torch.mul(tanh_c, tanh_c, out=scratch.take(directions, rows, hidden))
        torch.addcmul(o, o, h_to_c, value=-1, out=h_to_c)
        h_to_c = h_to_c.unsqueeze(2)
        # Pre-activation gradient per unit of dL/dh (block o) or of dL/dc (blocks i, f, g):
        # tanh(c) o (1 - o), g i (1 - i), c_prev f (1 - f), i (1 - g^2).
        factors = scratch.take(directions, rows, 4, hidden)
        k_o, k_i, k_f, k_g = factors.unbind(2)
        torch.addcmul(o, o, o, value=-1, out=k_o).mul_(tanh_c)
        torch.addcmul(i, i, i, value=-1, out=k_i).mul_(g)
        torch.addcmul(f, f, f, value=-1, out=k_f)
        for rows_of, c_prev in _previous_parts(c0, cells, plan, ctx.batch_sizes):
            k_f[:, rows_of].mul_(c_prev)
        torch.mul(g, g, out=k_g)
        torch.addcmul(i, i, k_g, value=-1, out=k_g)
        # dL/d(pre-activations) overwrite the factors in place, step by step.
        d_gates = factors
        d_h_state = d_h_n.contiguous().clone()
        d_c_state = d_c_n.contiguous().clone()
        # The same state memory seen as (D, batch, hidden) and (D, batch, 1, hidden).
        d_h, d_h_4d = _StateViews(d_h_state), _StateViews(d_h_state.unsqueeze(2))
        d_c = _StateViews(d_c_state.unsqueeze(2))
        steps = zip(
            sizes,
            _rows(d_out.unsqueeze(2), sizes),
            _rows(h_to_c, sizes),
            _rows(factors[:, :, :1], sizes),
            _rows(factors[:, :, 1:], sizes),
            _rows(d_gates.view(directions, rows, 4 * hidden), sizes),
            _rows(f.unsqueeze(2), sizes),
            strict=True,
        )
        for size, d_out_t, h_to_c_t, k_o, k_ifg, d_gates_t, f_t in reversed(list(steps)):
            dh, dc = d_h_4d[size], d_c[size]
            dh.add_(d_out_t)
            dc.addcmul_(dh, h_to_c_t)
            k_o.mul_(dh)
            k_ifg.mul_(dc)
            torch.bmm(d_gates_t, weight_hh, out=d_h[size])
            dc.mul_(f_t)
        d_gates = d_gates.view(directions, rows, 4 * hidden)
        d_weight_hh = _grad_weight_hh(d_gates, h0, out, plan, ctx.batch_sizes)
        d_inputs = _input_grads(ctx, d_gates, x, weight_ih, biases=2)
        scratch.give_back()
        return (*d_inputs, d_weight_hh, d_h_state, d_c_state, None)


class _GRURecurrence(torch.autograd.Function):
    """GRU recurrence (gates r, z, n)."""

    @staticmethod
    def forward(ctx, x, weight_ih, bias_ih, weight_hh, bias_hh, h0, batch_sizes):
        plan = schedule(batch_sizes)
        sizes = list(batch_sizes)
        hidden = h0.shape[2]
        directions, rows = x.shape[0], x.shape[1]
        gates = _SavedBlocks.empty(x, directions, rows, 3 * hidden)  # activated r, z, n
        # W_hh h + b_hh, needed again for dL/dr
        hidden_proj = _SavedBlocks.empty(x, directions, rows, 3 * hidden)
        out = x.new_empty(directions, rows, hidden)
        weight_t = weight_hh.transpose(1, 2)
        if bias_hh is None:
            bias_hh = x.new_zeros(directions, 1, 3 * hidden)
        else:
            bias_hh = bias_hh.unsqueeze(1)
        # The input projections are not needed after their step, so unlike the LSTM's
        # (which become its saved gates) they go through one chunk-sized buffer.
        chunk_rows = max(stop - start for start, stop, _ in _chunks(batch_sizes))
        chunk = x.new_empty(directions, chunk_rows, 3 * hidden)

        def projections():
            for start, stop, chunk_sizes in _chunks(batch_sizes):
                _project_into(chunk, x, weight_ih, bias_ih, start, stop, at=0)
                xp = chunk[:, : stop - start]
                locals_ = [sum(chunk_sizes[:k]) for k in range(len(chunk_sizes))]
                yield from zip(
                    _rows(xp[:, :, : 2 * hidden], chunk_sizes),
                    _rows(xp[:, :, 2 * hidden :], chunk_sizes),
                    locals_,
                    strict=True,
                )

        steps = zip(
            sizes,
            projections(),
            _rows(hidden_proj, sizes),
            _rows(hidden_proj[:, :, : 2 * hidden], sizes),
            _rows(hidden_proj[:, :, 2 * hidden :], sizes),
            _rows(gates[:, :, : 2 * hidden], sizes),
            _rows(gates[:, :, :hidden], sizes),
            _rows(gates[:, :, hidden : 2 * hidden], sizes),
            _rows(gates[:, :, 2 * hidden :], sizes),
            _rows(out, sizes),
            strict=True,
        )
        h_prev = h0
        # float32: the elementwise part of a step is one numba kernel (see uses_kernels).
        kernel = uses_kernels(x)
        if kernel:
            # Views, never copies, of the buffers the kernel reads and writes.
            flat = [t.view(-1).numpy() for t in (chunk, hidden_proj, gates, out)]
            prev = h0.detach().contiguous().view(-1).numpy()
            prev_at, prev_stride, row = 0, h0.shape[1] * hidden, 0
        for size, (x_rz, x_n, local), hh, hh_rz, hh_n, rz, r, z, n, h in steps:
            if size < h_prev.shape[1]:
                h_prev = h_prev[:, :size]
            torch.baddbmm(bias_hh, h_prev, weight_t, out=hh)
            if kernel:
                _gru_train_rows(
                    flat[0],
                    local,
                    chunk_rows,
                    *flat[1:],
                    prev,
                    prev_at,
                    prev_stride,
                    row,
                    rows,
                    size,
                    hidden,
                )
                prev, prev_at, prev_stride = flat[3], row * hidden, rows * hidden
                row += size
            else:
                torch.add(x_rz, hh_rz, out=rz)
                rz.sigmoid_()
                torch.addcmul(x_n, r, hh_n, out=n)
                n.tanh_()
                torch.lerp(n, h_prev, z, out=h)  # h = (1 - z) * n + z * h_prev
            h_prev = h
        ctx.save_for_backward(x, weight_ih, weight_hh, h0, gates, hidden_proj, out)
        ctx.plan, ctx.sizes, ctx.batch_sizes = plan, sizes, batch_sizes
        return out, _final_rows(out, plan)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_h_n):
        x, weight_ih, weight_hh, h0, gates, hidden_proj, out = ctx.saved_tensors
        plan, sizes = ctx.plan, ctx.sizes
        directions, rows, hidden = out.shape
        r, z, n = gates.split(hidden, dim=2)
        # Written into preallocated buffers (x - x*y by addcmul) to keep memory traffic low.
        # dL/d(pre-activation of n) per unit of dL/dh: (1 - z)(1 - n^2).
        scratch = _Scratch(out, 5 * out.numel())
        new_pre = torch.mul(n, n, out=scratch.take(directions, rows, hidden)).neg_().add_(1)
        new_pre.addcmul_(new_pre, z, value=-1)
        # dL/d(W_hh h + b_hh) per unit of dL/dh, blocks r, z, n:
        # new_pre (W_hn h + b_hn) r (1 - r), (h_prev - n) z (1 - z), new_pre r.
        factors = scratch.take(directions, rows, 3, hidden)
        k_r, k_z, k_n = factors.unbind(2)
        torch.mul(new_pre, r, out=k_n)
        torch.addcmul(k_n, k_n, r, value=-1, out=k_r).mul_(hidden_proj[:, :, 2 * hidden :])
        # h_prev - n goes through d_h_all, which the loop below overwrites.
        d_h_all = scratch.take(directions, rows, hidden)
        for rows_of, h_prev in _previous_parts(h0, out, plan, ctx.batch_sizes):
            torch.sub(h_prev, n[:, rows_of], out=d_h_all[:, rows_of])
        torch.addcmul(z, z, z, value=-1, out=k_z).mul_(d_h_all)
        # dL/d(W_hh h + b_hh) overwrite the factors in place, step by step.
        d_hidden_proj = factors.view(directions, rows, 3 * hidden)
        d_h = _StateViews(d_h_n.contiguous().clone())
        steps = zip(
            sizes,
            _rows(d_out, sizes),
            _rows(d_h_all, sizes),
            _rows(d_h_all.unsqueeze(2), sizes),
            _rows(factors, sizes),
            _rows(d_hidden_proj, sizes),
            _rows(z, sizes),
            strict=True,
        )
        for size, d_out_t, dh, dh_4d, k, d_hp_flat, z_t in reversed(list(steps)):
            state = d_h[size]
            torch.add(state, d_out_t, out=dh)
            k.mul_(dh_4d)
            torch.mul(dh, z_t, out=state)
            state.baddbmm_(d_hp_flat, weight_hh)
        d_weight_hh = _grad_weight_hh(d_hidden_proj, h0, out, plan, ctx.batch_sizes)
        d_bias_hh = d_hidden_proj.sum(1) if ctx.needs_input_grad[4] else None
        # The r and z blocks of dL/d(x W_ih^T + b_ih) equal those of dL/d(W_hh h + b_hh);
        # the n block, dL/dh (1 - z)(1 - n^2), replaces r times it in place.
        torch.mul(d_h_all, new_pre, out=k_n)
        d_inputs = _input_grads(ctx, d_hidden_proj, x, weight_ih, biases=1)
        scratch.give_back()
        return (*d_inputs, d_weight_hh, d_bias_hh, d_h.state, None)


# ----- inference: no autograd ----------------------------------------------------------
#
# Used by the layers when no gradient is wanted (see wants_grad). One direction at a time,
# so every tensor is 2-D and the per-step matmul is ``addmm_`` (``baddbmm`` over two
# directions ran them one after the other anyway, and stacking/concatenating the
# directions copied the whole sequence twice). Nothing is kept for a backward pass: the
# input projections are made a chunk of steps at a time into one small buffer that is
# then used in place as the gates (a whole-sequence buffer is tens of MB, and first
# touching freshly mapped memory cost as much as the projection matmul itself), the LSTM
# cell state is a running buffer, and the outputs are written straight into the caller's
# (possibly strided) output columns. On the ATen path (float64, or no numba; float32
# runs the kernels below) every tanh is 2 sigmoid(2p) - 1 with the factor 2
# folded into the weights: ATen's tanh costs ~4x its sigmoid per element on this CPU
# (5.0 vs 1.1 ns), far more than the extra cheap ops. Its absolute error is a few ulp
# of 1 (~2e-7 in float32, ~4e-16 in float64), well inside the parity tolerances.
# Python scalars in an op cost a tensor conversion each (~2 us, as much as the op), so
# the constant 1 is a 0-dim tensor. (The same tanh trick in the training forward
# measured no gain there, within +-2%, and was left out.)


def wants_grad(*tensors: Tensor | None) -> bool:
    """Whether autograd would record an op on these tensors (else the inference path runs)."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _doubled(tensor: Tensor | None, start: int, stop: int | None = None) -> Tensor | None:
    """A copy with entries ``start:stop`` of dim 0 (gate rows) doubled."""
    if tensor is None:
        return None
    tensor = tensor.clone()
    tensor[start:stop].mul_(2)
    return tensor


class _Rows:
    """First-``size``-rows views of a running state buffer, made once per size."""

    def __init__(self, state: Tensor) -> None:
        self.state = state
        self._views: dict[int, Tensor] = {state.shape[0]: state}

    def __getitem__(self, size: int) -> Tensor:
        view = self._views.get(size)
        if view is None:
            view = self._views[size] = self.state[:size]
        return view


class _Direction:
    """The chunked input projection of one direction and the order its steps run in."""

    def __init__(
        self, x: Tensor, weight_ih: Tensor, bias: Tensor | None, chunks, reverse: bool
    ) -> None:
        self.x, self.weight_t, self.bias, self.reverse = x, weight_ih.t(), bias, reverse
        self.chunks = chunks[::-1] if reverse else chunks
        rows = max(stop - start for start, stop, _ in chunks)
        self.buffer = x.new_empty(rows, weight_ih.shape[0])

    def project(self, start: int, stop: int) -> Tensor:
        """Input projections ``x W_ih^T + b`` of rows start:stop, into the chunk buffer."""
        out = self.buffer[: stop - start]
        if self.bias is None:
            return torch.mm(self.x[start:stop], self.weight_t, out=out)
        return torch.addmm(self.bias, self.x[start:stop], self.weight_t, out=out)

    def order(self, steps: Iterable) -> Iterable:
        """A chunk's steps in the order this direction visits them."""
        return list(steps)[::-1] if self.reverse else steps


def _run_direction(step_loop, x, out, batch_sizes, reverse, *states):
    """Run ``step_loop(x, out, chunks, reverse, *states)`` for one direction.

    Each sequence's recurrence runs from its first step (``reverse=False``) or from its
    true last step backwards. For a full batch the reverse direction just visits the steps
    in reverse order; for variable lengths it runs forwards over the input reversed within
    each sequence (``Schedule.reverse_index``) and the outputs are reversed back. Returns
    the final states, one row per sequence.
    """
    chunks = _chunks(batch_sizes)
    full = batch_sizes[0] == batch_sizes[-1]
    if not reverse or full:
        finals = step_loop(x, out, chunks, reverse, *states)
        batch = batch_sizes[0]
        if not full:
            h_n = out.index_select(0, schedule(batch_sizes).last_index.to(out.device))
        elif reverse:
            h_n = out[:batch].clone()
        else:
            h_n = out[out.shape[0] - batch :].clone()
        return (h_n, *finals)
    index = schedule(batch_sizes).reverse_index.to(x.device)
    reversed_out = out.new_empty(out.shape)
    finals = step_loop(x.index_select(0, index), reversed_out, chunks, False, *states)
    out.copy_(reversed_out.index_select(0, index))
    last = schedule(batch_sizes).last_index.to(out.device)
    return (reversed_out.index_select(0, last), *finals)


# ----- float32 gate kernels (numba) ----------------------------------------------------
#
# On float32 CPU tensors the elementwise part of an inference step (and of an LSTM or GRU
# training forward step) is one compiled loop instead of 5-8 ATen ops: measured with
# torch.profiler (GRU, batch 64, hidden 128, one thread) the ATen ops of a step took ~97
# us (two sigmoids 32, lerp 30, bias copy 12, adds 17, sub 4), the fused loop ~20 us. tanh
# and sigmoid are the rational approximation of Eigen's ``ptanh_float`` (odd degree-13
# numerator over even degree-6 denominator, clamped to |x| <= 7.9053, where it reaches 1
# and tanh is within 3e-7 of 1), which vectorises (AVX2: 8 lanes) where a call to libm's
# exp does not; sigmoid(x) = (1 + tanh(x/2)) / 2. Max abs error against float64 tanh over
# [-20, 20]: 2.7e-7 (sigmoid 1.7e-7), a few ulp, far inside the 1e-5 output tolerance
# (test_layers.py checks the layers against torch.nn through this path). NaN propagates:
# the clamps compare so that NaN passes. ``fastmath`` allows reassociation and contraction
# but not "no NaN/Inf" assumptions, and error_model="numpy" drops the division-by-zero
# check that stops vectorisation. Arrays are 1-D views of 2-D row-major buffers with
# explicit offsets and row strides, and each row is sliced before the inner loop: numba
# vectorises a unit-stride loop only when it knows the stride, which a strided 2-D numpy
# view (a direction's output columns) hides, and an index ``offset + j`` keeps a
# negative-index check per element (64 x 128 tanh: 36 us that way, 4.7 us on slices).
# Float64 keeps the ATen path (the parity tolerance there is 1e-10).

if numba is not None:
    _jit = functools.partial(
        numba.njit,
        fastmath={"nsz", "arcp", "contract", "afn", "reassoc"},
        error_model="numpy",
        nogil=True,
        cache=True,
    )
    _CLAMP = np.float32(7.90531110763549805)

    @_jit(inline="always")
    def _tanh32(x):
        x = _CLAMP if x > _CLAMP else x
        x = -_CLAMP if x < -_CLAMP else x
        x2 = x * x
        p = np.float32(-2.76076847742355e-16)
        p = p * x2 + np.float32(2.00018790482477e-13)
        p = p * x2 + np.float32(-8.60467152213735e-11)
        p = p * x2 + np.float32(5.12229709037114e-08)
        p = p * x2 + np.float32(1.48572235717979e-05)
        p = p * x2 + np.float32(6.37261928875436e-04)
        p = p * x2 + np.float32(4.89352455891786e-03)
        q = np.float32(1.19825839466702e-06)
        q = q * x2 + np.float32(1.18534705686654e-04)
        q = q * x2 + np.float32(2.26843463243900e-03)
        q = q * x2 + np.float32(4.89352518554385e-03)
        return x * p / q

    @_jit(inline="always")
    def _sigmoid32(x):
        return np.float32(0.5) + np.float32(0.5) * _tanh32(np.float32(0.5) * x)

    @_jit
    def _rnn_cell_rows(pre, p_at, state, h, rows, h_stride, size, hidden, relu):
        """One Elman step's elementwise part: h = tanh(pre) or relu(pre) (pre = x W_ih^T
        + b + h W_hh^T, rows of H from offset ``p_at``) into the running state (rows of
        H) and into output row ``rows[b]`` (row stride ``h_stride``)."""
        for b in range(size):
            pre_row = pre[p_at + b * hidden : p_at + (b + 1) * hidden]
            s_row = state[b * hidden : (b + 1) * hidden]
            h_row = h[rows[b] * h_stride : rows[b] * h_stride + hidden]
            if relu:
                for j in range(hidden):
                    value = np.float32(0) if pre_row[j] < 0 else pre_row[j]  # NaN stays
                    s_row[j] = value
                    h_row[j] = value
            else:
                for j in range(hidden):
                    value = _tanh32(pre_row[j])
                    s_row[j] = value
                    h_row[j] = value

    @_jit
    def _lstm_cell_rows(gates, g_at, c, state, h, rows, h_stride, size, hidden):
        """One LSTM step's elementwise part: gates (rows of 4H from offset ``g_at``,
        blocks o, i, f, g, holding x W_ih^T + h W_hh^T + b) to c = f c + i g (in place)
        and h = o tanh(c), into the running state and output row ``rows[b]``."""
        for b in range(size):
            at = g_at + b * 4 * hidden
            o_pre, i_pre = gates[at : at + hidden], gates[at + hidden : at + 2 * hidden]
            f_pre = gates[at + 2 * hidden : at + 3 * hidden]
            g_pre = gates[at + 3 * hidden : at + 4 * hidden]
            c_row = c[b * hidden : (b + 1) * hidden]
            s_row = state[b * hidden : (b + 1) * hidden]
            h_row = h[rows[b] * h_stride : rows[b] * h_stride + hidden]
            for j in range(hidden):
                cell = _sigmoid32(f_pre[j]) * c_row[j] + _sigmoid32(i_pre[j]) * _tanh32(g_pre[j])
                c_row[j] = cell
                value = _sigmoid32(o_pre[j]) * _tanh32(cell)
                s_row[j] = value
                h_row[j] = value

    @_jit
    def _gru_cell_rows(xp, x_at, hh, b_hn, state, h, rows, h_stride, size, hidden):
        """One GRU step's elementwise part: r, z = sigmoid(x_rz + hh_rz) (the r and z
        biases already in x_rz), n = tanh(x_n + r (hh_n + b_hn)), h = n + z (h_prev - n),
        h_prev read from and h written to the running state, h also to row ``rows[b]``."""
        for b in range(size):
            at, hh_at = x_at + b * 3 * hidden, b * 3 * hidden
            x_r, x_z = xp[at : at + hidden], xp[at + hidden : at + 2 * hidden]
            x_n = xp[at + 2 * hidden : at + 3 * hidden]
            h_r, h_z = hh[hh_at : hh_at + hidden], hh[hh_at + hidden : hh_at + 2 * hidden]
            h_n = hh[hh_at + 2 * hidden : hh_at + 3 * hidden]
            s_row = state[b * hidden : (b + 1) * hidden]
            h_row = h[rows[b] * h_stride : rows[b] * h_stride + hidden]
            for j in range(hidden):
                r = _sigmoid32(x_r[j] + h_r[j])
                z = _sigmoid32(x_z[j] + h_z[j])
                n = _tanh32(x_n[j] + r * (h_n[j] + b_hn[j]))
                value = n + z * (s_row[j] - n)
                s_row[j] = value
                h_row[j] = value

    @_jit
    def _lstm_train_rows(
        gates, cells, tanh_cells, h, prev_c, p_at, p_stride, at, rows, size, hidden
    ):
        """Training forward step of the LSTM for all directions: gates (D, rows, 4H;
        blocks o, i, f, g, pre-activation) activated in place, cells, tanh(cells) and h
        (D, rows, H) written at rows ``at``...``at + size``; c_prev read from ``prev_c``
        at element ``p_at`` (+ ``p_stride`` per direction). All arrays flat."""
        for d in range(gates.shape[0] // (rows * 4 * hidden)):
            for b in range(size):
                at_g, at_s = (d * rows + at + b) * 4 * hidden, (d * rows + at + b) * hidden
                at_p = p_at + d * p_stride + b * hidden
                o, i = gates[at_g : at_g + hidden], gates[at_g + hidden : at_g + 2 * hidden]
                f = gates[at_g + 2 * hidden : at_g + 3 * hidden]
                g = gates[at_g + 3 * hidden : at_g + 4 * hidden]
                c_prev = prev_c[at_p : at_p + hidden]
                c, tanh_c = cells[at_s : at_s + hidden], tanh_cells[at_s : at_s + hidden]
                h_row = h[at_s : at_s + hidden]
                for j in range(hidden):
                    o_j, i_j = _sigmoid32(o[j]), _sigmoid32(i[j])
                    f_j, g_j = _sigmoid32(f[j]), _tanh32(g[j])
                    o[j], i[j], f[j], g[j] = o_j, i_j, f_j, g_j
                    c_j = f_j * c_prev[j] + i_j * g_j
                    t_j = _tanh32(c_j)
                    c[j], tanh_c[j], h_row[j] = c_j, t_j, o_j * t_j

    @_jit
    def _gru_train_rows(
        xp, x_at, x_rows, hh, gates, h, prev, p_at, p_stride, at, rows, size, hidden
    ):
        """Training forward step of the GRU for all directions: from the input
        projections (D, x_rows, 3H, this step's rows from ``x_at``) and the saved
        W_hh h + b_hh (D, rows, 3H), the activated gates r, z, n (D, rows, 3H) and h
        (D, rows, H) at rows ``at``...``at + size``; h_prev read from ``prev`` at element
        ``p_at`` (+ ``p_stride`` per direction). All arrays flat."""
        for d in range(h.shape[0] // (rows * hidden)):
            for b in range(size):
                at_x = (d * x_rows + x_at + b) * 3 * hidden
                at_g, at_h = (d * rows + at + b) * 3 * hidden, (d * rows + at + b) * hidden
                at_p = p_at + d * p_stride + b * hidden
                x_r, x_z = xp[at_x : at_x + hidden], xp[at_x + hidden : at_x + 2 * hidden]
                x_n = xp[at_x + 2 * hidden : at_x + 3 * hidden]
                h_r, h_z = hh[at_g : at_g + hidden], hh[at_g + hidden : at_g + 2 * hidden]
                h_n = hh[at_g + 2 * hidden : at_g + 3 * hidden]
                r, z = gates[at_g : at_g + hidden], gates[at_g + hidden : at_g + 2 * hidden]
                n = gates[at_g + 2 * hidden : at_g + 3 * hidden]
                h_prev, h_row = prev[at_p : at_p + hidden], h[at_h : at_h + hidden]
                for j in range(hidden):
                    r_j = _sigmoid32(x_r[j] + h_r[j])
                    z_j = _sigmoid32(x_z[j] + h_z[j])
                    n_j = _tanh32(x_n[j] + r_j * h_n[j])
                    r[j], z[j], n[j] = r_j, z_j, n_j
                    h_row[j] = n_j + z_j * (h_prev[j] - n_j)


def uses_kernels(x: Tensor) -> bool:
    """Whether the numba gate kernels serve this input (float32 on the CPU, numba
    importable): the inference path (which then also takes row maps, ``rows=``) and
    the training forward of LSTM and GRU."""
    return numba is not None and x.dtype == torch.float32 and x.device.type == "cpu"


def _flat(tensor: Tensor) -> tuple[np.ndarray, int]:
    """A 2-D tensor with unit column stride as a 1-D array from its first element, and
    its row stride (the kernels index ``row * stride + column``)."""
    rows, columns = tensor.shape
    if columns > 1 and tensor.stride(1) != 1:
        raise ValueError(
            f"out must have unit column stride (rows of contiguous values), got strides "
            f"{tensor.stride()}."
        )
    stride = tensor.stride(0) if rows > 1 else columns
    flat = tensor.detach().as_strided(((rows - 1) * stride + columns,), (1,))
    return flat.numpy(), stride


@functools.lru_cache(maxsize=8)
def _identity_rows(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.int64)


class _CompiledRun:
    """One direction of a compiled inference run: which rows of x and out each step
    reads and writes, and the input projections, made a chunk at a time.

    ``order[p]`` is the row of x (and of out) of run position p, positions grouped by
    step in packed order (``batch_sizes``). None means position p is row p, which for
    the reverse direction of a full batch is served by visiting the steps backwards.
    Otherwise each chunk's rows are gathered into a reused buffer before the projection
    matmul, and each step writes its outputs to rows ``order[p]``: variable-length
    batches run on the padded input and output (no packing copies, no reversed copies
    of the input or the outputs for the reverse direction).
    """

    def __init__(self, x, out, weight_ih, bias, batch_sizes, order, backwards):
        self.x, self.weight_t, self.bias, self.order = x, weight_ih.t(), bias, order
        chunks = _chunks(batch_sizes)
        self.backwards = backwards
        self.chunks = chunks[::-1] if backwards else chunks
        rows = max(stop - start for start, stop, _ in chunks)
        self.buffer = x.new_empty(rows, weight_ih.shape[0])
        self.buffer_flat = self.buffer.numpy().reshape(-1)
        self.gathered = None if order is None else x.new_empty(rows, x.shape[1])
        self.rows = _identity_rows(x.shape[0]) if order is None else order.numpy()
        self.out_flat, self.out_stride = _flat(out)

    def steps(self):
        """(the step's projections (a view), its position in the chunk buffer, step
        size, its output rows) for every step in run order."""
        for start, stop, sizes in self.chunks:
            if self.order is None:
                x = self.x[start:stop]
            else:
                x = torch.index_select(
                    self.x, 0, self.order[start:stop], out=self.gathered[: stop - start]
                )
            projections = self.buffer[: stop - start]
            if self.bias is None:
                torch.mm(x, self.weight_t, out=projections)
            else:
                torch.addmm(self.bias, x, self.weight_t, out=projections)
            steps, local = [], 0
            for size, step in zip(sizes, projections.split(sizes), strict=True):
                steps.append((step, local, size, self.rows[start + local : start + local + size]))
                local += size
            yield from steps[::-1] if self.backwards else steps


def _order(batch_sizes, rows: Tensor | None, reverse: bool) -> tuple[Tensor | None, bool]:
    """(row map, visit steps backwards) of one direction; see :class:`_CompiledRun`."""
    full = batch_sizes[0] == batch_sizes[-1]
    if not reverse or (full and rows is None):
        return rows, reverse
    reverse_index = schedule(batch_sizes).reverse_index  # the kernels run on the CPU
    return (reverse_index if rows is None else rows[reverse_index]), False


def _rnn_compiled(x, out, batch_sizes, rows, reverse, h0, weight_ih, bias, weight_hh, relu):
    hidden = h0.shape[1]
    run = _CompiledRun(x, out, weight_ih, bias, batch_sizes, *_order(batch_sizes, rows, reverse))
    weight_t = weight_hh.t()
    state = h0.detach().contiguous().clone()
    state_flat, states = state.numpy().reshape(-1), _Rows(state)
    for pre, local, size, out_rows in run.steps():
        pre.addmm_(states[size], weight_t)
        _rnn_cell_rows(
            run.buffer_flat,
            local * hidden,
            state_flat,
            run.out_flat,
            out_rows,
            run.out_stride,
            size,
            hidden,
            relu,
        )
    return state


def _lstm_compiled(x, out, batch_sizes, rows, reverse, h0, c0, weight_ih, bias, weight_hh):
    hidden = h0.shape[1]
    run = _CompiledRun(x, out, weight_ih, bias, batch_sizes, *_order(batch_sizes, rows, reverse))
    weight_t = weight_hh.t()
    # Rows past a step's batch size keep the final state of the sequences that have ended.
    state = h0.detach().contiguous().clone()
    cells = c0.detach().contiguous().clone()
    state_flat, cells_flat = state.numpy().reshape(-1), cells.numpy().reshape(-1)
    states = _Rows(state)
    for gates, local, size, out_rows in run.steps():
        gates.addmm_(states[size], weight_t)
        _lstm_cell_rows(
            run.buffer_flat,
            local * 4 * hidden,
            cells_flat,
            state_flat,
            run.out_flat,
            out_rows,
            run.out_stride,
            size,
            hidden,
        )
    return state, cells


def _gru_compiled(x, out, batch_sizes, rows, reverse, h0, weight_ih, bias_ih, weight_hh, b_hn):
    hidden = h0.shape[1]
    run = _CompiledRun(x, out, weight_ih, bias_ih, batch_sizes, *_order(batch_sizes, rows, reverse))
    weight_t = weight_hh.t()
    hidden_proj = x.new_empty(h0.shape[0], 3 * hidden)
    hh_flat, hidden_projs = hidden_proj.numpy().reshape(-1), _Rows(hidden_proj)
    b_hn_flat = b_hn.detach().contiguous().numpy()
    state = h0.detach().contiguous().clone()
    state_flat, states = state.numpy().reshape(-1), _Rows(state)
    for _, local, size, out_rows in run.steps():
        torch.mm(states[size], weight_t, out=hidden_projs[size])
        _gru_cell_rows(
            run.buffer_flat,
            local * 3 * hidden,
            hh_flat,
            b_hn_flat,
            state_flat,
            run.out_flat,
            out_rows,
            run.out_stride,
            size,
            hidden,
        )
    return state


def _no_rows(rows: Tensor | None) -> None:
    if rows is not None:
        raise ValueError(
            "rows= (a padded layout) needs the compiled inference path (float32 on the CPU "
            "with numba installed); pack the input instead."
        )


def _rnn_steps(relu, x, out, chunks, reverse, h0, weight_ih, bias, weight_hh):
    run = _Direction(x, weight_ih, bias, chunks, reverse)
    weight_t = weight_hh.t()
    one = x.new_ones(())
    h_prev = h0
    for start, stop, sizes in run.chunks:
        steps = zip(
            sizes, run.project(start, stop).split(sizes), out[start:stop].split(sizes), strict=True
        )
        for size, xp, h in run.order(steps):
            if size < h_prev.shape[0]:
                h_prev = h_prev[:size]
            torch.addmm(xp, h_prev, weight_t, out=h)
            if relu:
                h.relu_()
            else:
                h.sigmoid_()
                h.add_(h).sub_(one)  # tanh = 2 sigmoid(2p) - 1
            h_prev = h
    return ()


def rnn_inference(
    x: Tensor,
    weight_ih: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    weight_hh: Tensor,
    h0: Tensor,
    batch_sizes: tuple[int, ...],
    relu: bool,
    out: Tensor,
    reverse: bool = False,
    rows: Tensor | None = None,
) -> Tensor:
    """One direction of the Elman recurrence without autograd; writes the outputs into
    ``out`` (rows, H) and returns h_n (batch, H). x (rows, in), weights (H, in) and
    (H, H), biases (H,) or None, h0 (batch, H). ``rows`` (int64, one
    per packed row), when given, maps packed row p to the row of x and out that holds it
    (padded layouts; compiled path only, see :func:`uses_kernels`)."""
    with torch.no_grad():
        bias = _summed_bias(bias_ih, bias_hh)
        if uses_kernels(x):
            return _rnn_compiled(
                x, out, batch_sizes, rows, reverse, h0, weight_ih, bias, weight_hh, relu
            )
        _no_rows(rows)
        if not relu:
            weight_ih, weight_hh, bias = (_doubled(t, 0) for t in (weight_ih, weight_hh, bias))
        (h_n,) = _run_direction(
            functools.partial(_rnn_steps, relu),
            x,
            out,
            batch_sizes,
            reverse,
            h0,
            weight_ih,
            bias,
            weight_hh,
        )
    return h_n


def _lstm_steps(x, out, chunks, reverse, h0, c0, weight_ih, bias, weight_hh):
    hidden = h0.shape[1]
    run = _Direction(x, weight_ih, bias, chunks, reverse)
    weight_t = weight_hh.t()
    # Running 2c (so tanh(c) = 2 sigmoid(2c) - 1 needs no scaling op); the rows past a
    # step's batch size keep the final state of the sequences that have ended.
    cells = _Rows(c0 * 2)
    scratch = _Rows(torch.empty_like(c0))
    one = x.new_ones(())
    h_prev = h0
    for start, stop, sizes in run.chunks:
        gates = run.project(start, stop)
        o, i, f, g = gates.split(hidden, dim=1)
        steps = zip(
            sizes,
            gates.split(sizes),
            o.split(sizes),
            i.split(sizes),
            f.split(sizes),
            g.split(sizes),
            out[start:stop].split(sizes),
            strict=True,
        )
        for size, gates_t, o_t, i_t, f_t, g_t, h in run.order(steps):
            if size < h_prev.shape[0]:
                h_prev = h_prev[:size]
            c, tanh_c = cells[size], scratch[size]
            gates_t.addmm_(h_prev, weight_t)
            gates_t.sigmoid_()  # o, i, f and s = sigmoid(2 g_pre)
            c.mul_(f_t).addcmul_(i_t, g_t, value=4).sub_(i_t, alpha=2)  # 2c = f 2c + 2 i (2s - 1)
            torch.sigmoid(c, out=tanh_c)
            tanh_c.add_(tanh_c).sub_(one)
            torch.mul(o_t, tanh_c, out=h)
            h_prev = h
    return (cells.state.mul_(0.5),)


def lstm_inference(
    x: Tensor,
    weight_ih: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    weight_hh: Tensor,
    h0: Tensor,
    c0: Tensor,
    batch_sizes: tuple[int, ...],
    out: Tensor,
    reverse: bool = False,
    rows: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One direction of the LSTM recurrence without autograd; writes the outputs into
    ``out`` (rows, H) and returns (h_n, c_n), each (batch, H). x (rows, in), weight_ih
    (4H, in) and weight_hh (4H, H) with gate blocks o, i, f, g as in
    :func:`lstm_recurrence`, biases (4H,) or None, h0 and c0 (batch, H). ``rows`` (int64, one
    per packed row), when given, maps packed row p to the row of x and out that holds it
    (padded layouts; compiled path only, see :func:`uses_kernels`)."""
    hidden = h0.shape[1]
    with torch.no_grad():
        bias = _summed_bias(bias_ih, bias_hh)
        if uses_kernels(x):
            return _lstm_compiled(
                x, out, batch_sizes, rows, reverse, h0, c0, weight_ih, bias, weight_hh
            )
        _no_rows(rows)
        # The g rows doubled: one sigmoid over all four blocks, then g = 2 s - 1.
        bias = _doubled(bias, 3 * hidden)
        weight_ih, weight_hh = _doubled(weight_ih, 3 * hidden), _doubled(weight_hh, 3 * hidden)
        h_n, c_n = _run_direction(
            _lstm_steps, x, out, batch_sizes, reverse, h0, c0, weight_ih, bias, weight_hh
        )
    return h_n, c_n


def _gru_steps(x, out, chunks, reverse, h0, weight_ih, bias_ih, weight_hh, bias_hh):
    hidden = h0.shape[1]
    run = _Direction(x, weight_ih, bias_ih, chunks, reverse)
    weight_t = weight_hh.t()
    hidden_proj = x.new_empty(h0.shape[0], 3 * hidden)
    views: dict[int, tuple[Tensor, Tensor, Tensor]] = {}
    one = x.new_ones(())
    h_prev = h0
    for start, stop, sizes in run.chunks:
        xp = run.project(start, stop)
        steps = zip(
            sizes,
            xp[:, : 2 * hidden].split(sizes),
            xp[:, :hidden].split(sizes),
            xp[:, hidden : 2 * hidden].split(sizes),
            xp[:, 2 * hidden :].split(sizes),
            out[start:stop].split(sizes),
            strict=True,
        )
        for size, rz, r, z, n, h in run.order(steps):
            if size < h_prev.shape[0]:
                h_prev = h_prev[:size]
            if size not in views:
                hh = hidden_proj[:size]
                views[size] = (hh, hh[:, : 2 * hidden], hh[:, 2 * hidden :])
            hh, hh_rz, hh_n = views[size]
            if bias_hh is None:
                torch.mm(h_prev, weight_t, out=hh)
            else:
                torch.addmm(bias_hh, h_prev, weight_t, out=hh)
            rz.add_(hh_rz).sigmoid_()
            n.addcmul_(r, hh_n).sigmoid_()
            n.add_(n).sub_(one)  # tanh = 2 sigmoid(2p) - 1
            torch.lerp(n, h_prev, z, out=h)  # h = (1 - z) n + z h_prev
            h_prev = h
    return ()


def gru_inference(
    x: Tensor,
    weight_ih: Tensor,
    bias_ih: Tensor | None,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    h0: Tensor,
    batch_sizes: tuple[int, ...],
    out: Tensor,
    reverse: bool = False,
    rows: Tensor | None = None,
) -> Tensor:
    """One direction of the GRU recurrence without autograd; writes the outputs into
    ``out`` (rows, H) and returns h_n (batch, H). x (rows, in), weights (3H, in) and
    (3H, H), biases (3H,) or None, h0 (batch, H). ``rows`` (int64, one
    per packed row), when given, maps packed row p to the row of x and out that holds it
    (padded layouts; compiled path only, see :func:`uses_kernels`)."""
    hidden = h0.shape[1]
    if uses_kernels(x):
        with torch.no_grad():
            # b_hh's r and z parts join the projection's bias; b_hn stays inside r (...).
            if bias_ih is None:
                b_hn = x.new_zeros(hidden)
            else:
                bias_ih = torch.cat(
                    (bias_ih[: 2 * hidden] + bias_hh[: 2 * hidden], bias_ih[2 * hidden :])
                )
                b_hn = bias_hh[2 * hidden :]
            return _gru_compiled(
                x, out, batch_sizes, rows, reverse, h0, weight_ih, bias_ih, weight_hh, b_hn
            )
    _no_rows(rows)
    # The n rows doubled (tanh via sigmoid); b_hh's r and z parts join the projection's
    # bias, its n part stays inside r * (W_hn h + b_hn).
    if bias_ih is not None:
        bias_ih = torch.cat(
            (bias_ih[: 2 * hidden] + bias_hh[: 2 * hidden], 2 * bias_ih[2 * hidden :])
        )
        bias_hh = torch.cat((bias_hh.new_zeros(2 * hidden), 2 * bias_hh[2 * hidden :]))
    weight_ih, weight_hh = _doubled(weight_ih, 2 * hidden), _doubled(weight_hh, 2 * hidden)
    with torch.no_grad():
        (h_n,) = _run_direction(
            _gru_steps, x, out, batch_sizes, reverse, h0, weight_ih, bias_ih, weight_hh, bias_hh
        )
    return h_n


def rnn_recurrence(
    x: Tensor,
    weight_ih: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    weight_hh: Tensor,
    h0: Tensor,
    batch_sizes: tuple[int, ...],
    relu: bool,
) -> tuple[Tensor, Tensor]:
    """Elman recurrence. x (D, rows, in), weight_ih (D, H, in), bias_ih and bias_hh
    (D, H) or None, weight_hh (D, H, H), h0 (D, batch, H).

    Returns (outputs (D, rows, H), h_n (D, batch, H)).
    """
    return _RNNRecurrence.apply(x, weight_ih, bias_ih, bias_hh, weight_hh, h0, batch_sizes, relu)


def lstm_recurrence(
    x: Tensor,
    weight_ih: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    weight_hh: Tensor,
    h0: Tensor,
    c0: Tensor,
    batch_sizes: tuple[int, ...],
) -> tuple[Tensor, Tensor, Tensor]:
    """LSTM recurrence. x (D, rows, in), weight_ih (D, 4H, in), bias_ih and bias_hh (D, 4H)
    or None, weight_hh (D, 4H, H), h0 and c0 (D, batch, H). Returns (outputs, h_n, c_n).

    The weights and biases must have their gate blocks in the order o, i, f, g (not
    torch's i, f, g, o): the three sigmoid gates are then one contiguous block and the
    three gates driven by dL/dc another, which saves one elementwise op per step in each
    pass. The caller permutes the rows.
    """
    return _LSTMRecurrence.apply(x, weight_ih, bias_ih, bias_hh, weight_hh, h0, c0, batch_sizes)


def gru_recurrence(
    x: Tensor,
    weight_ih: Tensor,
    bias_ih: Tensor | None,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    h0: Tensor,
    batch_sizes: tuple[int, ...],
) -> tuple[Tensor, Tensor]:
    """GRU recurrence. x (D, rows, in), weight_ih (D, 3H, in), bias_ih (D, 3H) or None,
    weight_hh (D, 3H, H), bias_hh (D, 3H) or None, h0 (D, batch, H).

    Returns (outputs, h_n).
    """
    return _GRURecurrence.apply(x, weight_ih, bias_ih, weight_hh, bias_hh, h0, batch_sizes)

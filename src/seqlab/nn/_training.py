"""Training recurrences: a whole RNN, LSTM or GRU layer (all steps, one or both
directions) as one ``torch.autograd.Function`` with a hand-written backward pass.

What it computes: the recurrences of :mod:`seqlab.nn.cells`, in PyTorch's parameter
layout and gate order (Elman; LSTM after Hochreiter & Schmidhuber 1997 with the forget
gate of Gers et al. 2000, gates i, f, g, o in torch.nn, taken here as o, i, f, g; GRU
after Cho et al. 2014, gates r, z, n, with torch.nn's ``r * (W_hn h + b_hn)``), and
their exact gradients by backpropagation through time.

How: the input projections ``x_t W_ih^T + b`` are made a chunk of steps at a time (one
2-D matmul per direction and chunk, just before those steps run, so their rows are still
in cache); each step then adds ``h W_hh^T`` in place by one batched matmul and applies
the cell's elementwise ops into preallocated buffers (for float32 LSTM and GRU layers,
one kernel of :mod:`seqlab.nn._kernels`, compiled on first use). ``backward`` walks the
steps in reverse with the gradient formulas of the cell equations; factors of those
formulas that do not depend on the backward recurrence are computed for all steps at
once before its loop (and overwritten in place by the gradients they scale), and the
weight and input gradients are single matmuls after it. No autograd graph is built per
step and every per-step view is made up front by one ``split`` call. The backward is
first-order only (``once_differentiable``). Large buffers are reused rather than freshly
allocated, since first touches of fresh memory fault page by page: the backward's
scratch memory (:class:`_Scratch`) and, once nothing references them, the buffers a
forward pass saved (:class:`_SavedBlocks`); :func:`release_scratch` frees what is kept.

Layout: a leading direction dimension ``D`` (1, or 2 for both directions of a
bidirectional layer, run by the same ops), then packed rows (:mod:`seqlab.nn._layout`).
Every direction here runs forwards in time: the caller hands the reverse direction its
input with each sequence reversed within its own length (``Schedule.reverse_index``) and
reverses the outputs back.

Arguments: every recurrence takes ``x, h0`` (and ``c0``) positionally, then the keyword-only
``weight_ih, weight_hh, bias_ih, bias_hh`` (the order of :mod:`seqlab.nn.cells` and of
``torch.nn``'s cell functions) and ``batch_sizes``.

Reference and tests: the step functions in :mod:`seqlab.nn.cells`, looped by
``implementation="reference"`` in :mod:`seqlab.nn.layers`; ``tests/nn/test_layers.py``
holds this path equal to them (float64, 1e-12) and to torch.nn, outputs and gradients.
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from seqlab.nn._layout import (
    Schedule,
    SizeViews,
    chunks,
    kernel,
    schedule,
    summed_bias,
    uses_kernels,
)

__all__ = ["gru_recurrence", "lstm_recurrence", "release_scratch", "rnn_recurrence"]


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
    (written from row ``at`` of the buffer instead of ``start`` when given)."""
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
    for start, stop, sizes in chunks(batch_sizes):
        project(start, stop)
        for _ in sizes:
            yield next(steps)


def _input_grads(
    d_xp: Tensor, x: Tensor, weight_ih: Tensor, need_x: bool, need_weight: bool
) -> tuple[Tensor | None, Tensor | None]:
    """(dL/dx, dL/dW_ih) from dL/d(x W_ih^T + b) = ``d_xp``."""
    d_x = torch.bmm(d_xp, weight_ih) if need_x else None
    d_weight_ih = torch.bmm(d_xp.transpose(1, 2), x) if need_weight else None
    return d_x, d_weight_ih


def _bias_grads(d_pre: Tensor, need_ih: bool, need_hh: bool) -> tuple[Tensor | None, ...]:
    """(dL/db_ih, dL/db_hh) of two biases both added to the pre-activations ``d_pre``
    is the gradient of.

    Each bias gets its own tensor: autograd may adopt a returned gradient as a leaf's
    ``.grad`` without copying, and two leaves sharing one tensor would then accumulate
    each other's gradients on the next backward pass.
    """
    if not (need_ih or need_hh):
        return None, None
    d_bias = d_pre.sum(1)
    return (d_bias if need_ih else None), (d_bias.clone() if need_hh else None)


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

    A training step's backward needs ~5 x rows x hidden floats of such intermediates.
    Freshly allocated, that memory comes straight from the OS and every first touch of a
    page faults; reusing one block avoids it. One block (the largest asked for) is kept
    per thread, dtype and device; :func:`release_scratch` frees them. A backward pass
    takes the block and gives it back when done, so a nested or concurrent pass simply
    allocates its own.
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


class _RNNRecurrence(torch.autograd.Function):
    """h_t = act(x_t W_ih^T + b + h_{t-1} W_hh^T), b = b_ih + b_hh."""

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes, relu):
        plan = schedule(batch_sizes)
        sizes = list(batch_sizes)
        # The projections are written where the outputs go; each step adds h W_hh^T in place.
        out = x.new_empty(x.shape[0], x.shape[1], h0.shape[2])
        bias = summed_bias(bias_ih, bias_hh)
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
        need_x, _, need_w_ih, _, need_b_ih, need_b_hh, _, _ = ctx.needs_input_grad
        sizes = ctx.sizes
        # d act / d pre-activation from the outputs: 1 - h^2 for tanh, [h > 0] for relu.
        scratch = _Scratch(out, 2 * out.numel())
        slope = scratch.take(*out.shape)
        if ctx.relu:
            torch.gt(out, 0, out=slope)
        else:
            torch.mul(out, out, out=slope).neg_().add_(1)
        d_pre = scratch.take(*out.shape)
        d_h = SizeViews(d_h_n.contiguous().clone(), dim=1)
        steps = zip(
            sizes, _rows(d_out, sizes), _rows(slope, sizes), _rows(d_pre, sizes), strict=True
        )
        for size, d_out_t, slope_t, d_pre_t in reversed(list(steps)):
            dh = d_h[size]
            torch.add(dh, d_out_t, out=d_pre_t)
            d_pre_t.mul_(slope_t)
            torch.bmm(d_pre_t, weight_hh, out=dh)
        d_weight_hh = _grad_weight_hh(d_pre, h0, out, ctx.plan, ctx.batch_sizes)
        d_x, d_weight_ih = _input_grads(d_pre, x, weight_ih, need_x, need_w_ih)
        d_bias_ih, d_bias_hh = _bias_grads(d_pre, need_b_ih, need_b_hh)
        scratch.give_back()
        return d_x, d_h.state, d_weight_ih, d_weight_hh, d_bias_ih, d_bias_hh, None, None


class _LSTMRecurrence(torch.autograd.Function):
    """LSTM recurrence; gate blocks in the order o, i, f, g (see :func:`lstm_recurrence`)."""

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes):
        plan = schedule(batch_sizes)
        sizes = list(batch_sizes)
        hidden = h0.shape[2]
        # Projections a chunk at a time; each step adds h W_hh^T in place, then activates
        # (o, i, f, g).
        gates = _SavedBlocks.empty(x, x.shape[0], x.shape[1], 4 * hidden)
        bias = summed_bias(bias_ih, bias_hh)
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
        # float32: the elementwise part of a step is one kernel (see uses_kernels).
        lstm_train = kernel("lstm_train") if uses_kernels(x) else None
        if lstm_train is not None:
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
            if lstm_train is not None:
                lstm_train(*flat[:4], prev, prev_at, prev_stride, row, rows, size, hidden)
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
        need_x, _, _, need_w_ih, _, need_b_ih, need_b_hh, _ = ctx.needs_input_grad
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
        d_h, d_h_4d = SizeViews(d_h_state, dim=1), SizeViews(d_h_state.unsqueeze(2), dim=1)
        d_c = SizeViews(d_c_state.unsqueeze(2), dim=1)
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
        d_x, d_weight_ih = _input_grads(d_gates, x, weight_ih, need_x, need_w_ih)
        d_bias_ih, d_bias_hh = _bias_grads(d_gates, need_b_ih, need_b_hh)
        scratch.give_back()
        return (
            d_x,
            d_h_state,
            d_c_state,
            d_weight_ih,
            d_weight_hh,
            d_bias_ih,
            d_bias_hh,
            None,
        )


class _GRURecurrence(torch.autograd.Function):
    """GRU recurrence (gates r, z, n)."""

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes):
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
        chunk_rows = max(stop - start for start, stop, _ in chunks(batch_sizes))
        chunk = x.new_empty(directions, chunk_rows, 3 * hidden)

        def projections():
            for start, stop, chunk_sizes in chunks(batch_sizes):
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
        # float32: the elementwise part of a step is one kernel (see uses_kernels).
        gru_train = kernel("gru_train") if uses_kernels(x) else None
        if gru_train is not None:
            # Views, never copies, of the buffers the kernel reads and writes.
            flat = [t.view(-1).numpy() for t in (chunk, hidden_proj, gates, out)]
            prev = h0.detach().contiguous().view(-1).numpy()
            prev_at, prev_stride, row = 0, h0.shape[1] * hidden, 0
        for size, (x_rz, x_n, local), hh, hh_rz, hh_n, rz, r, z, n, h in steps:
            if size < h_prev.shape[1]:
                h_prev = h_prev[:, :size]
            torch.baddbmm(bias_hh, h_prev, weight_t, out=hh)
            if gru_train is not None:
                gru_train(
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
        need_x, _, need_w_ih, _, need_b_ih, need_b_hh, _ = ctx.needs_input_grad
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
        d_h = SizeViews(d_h_n.contiguous().clone(), dim=1)
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
        d_bias_hh = d_hidden_proj.sum(1) if need_b_hh else None
        # The r and z blocks of dL/d(x W_ih^T + b_ih) equal those of dL/d(W_hh h + b_hh);
        # the n block, dL/dh (1 - z)(1 - n^2), replaces r times it in place.
        torch.mul(d_h_all, new_pre, out=k_n)
        d_x, d_weight_ih = _input_grads(d_hidden_proj, x, weight_ih, need_x, need_w_ih)
        d_bias_ih = d_hidden_proj.sum(1) if need_b_ih else None
        scratch.give_back()
        return d_x, d_h.state, d_weight_ih, d_weight_hh, d_bias_ih, d_bias_hh, None


def rnn_recurrence(
    x: Tensor,
    h0: Tensor,
    *,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    batch_sizes: tuple[int, ...],
    relu: bool,
) -> tuple[Tensor, Tensor]:
    """Elman recurrence over packed rows, all directions at once, differentiable.

    Parameters
    ----------
    x : Tensor
        Inputs, (D, rows, H_in).
    h0 : Tensor
        Initial states, (D, batch, H).
    weight_ih, weight_hh : Tensor
        (D, H, H_in) and (D, H, H).
    bias_ih, bias_hh : Tensor or None
        (D, H) each, or both None.
    batch_sizes : tuple of int
        Rows per step (packed layout).
    relu : bool
        ReLU instead of tanh.

    Returns
    -------
    tuple of Tensor
        Outputs (D, rows, H) and h_n (D, batch, H).
    """
    return _RNNRecurrence.apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes, relu)


def lstm_recurrence(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    *,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    batch_sizes: tuple[int, ...],
) -> tuple[Tensor, Tensor, Tensor]:
    """LSTM recurrence over packed rows, all directions at once, differentiable.

    Parameters
    ----------
    h0, c0 : Tensor
        Initial states, (D, batch, H) each.
    weight_ih, weight_hh : Tensor
        (D, 4H, H_in) and (D, 4H, H), gate blocks in the order o, i, f, g.
    bias_ih, bias_hh : Tensor or None
        (D, 4H) each in the same block order, or both None.
    x, batch_sizes
        As in :func:`rnn_recurrence`.

    Returns
    -------
    tuple of Tensor
        Outputs (D, rows, H), h_n and c_n (D, batch, H).

    Notes
    -----
    The gate blocks are o, i, f, g (not torch's i, f, g, o): the three sigmoid gates are
    then one contiguous block and the three gates driven by dL/dc another, which saves
    one elementwise op per step in each pass. The caller permutes the rows.
    """
    return _LSTMRecurrence.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes)


def gru_recurrence(
    x: Tensor,
    h0: Tensor,
    *,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    batch_sizes: tuple[int, ...],
) -> tuple[Tensor, Tensor]:
    """GRU recurrence over packed rows, all directions at once, differentiable.

    Parameters
    ----------
    h0 : Tensor
        Initial states, (D, batch, H).
    weight_ih, weight_hh : Tensor
        (D, 3H, H_in) and (D, 3H, H), gate blocks r, z, n.
    bias_ih, bias_hh : Tensor or None
        (D, 3H) each, or both None.
    x, batch_sizes
        As in :func:`rnn_recurrence`.

    Returns
    -------
    tuple of Tensor
        Outputs (D, rows, H) and h_n (D, batch, H).
    """
    return _GRURecurrence.apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes)

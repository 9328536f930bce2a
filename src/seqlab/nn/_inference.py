"""Inference recurrences: one direction of an RNN, LSTM or GRU layer without autograd.

What it computes: the same recurrences as :mod:`seqlab.nn._training` (the equations of
:mod:`seqlab.nn.cells`; LSTM after Hochreiter & Schmidhuber 1997 with the forget gate of
Gers et al. 2000, GRU after Cho et al. 2014, both in PyTorch's gate order, the LSTM's
blocks taken as o, i, f, g), used by the layers when no gradient is wanted
(:func:`seqlab.nn._layout.wants_grad` is false). Nothing is kept for a backward pass.

How: one direction at a time, so every tensor is 2-D and the per-step matmul is
``addmm_``. The input projections are made a chunk of steps at a time into one small
buffer that is then used in place as the gates (first touches of a freshly mapped
whole-sequence buffer cost about as much as the projection matmul itself); the LSTM cell
state is a running buffer; the outputs are written straight into the caller's (possibly
strided) output columns.

- float32 on the CPU with numba installed (:func:`seqlab.nn._layout.uses_kernels`): the
  elementwise part of a step is one kernel of :mod:`seqlab.nn._kernels`, compiled on
  first use. These paths also take a row map (``rows=``), so variable-length batches
  run on the padded input and output without packing, reversing or scattering copies
  (:class:`_CompiledRun`).
- otherwise (float64, no numba): ATen ops, with every tanh computed as
  ``2 sigmoid(2p) - 1`` and the factor 2 folded into the weights (ATen's tanh is several
  times slower per element than its sigmoid on CPUs; the absolute error is a few ulp of
  1, inside the parity tolerances). Python scalars in an op cost a tensor conversion
  each, so the constant 1 is a 0-dim tensor.

Arguments: ``x, h0`` (and ``c0``) positionally, then the keyword-only
``weight_ih, weight_hh, bias_ih, bias_hh, batch_sizes, out`` (the order of
:mod:`seqlab.nn.cells`), ``reverse`` and ``rows``.

Reference and tests: the step functions in :mod:`seqlab.nn.cells`;
``tests/nn/test_layers.py`` holds this path (float32 kernels, float32 without numba,
float64) equal to torch.nn on every layer configuration, over many chunks, with NaN.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

from seqlab.nn._layout import SizeViews, chunks, kernel, schedule, summed_bias, uses_kernels

__all__ = ["gru_inference", "lstm_inference", "rnn_inference"]


def _doubled(tensor: Tensor | None, start: int, stop: int | None = None) -> Tensor | None:
    """A copy with entries ``start:stop`` of dim 0 (gate rows) doubled."""
    if tensor is None:
        return None
    tensor = tensor.clone()
    tensor[start:stop].mul_(2)
    return tensor


class _Direction:
    """The chunked input projection of one direction and the order its steps run in."""

    def __init__(
        self, x: Tensor, weight_ih: Tensor, bias: Tensor | None, groups, reverse: bool
    ) -> None:
        self.x, self.weight_t, self.bias, self.reverse = x, weight_ih.t(), bias, reverse
        self.chunks = groups[::-1] if reverse else groups
        rows = max(stop - start for start, stop, _ in groups)
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


def _run_direction(step_loop, x, out, batch_sizes, reverse, *states, **weights):
    """Run ``step_loop(x, out, groups, reverse, *states, **weights)`` for one direction.

    Each sequence's recurrence runs from its first step (``reverse=False``) or from its
    true last step backwards. For a full batch the reverse direction just visits the steps
    in reverse order; for variable lengths it runs forwards over the input reversed within
    each sequence (``Schedule.reverse_index``) and the outputs are reversed back. Returns
    the final states, one row per sequence.
    """
    groups = chunks(batch_sizes)
    full = batch_sizes[0] == batch_sizes[-1]
    if not reverse or full:
        finals = step_loop(x, out, groups, reverse, *states, **weights)
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
    finals = step_loop(x.index_select(0, index), reversed_out, groups, False, *states, **weights)
    out.copy_(reversed_out.index_select(0, index))
    last = schedule(batch_sizes).last_index.to(out.device)
    return (reversed_out.index_select(0, last), *finals)


# ----- float32: the kernels of seqlab.nn._kernels ----------------------------------------


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
        groups = chunks(batch_sizes)
        self.backwards = backwards
        self.chunks = groups[::-1] if backwards else groups
        rows = max(stop - start for start, stop, _ in groups)
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


def _rnn_compiled(x, h0, *, weight_ih, weight_hh, bias, batch_sizes, out, reverse, rows, relu):
    rnn_cell = kernel("rnn_cell")
    hidden = h0.shape[1]
    run = _CompiledRun(x, out, weight_ih, bias, batch_sizes, *_order(batch_sizes, rows, reverse))
    weight_t = weight_hh.t()
    state = h0.detach().contiguous().clone()
    state_flat, states = state.numpy().reshape(-1), SizeViews(state)
    for pre, local, size, out_rows in run.steps():
        pre.addmm_(states[size], weight_t)
        rnn_cell(
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


def _lstm_compiled(x, h0, c0, *, weight_ih, weight_hh, bias, batch_sizes, out, reverse, rows):
    lstm_cell = kernel("lstm_cell")
    hidden = h0.shape[1]
    run = _CompiledRun(x, out, weight_ih, bias, batch_sizes, *_order(batch_sizes, rows, reverse))
    weight_t = weight_hh.t()
    # Rows past a step's batch size keep the final state of the sequences that have ended.
    state = h0.detach().contiguous().clone()
    cells = c0.detach().contiguous().clone()
    state_flat, cells_flat = state.numpy().reshape(-1), cells.numpy().reshape(-1)
    states = SizeViews(state)
    for gates, local, size, out_rows in run.steps():
        gates.addmm_(states[size], weight_t)
        lstm_cell(
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


def _gru_compiled(x, h0, *, weight_ih, weight_hh, bias_ih, b_hn, batch_sizes, out, reverse, rows):
    gru_cell = kernel("gru_cell")
    hidden = h0.shape[1]
    run = _CompiledRun(x, out, weight_ih, bias_ih, batch_sizes, *_order(batch_sizes, rows, reverse))
    weight_t = weight_hh.t()
    hidden_proj = x.new_empty(h0.shape[0], 3 * hidden)
    hh_flat, hidden_projs = hidden_proj.numpy().reshape(-1), SizeViews(hidden_proj)
    b_hn_flat = b_hn.detach().contiguous().numpy()
    state = h0.detach().contiguous().clone()
    state_flat, states = state.numpy().reshape(-1), SizeViews(state)
    for _, local, size, out_rows in run.steps():
        torch.mm(states[size], weight_t, out=hidden_projs[size])
        gru_cell(
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


# ----- ATen ops (float64, or float32 without numba) ------------------------------------


def _no_rows(rows: Tensor | None) -> None:
    if rows is not None:
        raise ValueError(
            "rows= (a padded layout) needs the compiled inference path (float32 on the CPU "
            "with numba installed); pack the input instead."
        )


def _rnn_steps(x, out, groups, reverse, h0, *, weight_ih, weight_hh, bias, relu):
    run = _Direction(x, weight_ih, bias, groups, reverse)
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


def _lstm_steps(x, out, groups, reverse, h0, c0, *, weight_ih, weight_hh, bias):
    hidden = h0.shape[1]
    run = _Direction(x, weight_ih, bias, groups, reverse)
    weight_t = weight_hh.t()
    # Running 2c (so tanh(c) = 2 sigmoid(2c) - 1 needs no scaling op); the rows past a
    # step's batch size keep the final state of the sequences that have ended.
    cells = SizeViews(c0 * 2)
    scratch = SizeViews(torch.empty_like(c0))
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


def _gru_steps(x, out, groups, reverse, h0, *, weight_ih, weight_hh, bias_ih, bias_hh):
    hidden = h0.shape[1]
    run = _Direction(x, weight_ih, bias_ih, groups, reverse)
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


# ----- entry points ------------------------------------------------------------------------


def rnn_inference(
    x: Tensor,
    h0: Tensor,
    *,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    batch_sizes: tuple[int, ...],
    out: Tensor,
    relu: bool,
    reverse: bool = False,
    rows: Tensor | None = None,
) -> Tensor:
    """One direction of the Elman recurrence without autograd.

    Parameters
    ----------
    x : Tensor
        Inputs, (rows, H_in): packed rows, or padded rows read through ``rows``.
    h0 : Tensor
        Initial state, (batch, H).
    weight_ih, weight_hh : Tensor
        (H, H_in) and (H, H).
    bias_ih, bias_hh : Tensor or None
        (H,) each, or both None.
    batch_sizes : tuple of int
        Rows per step (packed layout).
    out : Tensor
        (rows, H) with unit column stride; the outputs are written into it.
    relu : bool
        ReLU instead of tanh.
    reverse : bool
        Run each sequence from its true last step backwards.
    rows : Tensor or None
        int64, one per packed row: the row of x and out that holds packed row p (padded
        layouts; float32 kernels only, see :func:`seqlab.nn._layout.uses_kernels`).

    Returns
    -------
    Tensor
        h_n, (batch, H).
    """
    with torch.no_grad():
        bias = summed_bias(bias_ih, bias_hh)
        if uses_kernels(x):
            return _rnn_compiled(
                x,
                h0,
                weight_ih=weight_ih,
                weight_hh=weight_hh,
                bias=bias,
                batch_sizes=batch_sizes,
                out=out,
                reverse=reverse,
                rows=rows,
                relu=relu,
            )
        _no_rows(rows)
        if not relu:
            weight_ih, weight_hh, bias = (_doubled(t, 0) for t in (weight_ih, weight_hh, bias))
        (h_n,) = _run_direction(
            _rnn_steps,
            x,
            out,
            batch_sizes,
            reverse,
            h0,
            weight_ih=weight_ih,
            weight_hh=weight_hh,
            bias=bias,
            relu=relu,
        )
    return h_n


def lstm_inference(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    *,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    batch_sizes: tuple[int, ...],
    out: Tensor,
    reverse: bool = False,
    rows: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One direction of the LSTM recurrence without autograd.

    Parameters
    ----------
    h0, c0 : Tensor
        Initial states, (batch, H) each.
    weight_ih, weight_hh : Tensor
        (4H, H_in) and (4H, H), gate blocks o, i, f, g (the biases too).
    bias_ih, bias_hh : Tensor or None
        (4H,) each, or both None.
    x, batch_sizes, out, reverse, rows
        As in :func:`rnn_inference`.

    Returns
    -------
    tuple of Tensor
        h_n and c_n, (batch, H) each.
    """
    hidden = h0.shape[1]
    with torch.no_grad():
        bias = summed_bias(bias_ih, bias_hh)
        if uses_kernels(x):
            return _lstm_compiled(
                x,
                h0,
                c0,
                weight_ih=weight_ih,
                weight_hh=weight_hh,
                bias=bias,
                batch_sizes=batch_sizes,
                out=out,
                reverse=reverse,
                rows=rows,
            )
        _no_rows(rows)
        # The g rows doubled: one sigmoid over all four blocks, then g = 2 s - 1.
        h_n, c_n = _run_direction(
            _lstm_steps,
            x,
            out,
            batch_sizes,
            reverse,
            h0,
            c0,
            weight_ih=_doubled(weight_ih, 3 * hidden),
            weight_hh=_doubled(weight_hh, 3 * hidden),
            bias=_doubled(bias, 3 * hidden),
        )
    return h_n, c_n


def gru_inference(
    x: Tensor,
    h0: Tensor,
    *,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    batch_sizes: tuple[int, ...],
    out: Tensor,
    reverse: bool = False,
    rows: Tensor | None = None,
) -> Tensor:
    """One direction of the GRU recurrence without autograd.

    Parameters
    ----------
    h0 : Tensor
        Initial state, (batch, H).
    weight_ih, weight_hh : Tensor
        (3H, H_in) and (3H, H), gates r, z, n.
    bias_ih, bias_hh : Tensor or None
        (3H,) each, or both None.
    x, batch_sizes, out, reverse, rows
        As in :func:`rnn_inference`.

    Returns
    -------
    Tensor
        h_n, (batch, H).
    """
    hidden = h0.shape[1]
    with torch.no_grad():
        if uses_kernels(x):
            # b_hh's r and z parts join the projection's bias; b_hn stays inside r (...).
            if bias_ih is None:
                b_hn = x.new_zeros(hidden)
            else:
                bias_ih = torch.cat(
                    (bias_ih[: 2 * hidden] + bias_hh[: 2 * hidden], bias_ih[2 * hidden :])
                )
                b_hn = bias_hh[2 * hidden :]
            return _gru_compiled(
                x,
                h0,
                weight_ih=weight_ih,
                weight_hh=weight_hh,
                bias_ih=bias_ih,
                b_hn=b_hn,
                batch_sizes=batch_sizes,
                out=out,
                reverse=reverse,
                rows=rows,
            )
        _no_rows(rows)
        # The n rows doubled (tanh via sigmoid); b_hh's r and z parts join the projection's
        # bias, its n part stays inside r * (W_hn h + b_hn).
        if bias_ih is not None:
            bias_ih = torch.cat(
                (bias_ih[: 2 * hidden] + bias_hh[: 2 * hidden], 2 * bias_ih[2 * hidden :])
            )
            bias_hh = torch.cat((bias_hh.new_zeros(2 * hidden), 2 * bias_hh[2 * hidden :]))
        (h_n,) = _run_direction(
            _gru_steps,
            x,
            out,
            batch_sizes,
            reverse,
            h0,
            weight_ih=_doubled(weight_ih, 2 * hidden),
            weight_hh=_doubled(weight_hh, 2 * hidden),
            bias_ih=bias_ih,
            bias_hh=bias_hh,
        )
    return h_n

"""Fast recurrences for one direction of one layer, with a hand-written backward pass.

Every function here runs the recurrence of a whole sequence batch in one
``torch.autograd.Function``: the input projections ``x_t @ W_ih.T + b`` of all steps are
computed by the caller as one matmul, the loop does one ``addmm`` (``h @ W_hh.T``) and a
few in-place elementwise ops per step into preallocated buffers, and ``backward`` walks
the steps in reverse with the gradient formulas of the cell equations
(:mod:`seqlab.nn.cells`). Factors of those formulas that do not depend on the
backward recurrence are computed for all steps at once before the loop, and the weight
gradient is one matmul after it. No autograd graph is built per step, which is where
most of the time of a step-by-step autograd implementation goes on a CPU.

Data layout is that of ``torch.nn.utils.rnn.PackedSequence``: rows of all sequences,
time-major, sequences sorted by decreasing length, ``batch_sizes[t]`` active rows at
step t (a full batch is the special case where every entry equals the batch size).
A reverse direction walks the steps backwards, so each sequence starts at its own last
true step from the initial state.

Reference: the step functions in :mod:`seqlab.nn.cells`; ``tests/nn/test_layers.py``
holds this path equal to that reference and to torch.nn, forward and backward.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["Schedule", "gru_recurrence", "lstm_recurrence", "rnn_recurrence", "schedule"]


@dataclass(frozen=True)
class Schedule:
    """Where each step's rows live in the packed layout, in processing order.

    steps: ``(row_offset, active_rows, active_rows_of_next_processed_step)`` per step.
    prev_index: for each packed row, the row of its previous state in
    ``cat(h0, outputs)`` (``< batch`` means the initial state).
    last_index: for each sequence, the packed row of its final state.
    """

    steps: tuple[tuple[int, int, int], ...]
    prev_index: Tensor
    last_index: Tensor


@functools.lru_cache(maxsize=256)
def schedule(batch_sizes: tuple[int, ...], reverse: bool) -> Schedule:
    """Build (and cache) the step schedule for one direction over a packed batch."""
    num_steps = len(batch_sizes)
    batch = batch_sizes[0]
    sizes = torch.tensor(batch_sizes, dtype=torch.long)
    offsets = torch.zeros(num_steps, dtype=torch.long)
    offsets[1:] = torch.cumsum(sizes, 0)[:-1]
    order = range(num_steps - 1, -1, -1) if reverse else range(num_steps)
    order = list(order)
    steps = []
    for k, t in enumerate(order):
        next_size = batch_sizes[order[k + 1]] if k + 1 < num_steps else 0
        steps.append((int(offsets[t]), batch_sizes[t], next_size))

    step_of_row = torch.repeat_interleave(torch.arange(num_steps), sizes)
    column = torch.arange(int(sizes.sum())) - offsets[step_of_row]
    previous_step = step_of_row + (1 if reverse else -1)
    padded_sizes = torch.cat(
        (torch.zeros(1, dtype=torch.long), sizes, torch.zeros(1, dtype=torch.long))
    )
    has_previous = column < padded_sizes[previous_step + 1]
    previous_offset = offsets[previous_step.clamp(0, num_steps - 1)]
    prev_index = torch.where(has_previous, batch + previous_offset + column, column)

    if reverse:
        last_index = torch.arange(batch)
    else:
        lengths = (sizes.unsqueeze(0) > torch.arange(batch).unsqueeze(1)).sum(1)
        last_index = offsets[lengths - 1] + torch.arange(batch)
    return Schedule(tuple(steps), prev_index, last_index)


def _next_state(current: Tensor, initial: Tensor, size: int, next_size: int) -> Tensor:
    """State rows the next processed step reads: current rows, plus initial rows joining."""
    if next_size == size:
        return current
    if next_size < size:
        return current[:next_size]
    return torch.cat((current, initial[size:next_size]))


def _previous_states(initial: Tensor, states: Tensor, plan: Schedule) -> Tensor:
    """Each packed row's input state (initial or the previous step's), for all steps at once."""
    index = plan.prev_index.to(states.device)
    return torch.cat((initial, states)).index_select(0, index)


class _RNNRecurrence(torch.autograd.Function):
    """h_t = act(xp_t + h_{t-1} W_hh^T), with xp = x W_ih^T + b_ih + b_hh precomputed."""

    @staticmethod
    def forward(ctx, xp, weight_hh, h0, batch_sizes, reverse, relu):
        plan = schedule(batch_sizes, reverse)
        out = torch.empty_like(xp)
        weight_t = weight_hh.t()
        h_prev = h0[: plan.steps[0][1]]
        for offset, size, next_size in plan.steps:
            h = out[offset : offset + size]
            torch.addmm(xp[offset : offset + size], h_prev, weight_t, out=h)
            if relu:
                h.relu_()
            else:
                h.tanh_()
            h_prev = _next_state(h, h0, size, next_size)
        h_n = out.index_select(0, plan.last_index.to(out.device))
        ctx.save_for_backward(weight_hh, h0, out)
        ctx.plan, ctx.relu = plan, relu
        return out, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_h_n):
        weight_hh, h0, out = ctx.saved_tensors
        plan = ctx.plan
        d_out = d_out.contiguous()
        # d act / d pre-activation, from the outputs: 1 - h^2 for tanh, [h > 0] for relu.
        slope = (out > 0).to(out.dtype) if ctx.relu else 1 - out * out
        d_pre = torch.empty_like(out)
        d_h = d_h_n.contiguous().clone()
        for offset, size, _ in reversed(plan.steps):
            rows = d_pre[offset : offset + size]
            torch.add(d_h[:size], d_out[offset : offset + size], out=rows)
            rows.mul_(slope[offset : offset + size])
            torch.mm(rows, weight_hh, out=d_h[:size])
        d_weight_hh = d_pre.t() @ _previous_states(h0, out, plan)
        return d_pre, d_weight_hh, d_h, None, None, None


class _LSTMRecurrence(torch.autograd.Function):
    """LSTM recurrence; gate blocks in the order o, i, f, g (see :func:`lstm_recurrence`)."""

    @staticmethod
    def forward(ctx, xp, weight_hh, h0, c0, batch_sizes, reverse):
        plan = schedule(batch_sizes, reverse)
        hidden = h0.shape[1]
        gates = torch.empty_like(xp)  # activated o, i, f, g
        cells = xp.new_empty(xp.shape[0], hidden)
        out = xp.new_empty(xp.shape[0], hidden)
        tanh_cell = xp.new_empty(h0.shape)
        weight_t = weight_hh.t()
        first = plan.steps[0][1]
        h_prev, c_prev = h0[:first], c0[:first]
        for offset, size, next_size in plan.steps:
            g = gates[offset : offset + size]
            torch.addmm(xp[offset : offset + size], h_prev, weight_t, out=g)
            g[:, : 3 * hidden].sigmoid_()
            g[:, 3 * hidden :].tanh_()
            c = cells[offset : offset + size]
            torch.mul(g[:, 2 * hidden : 3 * hidden], c_prev, out=c)  # f * c
            c.addcmul_(g[:, hidden : 2 * hidden], g[:, 3 * hidden :])  # + i * g
            tanh_c = tanh_cell[:size]
            torch.tanh(c, out=tanh_c)
            h = out[offset : offset + size]
            torch.mul(g[:, :hidden], tanh_c, out=h)  # o * tanh(c)
            h_prev = _next_state(h, h0, size, next_size)
            c_prev = _next_state(c, c0, size, next_size)
        last = plan.last_index.to(out.device)
        h_n = out.index_select(0, last)
        c_n = cells.index_select(0, last)
        ctx.save_for_backward(weight_hh, h0, c0, gates, cells, out)
        ctx.plan = plan
        return out, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_h_n, d_c_n):
        weight_hh, h0, c0, gates, cells, out = ctx.saved_tensors
        plan = ctx.plan
        rows, hidden = cells.shape
        d_out = d_out.contiguous()
        o, i, f, g = gates.split(hidden, dim=1)
        tanh_c = torch.tanh(cells)
        c_prev = _previous_states(c0, cells, plan)
        # dL/dc_t gets dL/dh_t * o * (1 - tanh(c_t)^2) besides what flows back from c_{t+1}.
        h_to_c = o * (1 - tanh_c * tanh_c)
        # Pre-activation gradient per unit of dL/dh (block o) or dL/dc (blocks i, f, g).
        factors = torch.stack(
            (tanh_c * o * (1 - o), g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)), dim=1
        )  # (rows, 4, hidden)
        del tanh_c, c_prev
        d_gates = torch.empty(rows, 4, hidden, dtype=gates.dtype, device=gates.device)
        d_h = d_h_n.contiguous().clone()
        d_c = d_c_n.contiguous().clone()
        for offset, size, _ in reversed(plan.steps):
            dh = d_h[:size]
            dh.add_(d_out[offset : offset + size])
            dc = d_c[:size]
            dc.addcmul_(dh, h_to_c[offset : offset + size])
            dg = d_gates[offset : offset + size]
            k = factors[offset : offset + size]
            torch.mul(k[:, 0], dh, out=dg[:, 0])
            torch.mul(k[:, 1:], dc.unsqueeze(1), out=dg[:, 1:])
            torch.mm(dg.view(size, 4 * hidden), weight_hh, out=dh)
            dc.mul_(f[offset : offset + size])
        d_gates = d_gates.view(rows, 4 * hidden)
        d_weight_hh = d_gates.t() @ _previous_states(h0, out, plan)
        return d_gates, d_weight_hh, d_h, d_c, None, None


class _GRURecurrence(torch.autograd.Function):
    """GRU recurrence (gates r, z, n), xp = x W_ih^T + b_ih precomputed."""

    @staticmethod
    def forward(ctx, xp, weight_hh, bias_hh, h0, batch_sizes, reverse):
        plan = schedule(batch_sizes, reverse)
        hidden = h0.shape[1]
        gates = torch.empty_like(xp)  # activated r, z, n
        hidden_proj = torch.empty_like(xp)  # W_hh h + b_hh, needed again for dL/dr
        out = xp.new_empty(xp.shape[0], hidden)
        weight_t = weight_hh.t()
        h_prev = h0[: plan.steps[0][1]]
        for offset, size, next_size in plan.steps:
            hh = hidden_proj[offset : offset + size]
            if bias_hh is None:
                torch.mm(h_prev, weight_t, out=hh)
            else:
                torch.addmm(bias_hh, h_prev, weight_t, out=hh)
            x = xp[offset : offset + size]
            g = gates[offset : offset + size]
            reset_update = g[:, : 2 * hidden]
            torch.add(x[:, : 2 * hidden], hh[:, : 2 * hidden], out=reset_update)
            reset_update.sigmoid_()
            new = g[:, 2 * hidden :]
            torch.addcmul(x[:, 2 * hidden :], g[:, :hidden], hh[:, 2 * hidden :], out=new)
            new.tanh_()
            h = out[offset : offset + size]
            torch.lerp(new, h_prev, g[:, hidden : 2 * hidden], out=h)  # n + z * (h - n)
            h_prev = _next_state(h, h0, size, next_size)
        h_n = out.index_select(0, plan.last_index.to(out.device))
        ctx.save_for_backward(weight_hh, h0, gates, hidden_proj, out)
        ctx.plan, ctx.has_bias = plan, bias_hh is not None
        return out, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_h_n):
        weight_hh, h0, gates, hidden_proj, out = ctx.saved_tensors
        plan = ctx.plan
        rows, hidden = out.shape
        d_out = d_out.contiguous()
        r, z, n = gates.split(hidden, dim=1)
        h_prev = _previous_states(h0, out, plan)
        new_pre = (1 - z) * (1 - n * n)  # dL/d(pre-activation of n) per unit of dL/dh'
        # dL/d(W_hh h + b_hh) per unit of dL/dh', blocks r, z, n.
        factors = torch.stack(
            (
                new_pre * hidden_proj[:, 2 * hidden :] * r * (1 - r),
                (h_prev - n) * z * (1 - z),
                new_pre * r,
            ),
            dim=1,
        )  # (rows, 3, hidden)
        d_hidden_proj = torch.empty(rows, 3, hidden, dtype=out.dtype, device=out.device)
        d_h_all = torch.empty_like(out)
        d_h = d_h_n.contiguous().clone()
        for offset, size, _ in reversed(plan.steps):
            dh = d_h_all[offset : offset + size]
            torch.add(d_h[:size], d_out[offset : offset + size], out=dh)
            dhp = d_hidden_proj[offset : offset + size]
            torch.mul(factors[offset : offset + size], dh.unsqueeze(1), out=dhp)
            torch.mul(dh, z[offset : offset + size], out=d_h[:size])
            d_h[:size].addmm_(dhp.view(size, 3 * hidden), weight_hh)
        d_hidden_proj = d_hidden_proj.view(rows, 3 * hidden)
        d_xp = torch.cat((d_hidden_proj[:, : 2 * hidden], d_h_all * new_pre), dim=1)
        d_weight_hh = d_hidden_proj.t() @ h_prev
        d_bias_hh = d_hidden_proj.sum(0) if ctx.has_bias else None
        return d_xp, d_weight_hh, d_bias_hh, d_h, None, None


def rnn_recurrence(
    xp: Tensor,
    weight_hh: Tensor,
    h0: Tensor,
    batch_sizes: tuple[int, ...],
    reverse: bool,
    relu: bool,
) -> tuple[Tensor, Tensor]:
    """Elman recurrence over packed rows: returns (outputs (rows, H), h_n (batch, H))."""
    return _RNNRecurrence.apply(xp, weight_hh, h0, batch_sizes, reverse, relu)


def lstm_recurrence(
    xp: Tensor,
    weight_hh: Tensor,
    h0: Tensor,
    c0: Tensor,
    batch_sizes: tuple[int, ...],
    reverse: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """LSTM recurrence over packed rows: returns (outputs, h_n, c_n).

    ``xp`` and ``weight_hh`` must have their gate blocks in the order o, i, f, g (not
    torch's i, f, g, o): the three sigmoid gates are then one contiguous block and the
    three gates driven by dL/dc another, which saves one elementwise op per step in each
    direction of the pass. The caller permutes the rows (see ``layers._LSTM_ORDER``).
    """
    return _LSTMRecurrence.apply(xp, weight_hh, h0, c0, batch_sizes, reverse)


def gru_recurrence(
    xp: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    h0: Tensor,
    batch_sizes: tuple[int, ...],
    reverse: bool,
) -> tuple[Tensor, Tensor]:
    """GRU recurrence over packed rows (``xp = x W_ih^T + b_ih``): returns (outputs, h_n)."""
    return _GRURecurrence.apply(xp, weight_hh, bias_hh, h0, batch_sizes, reverse)

"""numba float32 kernels: the elementwise part of one recurrent step, fused into one loop.

What they compute: given the pre-activations of a step (``x W_ih^T + b + h W_hh^T``, made
by ATen matmuls in :mod:`seqlab.nn._inference` and :mod:`seqlab.nn._training`), the
activated gates and the new states of the cell equations in :mod:`seqlab.nn.cells`:

- Elman (``rnn_cell``): h = tanh(pre) or relu(pre);
- LSTM (``lstm_cell``, ``lstm_train``; Hochreiter & Schmidhuber 1997 with the forget
  gate of Gers et al. 2000, as ``torch.nn.LSTM``): c = f c + i g, h = o tanh(c), gate
  blocks in the order o, i, f, g (torch's i, f, g, o permuted by the caller so the three
  sigmoid gates are one contiguous block);
- GRU (``gru_cell``, ``gru_train``; Cho et al. 2014, as ``torch.nn.GRU``, gates r, z, n):
  n = tanh(x_n + r (W_hn h + b_hn)), h = (1 - z) n + z h_prev.

``*_cell`` serve inference (a running state, and outputs written through a row map into
possibly strided output rows); ``lstm_train`` and ``gru_train`` serve the training
forward (all directions, saved gates). The Elman training step (one tanh or relu) and
everything in float64 or without numba run on ATen ops.

tanh and sigmoid are the rational approximation of Eigen's ``ptanh_float`` (odd degree-13
numerator over even degree-6 denominator, clamped to |x| <= 7.9053, where it reaches 1),
which vectorises where a call to libm's exp does not; sigmoid(x) = (1 + tanh(x/2)) / 2.
Its error against float64 tanh is a few float32 ulp (bound checked by
``test_kernel_tanh_and_sigmoid_accuracy``). NaN propagates: the clamps compare so that
NaN passes, and the fast-math flags allow reassociation and contraction but not
"no NaN/Inf" assumptions; ``error_model="numpy"`` drops the division-by-zero check that
stops vectorisation. Arrays are 1-D views of 2-D row-major buffers with explicit offsets
and row strides, and each row is sliced before the inner loop: numba vectorises a
unit-stride loop only when it knows the stride, which a strided 2-D view hides.

Compilation: nothing is compiled at import. :func:`compiled` compiles (or loads from
numba's on-disk cache) one kernel for exactly the signature in ``SIGNATURES`` the first
time a layer needs it, then refuses other specialisations; a compile (a cache miss:
once per install, or after the source changes) logs one WARNING first, so the wait is
not silent. ``python -m seqlab.nn._kernels`` compiles them all ahead (:func:`compile_all`).

Reference and tests: the step functions in :mod:`seqlab.nn.cells` are the slow
reference; ``tests/nn/test_layers.py`` holds the float32 layers (which run these
kernels) to torch.nn and checks the approximation's accuracy and NaN propagation.
"""

from __future__ import annotations

import functools
import logging

import numba
import numpy as np
from numba.core import event

__all__ = ["SIGNATURES", "compile_all", "compiled"]

logger = logging.getLogger(__name__)

_jit = functools.partial(
    numba.njit,
    fastmath={"nsz", "arcp", "contract", "afn", "reassoc"},
    error_model="numpy",
    nogil=True,
    cache=True,
)
_CLAMP = np.float32(7.90531110763549805)


@_jit
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


@_jit
def _sigmoid32(x):
    return np.float32(0.5) + np.float32(0.5) * _tanh32(np.float32(0.5) * x)


@_jit
def rnn_cell(pre, p_at, state, h, rows, h_stride, size, hidden, relu):
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
def lstm_cell(gates, g_at, c, state, h, rows, h_stride, size, hidden):
    """One LSTM step's elementwise part: gates (rows of 4H from offset ``g_at``, blocks
    o, i, f, g, holding x W_ih^T + h W_hh^T + b) to c = f c + i g (in place) and
    h = o tanh(c), into the running state and output row ``rows[b]``."""
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
def gru_cell(xp, x_at, hh, b_hn, state, h, rows, h_stride, size, hidden):
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
def lstm_train(gates, cells, tanh_cells, h, prev_c, p_at, p_stride, at, rows, size, hidden):
    """Training forward step of the LSTM for all directions: gates (D, rows, 4H; blocks
    o, i, f, g, pre-activation) activated in place, cells, tanh(cells) and h (D, rows, H)
    written at rows ``at``...``at + size``; c_prev read from ``prev_c`` at element
    ``p_at`` (+ ``p_stride`` per direction). All arrays flat."""
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
def gru_train(xp, x_at, x_rows, hh, gates, h, prev, p_at, p_stride, at, rows, size, hidden):
    """Training forward step of the GRU for all directions: from the input projections
    (D, x_rows, 3H, this step's rows from ``x_at``) and the saved W_hh h + b_hh
    (D, rows, 3H), the activated gates r, z, n (D, rows, 3H) and h (D, rows, H) at rows
    ``at``...``at + size``; h_prev read from ``prev`` at element ``p_at`` (+ ``p_stride``
    per direction). All arrays flat."""
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


_F32 = numba.float32[::1]  # flat, contiguous float32 buffers
_ROWS = numba.int64[::1]  # row maps
_INT = numba.int64

# The one signature each kernel is compiled for: the types the callers pass.
SIGNATURES = {
    "rnn_cell": numba.void(_F32, _INT, _F32, _F32, _ROWS, _INT, _INT, _INT, numba.boolean),
    "lstm_cell": numba.void(_F32, _INT, _F32, _F32, _F32, _ROWS, _INT, _INT, _INT),
    "gru_cell": numba.void(_F32, _INT, _F32, _F32, _F32, _F32, _ROWS, _INT, _INT, _INT),
    "lstm_train": numba.void(_F32, _F32, _F32, _F32, _F32, *[_INT] * 6),
    "gru_train": numba.void(_F32, _INT, _INT, _F32, _F32, _F32, _F32, *[_INT] * 6),
}
_KERNELS = {
    "rnn_cell": rnn_cell,
    "lstm_cell": lstm_cell,
    "gru_cell": gru_cell,
    "lstm_train": lstm_train,
    "gru_train": gru_train,
}
_DESCRIPTIONS = {
    "rnn_cell": "RNN inference",
    "lstm_cell": "LSTM inference",
    "gru_cell": "GRU inference",
    "lstm_train": "LSTM training",
    "gru_train": "GRU training",
}


class _AnnounceCompile(event.Listener):
    """Logs one WARNING when numba starts compiling (a cache miss), not on a cache load."""

    def __init__(self, name: str) -> None:
        self.name, self.announced = name, False

    def on_start(self, event) -> None:
        if not self.announced:
            self.announced = True
            logger.warning(
                "seqlab.nn: compiling the float32 %s kernel with numba, once (cached on "
                "disk for later runs); this takes a few seconds.",
                _DESCRIPTIONS[self.name],
            )

    def on_end(self, event) -> None:
        pass


@functools.cache
def compiled(name: str):
    """The kernel ``name`` (a key of ``SIGNATURES``), compiled for its signature only.

    Loads it from numba's on-disk cache when there, else compiles it after one WARNING
    log record. Further specialisations are disabled: arguments of other types raise
    TypeError instead of compiling a new version.
    """
    dispatcher = _KERNELS[name]
    with event.install_listener("numba:compile", _AnnounceCompile(name)):
        dispatcher.compile(SIGNATURES[name])
    dispatcher.disable_compile()
    return dispatcher


def compile_all() -> None:
    """Compile (or load) every kernel, e.g. once after installing, so that no layer
    waits for a compile later (``python -m seqlab.nn._kernels``)."""
    for name in SIGNATURES:
        compiled(name)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    compile_all()

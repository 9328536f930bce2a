"""Recurrent cells written as their textbook equations: RNNCell, LSTMCell, GRUCell.

One step of each recurrence is a plain function (``rnn_step``, ``lstm_step``,
``gru_step``) that reads like the equations in its docstring; the cell modules hold the
parameters and call it. The layers in :mod:`seqlab.nn.layers` use the same functions as
their reference path, so the equations live in exactly one place.

Parameter names, shapes, gate order and initialisation follow ``torch.nn.RNNCell``,
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell`` (``weight_ih`` of shape
``(gates * hidden_size, input_size)``, ``weight_hh``, ``bias_ih``, ``bias_hh``; every
parameter uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size)]``), so a state_dict
moves between the two both ways. ``tests/nn/test_cells.py`` checks them against torch.nn.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "gru_step", "lstm_step", "rnn_step"]


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight.T + bias``: the affine map every gate is made of."""
    out = x @ weight.t()
    return out if bias is None else out + bias


def rnn_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One step of the Elman RNN.

    h' = act(W_ih x + b_ih + W_hh h + b_hh),  act = tanh or relu.
    """
    pre_activation = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)
    return torch.tanh(pre_activation) if nonlinearity == "tanh" else torch.relu(pre_activation)


def lstm_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """One step of the LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.).

    Gate rows of the weights are stacked in the order input, forget, cell candidate, output::

        i  = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     input gate
        f  = sigmoid(W_if x + b_if + W_hf h + b_hf)     forget gate
        g  = tanh(W_ig x + b_ig + W_hg h + b_hg)        cell candidate
        o  = sigmoid(W_io x + b_io + W_ho h + b_ho)     output gate
        c' = f * c + i * g
        h' = o * tanh(c')
    """
    gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)
    input_pre, forget_pre, candidate_pre, output_pre = gates.chunk(4, dim=-1)
    input_gate = torch.sigmoid(input_pre)
    forget_gate = torch.sigmoid(forget_pre)
    cell_candidate = torch.tanh(candidate_pre)
    output_gate = torch.sigmoid(output_pre)
    c_next = forget_gate * c + input_gate * cell_candidate
    h_next = output_gate * torch.tanh(c_next)
    return h_next, c_next


def gru_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
) -> Tensor:
    """One step of the GRU (Cho et al. 2014), in torch.nn's convention for the new gate.

    Gate rows are stacked in the order reset, update, new::

        r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          reset gate
        z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          update gate
        n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))       new (candidate) state
        h' = (1 - z) * n + z * h

    The reset gate multiplies ``W_hn h + b_hn`` (not ``h`` before the product), as in
    torch.nn.GRU and cuDNN; that is what makes weights interchangeable with torch.nn.
    """
    input_reset, input_update, input_new = _linear(x, weight_ih, bias_ih).chunk(3, dim=-1)
    hidden_reset, hidden_update, hidden_new = _linear(h, weight_hh, bias_hh).chunk(3, dim=-1)
    reset_gate = torch.sigmoid(input_reset + hidden_reset)
    update_gate = torch.sigmoid(input_update + hidden_update)
    new_state = torch.tanh(input_new + reset_gate * hidden_new)
    return (1 - update_gate) * new_state + update_gate * h


class _CellBase(nn.Module):
    """Parameters and input checks shared by the three cells."""

    num_gates: int = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}.")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        gate_size = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gate_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(gate_size, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(gate_size, **factory))
            self.bias_hh = nn.Parameter(torch.empty(gate_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform on [-1/sqrt(hidden_size), 1/sqrt(hidden_size)], as torch.nn does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"

    def _check_input(self, input: Tensor) -> bool:
        """Validate ``input``; return whether it carries a batch dimension."""
        if not isinstance(input, Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}.")
        if not input.is_floating_point():
            raise TypeError(
                f"input must be a floating-point tensor, got dtype {input.dtype}. "
                "Convert it with input.float()."
            )
        if input.dim() not in (1, 2):
            raise ValueError(
                f"input must be 1-D (input_size,) or 2-D (batch, input_size), "
                f"got shape {tuple(input.shape)}."
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"input has {input.shape[-1]} features, expected input_size="
                f"{self.input_size} (input shape {tuple(input.shape)})."
            )
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(
                f"input dtype {input.dtype} does not match the parameters' dtype "
                f"{self.weight_ih.dtype}; convert one of them (e.g. module.to(input.dtype))."
            )
        return input.dim() == 2

    def _initial_state(self, input: Tensor, state: Tensor | None, name: str) -> Tensor:
        expected = (input.shape[0], self.hidden_size) if input.dim() == 2 else (self.hidden_size,)
        if state is None:
            return input.new_zeros(expected)
        if not isinstance(state, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(state).__name__}.")
        if tuple(state.shape) != expected:
            raise ValueError(
                f"{name} must have shape {expected} for input of shape "
                f"{tuple(input.shape)}, got {tuple(state.shape)}."
            )
        return state


class RNNCell(_CellBase):
    """Elman RNN cell: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, act = tanh or relu.

    Shapes: input ``(N, H_in)`` or ``(H_in,)``; hx like input with ``H_out`` features
    (zeros when omitted); returns h' of the same shape as hx.
    Same parameters and initialisation as ``torch.nn.RNNCell``.
    """

    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}.")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_input(input)
        h = self._initial_state(input, hx, "hx")
        return rnn_step(
            input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )


class LSTMCell(_CellBase):
    """LSTM cell; the equations are in :func:`lstm_step` (gates i, f, g, o).

    Shapes: input ``(N, H_in)`` or ``(H_in,)``; ``hx = (h, c)``, each ``(N, H_out)`` or
    ``(H_out,)`` (zeros when omitted); returns ``(h', c')``.
    Same parameters, gate order and initialisation as ``torch.nn.LSTMCell``.
    """

    num_gates = 4

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        self._check_input(input)
        if hx is None:
            h = c = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h, c = hx
        else:
            raise TypeError("hx must be a tuple (h, c) of two tensors, or None.")
        h = self._initial_state(input, h, "hx[0] (h)")
        c = self._initial_state(input, c, "hx[1] (c)")
        return lstm_step(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(_CellBase):
    """GRU cell; the equations are in :func:`gru_step` (gates r, z, n).

    Shapes: input ``(N, H_in)`` or ``(H_in,)``; hx ``(N, H_out)`` or ``(H_out,)`` (zeros
    when omitted); returns h'. Same parameters, gate order and initialisation as
    ``torch.nn.GRUCell``.
    """

    num_gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_input(input)
        h = self._initial_state(input, hx, "hx")
        return gru_step(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

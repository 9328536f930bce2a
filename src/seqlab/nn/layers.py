"""Recurrent layers: RNN, LSTM and GRU, multi-layer and bidirectional, with variable lengths.

Constructor arguments, forward signature, output shapes, parameter names
(``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gate order (LSTM i, f, g, o; GRU r, z, n)
and initialisation (uniform on ``±1/sqrt(hidden_size)``) are those of ``torch.nn.RNN``,
``torch.nn.LSTM`` and ``torch.nn.GRU``, so a state_dict moves between them both ways.
The math is ours: the cell equations are in :mod:`seqlab.nn.cells`, the fast paths in
:mod:`seqlab.nn._training` (autograd), :mod:`seqlab.nn._inference` (no autograd) and
:mod:`seqlab.nn._kernels` (the numba float32 kernels they use).

Shapes (N batch, L sequence length, D = 2 if bidirectional else 1, H_in input size,
H_out hidden size):

- input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first=True``, ``(L, H_in)``
  unbatched, or a ``torch.nn.utils.rnn.PackedSequence``;
- initial state ``hx``: ``(D * num_layers, N, H_out)`` (zeros when omitted); for LSTM a
  tuple ``(h_0, c_0)`` of two such tensors;
- output: ``(L, N, D * H_out)`` (``(N, L, D * H_out)`` with batch_first, a PackedSequence
  for packed input); ``h_n`` (and ``c_n``): ``(D * num_layers, N, H_out)``, row
  ``layer * D + direction``.

``lengths=`` (1-D integers, any order) marks the true length of each padded sequence:
outputs at padded steps are zero, ``h_n`` is each sequence's state at its last true
step, and the reverse direction starts there. Internally the batch is packed (sorted by
length, only true steps computed); float32 inference instead runs on the padded rows
through a row map (no packing or scattering copies). Per real token a variable-length
batch still costs somewhat more than a full one: a step's ``h W_hh^T`` has a fixed cost
besides its cost per row, so the many steps with few sequences left cost more per row,
and the per-step Python overhead is shared by fewer rows (``benchmarks/rnn_throughput.py
--sections variable`` measures it against torch.nn's packed sequences).

Two implementations compute the same thing: ``implementation="fused"`` (default;
chunked matmuls for the input projections, then :mod:`seqlab.nn._training`'s loop
with a hand-written backward, or, when no gradient is wanted (``torch.no_grad()``, or
neither input, states nor parameters require grad), :mod:`seqlab.nn._inference`'s loop
that stores nothing for backward) and ``implementation="reference"`` (the cell step
functions in a Python loop, differentiated by autograd). Tests hold them equal to each
other and to torch.nn, outputs and gradients. The fused backward is first-order only
(double backward raises); the reference path supports higher-order gradients.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from seqlab.nn._inference import gru_inference, lstm_inference, rnn_inference
from seqlab.nn._layout import schedule, uses_kernels, wants_grad
from seqlab.nn._training import gru_recurrence, lstm_recurrence, rnn_recurrence
from seqlab.nn.cells import gru_step, lstm_step, rnn_step

__all__ = ["GRU", "LSTM", "RNN"]

_IMPLEMENTATIONS = ("fused", "reference")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
# Gate blocks o, i, f, g taken from torch's i, f, g, o (see _training.lstm_recurrence).
_LSTM_ORDER = (3, 0, 1, 2)


class _Kernels(NamedTuple):
    """One mode's three implementations of a layer direction: the autograd recurrence,
    the no-grad inference loop and the reference cell step."""

    recurrence: Callable
    inference: Callable
    step: Callable


# Each mode's kernels. LSTM's also take and return the cell state ``c`` after ``h``, and
# want the gate blocks in the order of ``_lstm_order``.
_KERNELS = {
    "LSTM": _Kernels(lstm_recurrence, lstm_inference, lstm_step),
    "GRU": _Kernels(gru_recurrence, gru_inference, gru_step),
    "RNN_TANH": _Kernels(
        functools.partial(rnn_recurrence, relu=False),
        functools.partial(rnn_inference, relu=False),
        functools.partial(rnn_step, nonlinearity="tanh"),
    ),
    "RNN_RELU": _Kernels(
        functools.partial(rnn_recurrence, relu=True),
        functools.partial(rnn_inference, relu=True),
        functools.partial(rnn_step, nonlinearity="relu"),
    ),
}


class _RNNBase(nn.Module):
    """Parameters, input checks and the layer/direction loop shared by RNN, LSTM and GRU."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        implementation: str = "fused",
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}.")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
            raise TypeError(f"dropout must be a number in [0, 1], got {type(dropout).__name__}.")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}.")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: dropout acts between "
                "layers only.",
                UserWarning,
                stacklevel=3,
            )
        if implementation not in _IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {_IMPLEMENTATIONS}, got {implementation!r}."
            )
        self.mode = mode
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.implementation = implementation
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [
                    (f"weight_ih_l{layer}{suffix}", (gate_size, layer_input_size)),
                    (f"weight_hh_l{layer}{suffix}", (gate_size, hidden_size)),
                ]
                if bias:
                    shapes += [
                        (f"bias_ih_l{layer}{suffix}", (gate_size,)),
                        (f"bias_hh_l{layer}{suffix}", (gate_size,)),
                    ]
                for name, shape in shapes:
                    setattr(self, name, nn.Parameter(torch.empty(shape, **factory)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """Uniform on [-1/sqrt(hidden_size), 1/sqrt(hidden_size)], in torch.nn's order."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Accepted for torch.nn compatibility; there is no flat cuDNN buffer to rebuild."""

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for name, default in (
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.implementation != "fused":
            text += f", implementation={self.implementation!r}"
        return text

    def _layer_weights(self, layer: int, direction: int) -> list[Tensor | None]:
        suffix = "_reverse" if direction == 1 else ""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return [getattr(self, f"{name}_l{layer}{suffix}", None) for name in names]

    # ----- input checks -------------------------------------------------------------

    def _check_data(self, data: Tensor, name: str, expected: str) -> None:
        if not data.is_floating_point():
            raise TypeError(
                f"{name} must be a floating-point tensor, got dtype {data.dtype}. "
                "Convert it with .float() (token ids go through an nn.Embedding first)."
            )
        weight = self.weight_ih_l0
        if data.dtype != weight.dtype:
            raise TypeError(
                f"{name} has dtype {data.dtype} but the parameters have {weight.dtype}; "
                "convert one of them (e.g. module.to(input.dtype))."
            )
        if data.shape[-1] != self.input_size:
            raise ValueError(
                f"{name} must have input_size={self.input_size} features in its last "
                f"dimension, {expected}; got shape {tuple(data.shape)}."
            )

    def _check_state(self, state: object, name: str, expected: tuple[int, ...], like: Tensor):
        if state is None:
            return like.new_zeros(expected)
        if not isinstance(state, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(state).__name__}.")
        if tuple(state.shape) != expected:
            raise ValueError(
                f"{name} must have shape (num_layers * num_directions, batch, hidden_size) = "
                f"{expected}, got {tuple(state.shape)}."
            )
        if state.dtype != like.dtype:
            raise TypeError(f"{name} has dtype {state.dtype}, expected {like.dtype} like input.")
        return state

    @staticmethod
    def _check_lengths(lengths: object, batch: int, steps: int) -> Tensor:
        if isinstance(lengths, Tensor):
            values = lengths.detach().to("cpu")
        elif isinstance(lengths, np.ndarray) or (
            isinstance(lengths, Sequence) and not isinstance(lengths, (str, bytes))
        ):
            try:
                values = torch.as_tensor(np.asarray(lengths))
            except (TypeError, ValueError, RuntimeError):
                raise TypeError("lengths must be a 1-D tensor or sequence of ints.") from None
        else:
            raise TypeError(
                f"lengths must be a 1-D integer tensor, array or sequence of ints, "
                f"got {type(lengths).__name__}."
            )
        if values.is_floating_point() or values.is_complex() or values.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got dtype {values.dtype}.")
        if values.dim() != 1 or values.shape[0] != batch:
            raise ValueError(
                f"lengths must have shape ({batch},) (one length per sequence in the batch), "
                f"got {tuple(values.shape)}."
            )
        values = values.to(torch.long)
        if batch and int(values.min()) < 1:
            position = int(torch.argmin(values))
            raise ValueError(
                f"lengths must be >= 1; lengths[{position}] = {int(values[position])}. "
                "Drop empty sequences from the batch."
            )
        if batch and int(values.max()) > steps:
            position = int(torch.argmax(values))
            raise ValueError(
                f"lengths[{position}] = {int(values[position])} is longer than the "
                f"input's {steps} time steps."
            )
        return values

    # ----- forward ------------------------------------------------------------------

    def _forward(self, input, hx, lengths):
        """Normalise input and state to the packed layout, run, and restore the layout."""
        is_lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        unbatched = False
        pack_index = None
        sorted_indices = unsorted_indices = None
        if packed:
            if lengths is not None:
                raise ValueError(
                    "lengths= cannot be combined with a PackedSequence input, which "
                    "carries its own lengths."
                )
            data, batch_sizes_tensor, sorted_indices, unsorted_indices = input
            if data.dim() != 2:
                raise ValueError(
                    f"PackedSequence data must be 2-D (total steps, input_size), "
                    f"got shape {tuple(data.shape)}."
                )
            self._check_data(data, "input (PackedSequence data)", "shape (total steps, H_in)")
            batch_sizes = tuple(batch_sizes_tensor.tolist())
            batch, steps = batch_sizes[0], len(batch_sizes)
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"input must be a torch.Tensor or PackedSequence, got {type(input).__name__}."
                )
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"input must be 3-D {layout} or 2-D (L, H_in) unbatched, "
                    f"got shape {tuple(input.shape)}."
                )
            self._check_data(input, "input", f"expected {layout}")
            unbatched = input.dim() == 2
            if unbatched:
                if lengths is not None:
                    raise ValueError("lengths= needs a batched (3-D) input.")
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            if steps == 0 or batch == 0:
                raise ValueError(
                    f"input has no time steps or no sequences: shape {tuple(input.shape)}."
                )
            data = input.reshape(steps * batch, self.input_size)
            batch_sizes = (batch,) * steps
            if lengths is not None:
                lengths = self._check_lengths(lengths, batch, steps)
                if int(lengths.min()) < steps:
                    sorted_lengths, sorted_indices = torch.sort(
                        lengths, descending=True, stable=True
                    )
                    unsorted_indices = torch.empty_like(sorted_indices)
                    unsorted_indices[sorted_indices] = torch.arange(batch)
                    max_steps = int(sorted_lengths[0])
                    time = torch.arange(max_steps).unsqueeze(1)
                    active = time < sorted_lengths.unsqueeze(0)
                    batch_sizes = tuple(active.sum(1).tolist())
                    pack_index = (time * batch + sorted_indices.unsqueeze(0))[active]
                    pack_index = pack_index.to(data.device)
                    sorted_indices = sorted_indices.to(data.device)
                    unsorted_indices = unsorted_indices.to(data.device)

        expected = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if unbatched:
            expected_unbatched = (expected[0], expected[2])
            states = self._unbatched_states(hx, expected_unbatched, is_lstm)
        else:
            states = hx
        if is_lstm:
            if states is None:
                h0 = c0 = None
            elif isinstance(states, (tuple, list)) and len(states) == 2:
                h0, c0 = states
            else:
                raise TypeError("hx must be a tuple (h_0, c_0) of two tensors, or None.")
            h0 = self._check_state(h0, "hx[0] (h_0)", expected, data)
            c0 = self._check_state(c0, "hx[1] (c_0)", expected, data)
        else:
            h0 = self._check_state(states, "hx", expected, data)
            c0 = None
        if sorted_indices is not None:
            h0 = h0.index_select(1, sorted_indices)
            c0 = None if c0 is None else c0.index_select(1, sorted_indices)
        # Padded rows stay where they are on the compiled inference path (the steps read
        # and write rows through pack_index); otherwise the batch is packed.
        rows = None
        if pack_index is not None:
            if self._padded_inference(data, h0, c0):
                rows = pack_index
            else:
                data = data.index_select(0, pack_index)

        out_data, h_n, c_n = self._run(data, batch_sizes, h0, c0, rows)

        if unsorted_indices is not None:
            h_n = h_n.index_select(1, unsorted_indices)
            c_n = None if c_n is None else c_n.index_select(1, unsorted_indices)
        if packed:
            output = PackedSequence(out_data, batch_sizes_tensor, sorted_indices, unsorted_indices)
        else:
            width = out_data.shape[1]
            if rows is not None:
                # Only the last layer's padded rows are ever seen: zero just those.
                padding = torch.ones(steps * batch, dtype=torch.bool, device=rows.device)
                padding[rows] = False
                out_data.index_fill_(0, padding.nonzero().squeeze(1), 0)
            elif pack_index is not None:
                padded = out_data.new_zeros(steps * batch, width)
                out_data = padded.index_copy_(0, pack_index, out_data)
            output = out_data.view(steps, batch, width)
            if unbatched:
                output = output.squeeze(1)
                h_n = h_n.squeeze(1)
                c_n = None if c_n is None else c_n.squeeze(1)
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (h_n if c_n is None else (h_n, c_n))

    @staticmethod
    def _unbatched_states(hx, expected: tuple[int, ...], is_lstm: bool):
        """Give unbatched initial states a batch dimension of one, after checking them."""
        if hx is None:
            return None
        parts = hx if is_lstm and isinstance(hx, (tuple, list)) else (hx,)
        checked = []
        for position, state in enumerate(parts):
            name = f"hx[{position}]" if is_lstm else "hx"
            if not isinstance(state, Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(state).__name__}.")
            if tuple(state.shape) != expected:
                raise ValueError(
                    f"{name} must have shape (num_layers * num_directions, hidden_size) = "
                    f"{expected} for unbatched input, got {tuple(state.shape)}."
                )
            checked.append(state.unsqueeze(1))
        return tuple(checked) if is_lstm else checked[0]

    def _padded_inference(self, data: Tensor, h0: Tensor, c0: Tensor | None) -> bool:
        """Whether a variable-length batch runs unpacked (``rows=`` of the inference path)."""
        return (
            self.implementation == "fused"
            and uses_kernels(data)
            and not wants_grad(data, h0, c0, *self.parameters())
        )

    def _run(
        self,
        data: Tensor,
        batch_sizes: tuple[int, ...],
        h0: Tensor,
        c0: Tensor | None,
        rows: Tensor | None = None,
    ):
        """All layers and directions over packed rows (or padded rows read through the
        packed-row map ``rows``); returns (outputs, h_n, c_n)."""
        layer_input = data
        h_finals, c_finals = [], []
        directions = self.num_directions
        for layer in range(self.num_layers):
            states = slice(layer * directions, (layer + 1) * directions)
            layer_c0 = None if c0 is None else c0[states]
            if self.implementation == "fused":
                result = self._layer_fused(
                    layer, layer_input, h0[states], layer_c0, batch_sizes, rows
                )
            else:
                result = self._layer_reference(
                    layer, layer_input, h0[states], layer_c0, batch_sizes
                )
            layer_input, h_n, c_n = result
            h_finals.append(h_n)
            c_finals.append(c_n)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        h_n = torch.cat(h_finals)
        c_n = torch.cat(c_finals) if c0 is not None else None
        return layer_input, h_n, c_n

    def _layer_fused(self, layer, x, h0, c0, batch_sizes, rows=None):
        """One layer, both directions at once, by :mod:`seqlab.nn._training` (or
        :mod:`seqlab.nn._inference` when no gradient is wanted)."""
        weights = [self._layer_weights(layer, d) for d in range(self.num_directions)]
        if rows is not None or not wants_grad(x, h0, c0, *(w for ws in weights for w in ws)):
            return self._layer_inference(weights, x, h0, c0, batch_sizes, rows)
        weight_ih, weight_hh, bias_ih, bias_hh = (
            None if w[0] is None else torch.stack(w) for w in zip(*weights, strict=True)
        )
        if self.bidirectional:
            # The reverse direction reads each sequence backwards from its true last step.
            # One gather builds both directions' inputs (index_select then stack copied
            # twice, and twice again in the backward pass).
            both = _bidirectional_index(batch_sizes, x.device)
            x = x.index_select(0, both[0]).view(2, x.shape[0], x.shape[1])
        else:
            x = x.unsqueeze(0)
        states = (h0.contiguous(),)
        if self.mode == "LSTM":
            # Gate blocks i, f, g, o -> o, i, f, g (see _training.lstm_recurrence).
            order = _lstm_order(self.hidden_size, x.device)
            weight_ih = weight_ih.index_select(1, order)
            weight_hh = weight_hh.index_select(1, order)
            if bias_ih is not None:
                bias_ih, bias_hh = bias_ih.index_select(1, order), bias_hh.index_select(1, order)
            states = (h0.contiguous(), c0.contiguous())
        out, h_n, *c_n = _KERNELS[self.mode].recurrence(
            x,
            *states,
            weight_ih=weight_ih,
            weight_hh=weight_hh,
            bias_ih=bias_ih,
            bias_hh=bias_hh,
            batch_sizes=batch_sizes,
        )
        c_n = c_n[0] if c_n else None
        if self.bidirectional:
            # Row r of the output is (forward row r, reverse row reverse[r]): one gather
            # over the (2 * rows, H) outputs, viewed as (rows, 2H).
            rows, hidden = out.shape[1], out.shape[2]
            output = out.reshape(2 * rows, hidden).index_select(0, both[1]).view(rows, 2 * hidden)
        else:
            output = out[0]
        return output, h_n, c_n

    def _layer_inference(self, weights, x, h0, c0, batch_sizes, rows=None):
        """One layer without autograd: each direction writes its own output columns
        (only the rows that ``rows`` maps packed rows to, when given)."""
        hidden = self.hidden_size
        output = x.new_empty(x.shape[0], self.num_directions * hidden)
        h_finals, c_finals = [], []
        for direction, (weight_ih, weight_hh, bias_ih, bias_hh) in enumerate(weights):
            out = output[:, direction * hidden : (direction + 1) * hidden]
            reverse = direction == 1
            states = (h0[direction],)
            if self.mode == "LSTM":
                order = _lstm_order(hidden, x.device)
                weight_ih, weight_hh = weight_ih[order], weight_hh[order]
                if bias_ih is not None:
                    bias_ih, bias_hh = bias_ih[order], bias_hh[order]
                states = (h0[direction], c0[direction])
            finals = _KERNELS[self.mode].inference(
                x,
                *states,
                weight_ih=weight_ih,
                weight_hh=weight_hh,
                bias_ih=bias_ih,
                bias_hh=bias_hh,
                batch_sizes=batch_sizes,
                out=out,
                reverse=reverse,
                rows=rows,
            )
            if self.mode == "LSTM":
                h_n, c_n = finals
                c_finals.append(c_n)
            else:
                h_n = finals
            h_finals.append(h_n)
        c_n = torch.stack(c_finals) if c_finals else None
        return output, torch.stack(h_finals), c_n

    def _layer_reference(self, layer, x, h0, c0, batch_sizes):
        outputs, h_finals, c_finals = [], [], []
        for direction in range(self.num_directions):
            initial_c = None if c0 is None else c0[direction]
            out, h_n, c_n = self._direction_reference(
                x,
                self._layer_weights(layer, direction),
                h0[direction],
                initial_c,
                batch_sizes,
                direction == 1,
            )
            outputs.append(out)
            h_finals.append(h_n)
            c_finals.append(c_n)
        output = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
        c_n = None if c0 is None else torch.stack(c_finals)
        return output, torch.stack(h_finals), c_n

    def _direction_reference(self, x, weights, h0, c0, batch_sizes, reverse):
        """The textbook loop: one cell step per time step, differentiated by autograd."""
        offsets = [0]
        for size in batch_sizes[:-1]:
            offsets.append(offsets[-1] + size)
        order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        h, c = h0, c0
        outputs: list[Tensor] = [x] * len(batch_sizes)
        for t in order:
            size = batch_sizes[t]
            x_t = x[offsets[t] : offsets[t] + size]
            if self.mode == "LSTM":
                h_t, c_t = lstm_step(x_t, h[:size], c[:size], *weights)
                c = torch.cat((c_t, c[size:])) if size < c.shape[0] else c_t
            else:
                h_t = _KERNELS[self.mode].step(x_t, h[:size], *weights)
            h = torch.cat((h_t, h[size:])) if size < h.shape[0] else h_t
            outputs[t] = h_t
        return torch.cat(outputs), h, c


@functools.lru_cache(maxsize=32)
def _bidirectional_index(
    batch_sizes: tuple[int, ...], device: torch.device
) -> tuple[Tensor, Tensor]:
    """Gather indices of a bidirectional training layer: rows of x for the stacked
    (forward, reversed) inputs, and rows of the stacked outputs interleaved per output
    row; reversed means :attr:`seqlab.nn._layout.Schedule.reverse_index`."""
    reverse = schedule(batch_sizes).reverse_index
    rows = reverse.shape[0]
    inputs = torch.cat((torch.arange(rows), reverse))
    outputs = torch.stack((torch.arange(rows), rows + reverse), dim=1).reshape(-1)
    return inputs.to(device), outputs.to(device)


@functools.lru_cache(maxsize=32)
def _lstm_order(hidden_size: int, device: torch.device) -> Tensor:
    """Row index taking gate blocks i, f, g, o to o, i, f, g."""
    blocks = torch.arange(4 * hidden_size, device=device).view(4, hidden_size)
    return blocks[list(_LSTM_ORDER)].reshape(-1)


class RNN(_RNNBase):
    """Elman RNN layer: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act tanh or relu.

    Arguments as ``torch.nn.RNN``: ``input_size, hidden_size, num_layers=1,
    nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False``; shapes and ``lengths=`` are described in
    :mod:`seqlab.nn.layers`. ``forward(input, hx=None, lengths=None)`` returns
    ``(output, h_n)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        implementation: str = "fused",
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}.")
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
            implementation=implementation,
        )
        self.nonlinearity = nonlinearity

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Tensor | None = None,
        lengths: Tensor | np.ndarray | Sequence[int] | None = None,
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        return self._forward(input, hx, lengths)


class LSTM(_RNNBase):
    """LSTM layer; each step is :func:`seqlab.nn.cells.lstm_step` (gates i, f, g, o).

    Arguments as ``torch.nn.LSTM`` (``proj_size`` is not supported): ``input_size,
    hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False``. ``forward(input, hx=None, lengths=None)`` with
    ``hx = (h_0, c_0)`` returns ``(output, (h_n, c_n))``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        implementation: str = "fused",
    ) -> None:
        if proj_size != 0:
            raise ValueError(
                f"proj_size={proj_size} is not supported by seqlab.nn.LSTM; use proj_size=0 "
                "(or torch.nn.LSTM for projected LSTMs)."
            )
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
            implementation=implementation,
        )
        self.proj_size = 0

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: tuple[Tensor, Tensor] | None = None,
        lengths: Tensor | np.ndarray | Sequence[int] | None = None,
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        return self._forward(input, hx, lengths)


class GRU(_RNNBase):
    """GRU layer; each step is :func:`seqlab.nn.cells.gru_step` (gates r, z, n).

    Arguments as ``torch.nn.GRU``: ``input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False``.
    ``forward(input, hx=None, lengths=None)`` returns ``(output, h_n)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        implementation: str = "fused",
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
            implementation=implementation,
        )

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Tensor | None = None,
        lengths: Tensor | np.ndarray | Sequence[int] | None = None,
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        return self._forward(input, hx, lengths)

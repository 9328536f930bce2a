"""Recurrent forecasting networks built from ``seqlab.nn``: a direct multi-output model
and an encoder-decoder (seq2seq). Ordered bottom-up: helpers, config, models.

Shapes: N batch, L lookback, F input features per step (the target is column
``target_index``), H horizon, D hidden size, K = 2 if bidirectional else 1.

- ``RecurrentForecastNet`` (Direct strategy; Taieb et al. 2012, "A review and comparison
  of strategies for multi-step ahead time series forecasting"): encode the window,
  concatenate the last layer's final state of each direction (N, K*D) and map it
  linearly to all H outputs at once. With ``horizon=1`` it is the one-step model that
  the recursive strategy feeds its own predictions.
- ``Seq2SeqForecastNet`` (Sutskever et al. 2014; Cho et al. 2014): the encoder's final
  state (directions merged by a linear bridge) starts a unidirectional decoder that
  reads the previous value (first the last observed target, then its own prediction)
  and emits one value per step, free-running in training too (the Trainer calls
  ``model(inputs)`` only, so there is no teacher forcing and no exposure bias).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from seqlab import nn as snn
from seqlab.models.registry import MAX_DIMENSION, MAX_LAYERS, check_size, register_model

__all__ = [
    "EnsembleForecastNet",
    "EnsembleForecasterConfig",
    "RecurrentForecastNet",
    "RecurrentForecasterConfig",
    "Seq2SeqForecastNet",
]

_LAYERS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _layer(config: RecurrentForecasterConfig, input_size: int, bidirectional: bool):
    if config.cell not in _LAYERS:
        raise ValueError(f"cell must be one of {sorted(_LAYERS)}, got {config.cell!r}.")
    return getattr(snn, _LAYERS[config.cell])(
        input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        batch_first=True,
        dropout=config.dropout if config.num_layers > 1 else 0.0,
        bidirectional=bidirectional,
    )


def _last_layer_state(h_n: Tensor, directions: int) -> Tensor:
    # h_n: (num_layers * K, N, D), layer-major as in torch.nn -> (N, K*D) of the top layer.
    top = h_n[-directions:]  # (K, N, D)
    return top.permute(1, 0, 2).reshape(top.shape[1], -1)


@dataclass
class RecurrentForecasterConfig:
    cell: str = "lstm"  # "rnn", "lstm" or "gru"
    input_size: int = 1  # features per time step, the target among them
    hidden_size: int = 64  # D
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # between stacked layers (needs num_layers > 1)
    bidirectional: bool = False  # encoder reads the window both ways
    horizon: int = 1  # H outputs per window (1 for the recursive strategy)
    target_index: int = 0  # column of the target in the inputs (seq2seq's first input)

    def __post_init__(self) -> None:
        if self.cell not in _LAYERS:
            raise ValueError(f"cell must be one of {sorted(_LAYERS)}, got {self.cell!r}.")
        for name, maximum in (
            ("input_size", MAX_DIMENSION),
            ("hidden_size", MAX_DIMENSION),
            ("num_layers", MAX_LAYERS),
            ("horizon", MAX_DIMENSION),
        ):
            check_size(getattr(self, name), name, maximum)
        check_size(self.target_index, "target_index", MAX_DIMENSION, minimum=0)
        if not 0 <= self.target_index < self.input_size:
            raise ValueError(
                f"target_index must be in [0, {self.input_size}), got {self.target_index}."
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")


class RecurrentForecastNet(torch.nn.Module):
    """Window (N, L, F) -> all H future target values (N, H) in one shot."""

    def __init__(self, config: RecurrentForecasterConfig) -> None:
        super().__init__()
        self.config = config
        self.directions = 2 if config.bidirectional else 1
        self.encoder = _layer(config, config.input_size, config.bidirectional)
        self.head = torch.nn.Linear(self.directions * config.hidden_size, config.horizon)

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        _, state = self.encoder(inputs, None, lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM returns (h_n, c_n)
        return self.head(_last_layer_state(h_n, self.directions))  # (N, H)


class Seq2SeqForecastNet(torch.nn.Module):
    """Encoder over the window, decoder unrolled H steps on its own outputs: (N, H)."""

    def __init__(self, config: RecurrentForecasterConfig) -> None:
        super().__init__()
        self.config = config
        self.directions = 2 if config.bidirectional else 1
        self.encoder = _layer(config, config.input_size, config.bidirectional)
        self.decoder = _layer(config, 1, bidirectional=False)
        self.bridge = (
            torch.nn.Linear(2 * config.hidden_size, config.hidden_size)
            if config.bidirectional
            else None
        )
        self.head = torch.nn.Linear(config.hidden_size, 1)

    def _merge(self, h_n: Tensor) -> Tensor:
        if self.bridge is None:
            return h_n
        layers, batch = self.config.num_layers, h_n.shape[1]
        # (layers * 2, N, D) -> (layers, N, 2D) -> (layers, N, D)
        pairs = h_n.view(layers, 2, batch, -1).permute(0, 2, 1, 3).reshape(layers, batch, -1)
        return torch.tanh(self.bridge(pairs))

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        _, state = self.encoder(inputs, None, lengths=lengths)
        if isinstance(state, tuple):
            state = (self._merge(state[0]), self._merge(state[1]))
        else:
            state = self._merge(state)
        if lengths is None:
            previous = inputs[:, -1:, self.config.target_index : self.config.target_index + 1]
        else:
            rows = torch.arange(inputs.shape[0], device=inputs.device)
            last = (lengths.to(inputs.device) - 1).long()
            previous = inputs[rows, last, self.config.target_index].view(-1, 1, 1)
        outputs = []
        for _ in range(self.config.horizon):
            out, state = self.decoder(previous, state)  # out: (N, 1, D)
            step = self.head(out[:, -1])  # (N, 1)
            outputs.append(step)
            previous = step.unsqueeze(1)  # (N, 1, 1)
        return torch.cat(outputs, dim=1)  # (N, H)


@dataclass
class EnsembleForecasterConfig:
    cell: str = "gru"  # "rnn", "lstm" or "gru", for every member
    input_size: int = 2  # features per time step, the target in column 0
    hidden_size: int = 32  # D of each member
    num_layers: int = 1  # stacked recurrent layers per member
    dropout: float = 0.0  # between stacked layers (needs num_layers > 1)
    horizon: int = 1  # H outputs per member
    season_length: int = 1  # m: the base forecast repeats the window's last m values
    lookbacks: tuple = (1,)  # steps each member reads from the end of the window (K of them)
    seasonal_base: bool = True  # add the seasonal-naive base (False: predict values directly)
    member_bases: tuple = ()  # per member seasonal_base (empty: seasonal_base for all)

    def __post_init__(self) -> None:
        if self.cell not in _LAYERS:
            raise ValueError(f"cell must be one of {sorted(_LAYERS)}, got {self.cell!r}.")
        for name, maximum in (
            ("input_size", MAX_DIMENSION),
            ("hidden_size", MAX_DIMENSION),
            ("num_layers", MAX_LAYERS),
            ("horizon", MAX_DIMENSION),
            ("season_length", MAX_DIMENSION),
        ):
            check_size(getattr(self, name), name, maximum)
        if not isinstance(self.lookbacks, (tuple, list)) or not self.lookbacks:
            raise ValueError(f"lookbacks must be a non-empty list of ints, got {self.lookbacks!r}.")
        for value in self.lookbacks:
            check_size(value, "lookbacks[k]", MAX_DIMENSION)
        self.lookbacks = tuple(int(v) for v in self.lookbacks)
        if len(self.lookbacks) > MAX_LAYERS * 8:
            raise ValueError(f"at most {MAX_LAYERS * 8} members, got {len(self.lookbacks)}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        if not isinstance(self.seasonal_base, bool):
            raise TypeError(f"seasonal_base must be a bool, got {self.seasonal_base!r}.")
        bases = tuple(self.member_bases)
        if bases and (
            len(bases) != len(self.lookbacks) or not all(isinstance(b, bool) for b in bases)
        ):
            raise ValueError(
                f"member_bases must be empty or one bool per member ({len(self.lookbacks)}), "
                f"got {self.member_bases!r}."
            )
        self.member_bases = bases


class _Member(torch.nn.Module):
    def __init__(self, config: EnsembleForecasterConfig, lookback: int, base: bool) -> None:
        super().__init__()
        self.lookback = lookback
        self.encoder = _layer(config, config.input_size, False)
        self.head = torch.nn.Linear(config.hidden_size, config.horizon)
        m, horizon = config.season_length, config.horizon
        if base and 1 < m <= lookback:
            index = lookback - m + torch.arange(horizon) % m
        else:
            index = torch.full((horizon,), lookback - 1)
        self.register_buffer("base_index", index, persistent=False)
        self.seasonal_base = base

    def forward(self, inputs: Tensor) -> Tensor:
        window = inputs[:, -self.lookback :]
        _, state = self.encoder(window)
        h_n = state[0] if isinstance(state, tuple) else state
        out = self.head(h_n[-1])  # (N, H)
        if self.seasonal_base:
            out = out + window[:, self.base_index, 0]
        return out


class EnsembleForecastNet(torch.nn.Module):
    """Window (N, L_max, F) -> every member's H future target values (N, K, H)."""

    def __init__(self, config: EnsembleForecasterConfig) -> None:
        super().__init__()
        self.config = config
        bases = config.member_bases or (config.seasonal_base,) * len(config.lookbacks)
        self.members = torch.nn.ModuleList(
            _Member(config, lookback, base)
            for lookback, base in zip(config.lookbacks, bases, strict=True)
        )

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        if inputs.shape[1] < max(self.config.lookbacks):
            raise ValueError(
                f"the window has {inputs.shape[1]} steps; the longest member reads "
                f"{max(self.config.lookbacks)}."
            )
        return torch.stack([member(inputs) for member in self.members], dim=1)


register_model("recurrent_forecaster", RecurrentForecasterConfig, RecurrentForecastNet)
register_model("seq2seq_forecaster", RecurrentForecasterConfig, Seq2SeqForecastNet)
register_model("ensemble_forecaster", EnsembleForecasterConfig, EnsembleForecastNet)

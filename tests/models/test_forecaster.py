"""Forecasting networks: registered, built from JSON config, right shapes, trainable."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch

from seqlab.models import build_model
from seqlab.models.forecaster import (
    RecurrentForecasterConfig,
    RecurrentForecastNet,
    Seq2SeqForecastNet,
)

CASES = [
    ("recurrent_forecaster", "lstm", False, 1),
    ("recurrent_forecaster", "lstm", True, 2),
    ("recurrent_forecaster", "gru", False, 1),
    ("recurrent_forecaster", "rnn", True, 1),
    ("seq2seq_forecaster", "lstm", True, 2),
    ("seq2seq_forecaster", "gru", False, 1),
    ("seq2seq_forecaster", "rnn", True, 1),
]


@pytest.mark.parametrize(("name", "cell", "bidirectional", "layers"), CASES)
def test_shapes_and_gradients(name, cell, bidirectional, layers):
    config = RecurrentForecasterConfig(
        cell=cell,
        input_size=3,
        hidden_size=5,
        num_layers=layers,
        bidirectional=bidirectional,
        horizon=4,
    )
    spec = json.loads(json.dumps({"name": name, **asdict(config)}))
    model = build_model(spec)
    assert isinstance(
        model, RecurrentForecastNet if name == "recurrent_forecaster" else Seq2SeqForecastNet
    )
    inputs = torch.randn(6, 7, 3, requires_grad=True)
    lengths = torch.tensor([7, 6, 5, 3, 2, 1])
    out = model(inputs, lengths=lengths)
    assert out.shape == (6, 4)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    # Each forecast sees its whole window and nothing after the window's end: every step
    # up to the true end gets a gradient, the padded steps after it get exactly none.
    step_grad = inputs.grad.abs().sum(dim=2)  # (batch, time)
    for row, length in enumerate(lengths.tolist()):
        assert torch.all(step_grad[row, :length] > 0), (row, step_grad[row])
        assert torch.all(step_grad[row, length:] == 0), (row, step_grad[row])


def test_lengths_pick_each_windows_true_end():
    torch.manual_seed(0)
    config = RecurrentForecasterConfig(cell="gru", input_size=1, hidden_size=4, horizon=2)
    for cls in (RecurrentForecastNet, Seq2SeqForecastNet):
        model = cls(config)
        short = torch.randn(1, 5, 1)
        padded = torch.cat([short, torch.zeros(1, 3, 1)], dim=1)
        torch.testing.assert_close(model(padded, lengths=torch.tensor([5])), model(short))


def test_bad_config():
    with pytest.raises(ValueError, match="cell must be one of"):
        RecurrentForecasterConfig(cell="transformer")
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        RecurrentForecasterConfig(horizon=0)
    with pytest.raises(ValueError, match="target_index"):
        RecurrentForecasterConfig(input_size=2, target_index=2)


def test_ensemble_members_read_their_own_window_and_add_the_seasonal_base():
    from seqlab.models.forecaster import EnsembleForecasterConfig, EnsembleForecastNet

    config = EnsembleForecasterConfig(
        cell="gru", input_size=2, hidden_size=3, horizon=5, season_length=4, lookbacks=(4, 8)
    )
    net = EnsembleForecastNet(config)
    for member in net.members:
        torch.nn.init.zeros_(member.head.weight)
        torch.nn.init.zeros_(member.head.bias)
    inputs = torch.randn(3, 8, 2)
    out = net(inputs)
    assert out.shape == (3, 2, 5)
    # Zero heads leave the seasonal-naive forecast: the last 4 values, repeated.
    expected = inputs[:, [4, 5, 6, 7, 4], 0]
    torch.testing.assert_close(out[:, 0], expected)
    torch.testing.assert_close(out[:, 1], expected)
    # Member 0 reads only the last 4 steps: earlier steps get no gradient from it.
    inputs.requires_grad_(True)
    for member in net.members:
        torch.nn.init.normal_(member.head.weight)
    net(inputs)[:, 0].sum().backward()
    assert inputs.grad[:, :4].abs().sum() == 0 and inputs.grad[:, 4:].abs().sum() > 0
    with pytest.raises(ValueError, match="the longest member reads 8"):
        net(torch.randn(1, 6, 2))
    with pytest.raises(ValueError, match="lookbacks must be a non-empty list"):
        EnsembleForecasterConfig(lookbacks=())
    # A member without the base predicts the values themselves (zero head: zero).
    plain = EnsembleForecastNet(
        EnsembleForecasterConfig(
            input_size=2,
            hidden_size=3,
            horizon=5,
            season_length=4,
            lookbacks=(4, 4),
            member_bases=(True, False),
        )
    )
    for member in plain.members:
        torch.nn.init.zeros_(member.head.weight)
        torch.nn.init.zeros_(member.head.bias)
    out = plain(inputs.detach())
    torch.testing.assert_close(out[:, 0], expected)
    torch.testing.assert_close(out[:, 1], torch.zeros(3, 5))
    with pytest.raises(ValueError, match="member_bases must be empty or one bool per member"):
        EnsembleForecasterConfig(lookbacks=(4, 8), member_bases=(True,))

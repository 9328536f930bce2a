"""Truncated BPTT: exact limits on how far gradients reach, and equality with full BPTT.

Checked in float64 so that "equal" can mean 1e-12 (the same products summed in a
different order) and "zero" can mean exactly zero (the graph does not reach there).
"""

from __future__ import annotations

import pytest
import torch

from seqlab.nn import GRU, LSTM
from seqlab.nn.tbptt import chunk_plan, truncated_bptt

STEPS, BATCH, FEATURES, HIDDEN = 12, 3, 4, 5


def _setup(cls=LSTM):
    torch.manual_seed(0)
    layer = cls(FEATURES, HIDDEN, batch_first=True, dtype=torch.float64)
    inputs = torch.randn(BATCH, STEPS, FEATURES, dtype=torch.float64, requires_grad=True)
    targets = torch.randn(BATCH, STEPS, HIDDEN, dtype=torch.float64)
    return layer, inputs, targets


def _mse(outputs, targets):
    return ((outputs - targets) ** 2).mean()


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize(("k1", "k2"), [(4, 12), (5, 20), (1, 12)])
def test_k2_at_least_length_equals_full_bptt(cls, k1, k2):
    layer, inputs, targets = _setup(cls)
    outputs, _ = layer(inputs)
    full_loss = _mse(outputs, targets)
    full_grads = torch.autograd.grad(full_loss, [inputs, *layer.parameters()])

    result = truncated_bptt(layer, inputs, targets, _mse, k1=k1, k2=k2)
    assert result.chunks == -(-STEPS // k1)
    assert abs(result.loss - full_loss.item()) <= 1e-12
    grads = [inputs.grad, *(p.grad for p in layer.parameters())]
    for got, expected in zip(grads, full_grads, strict=True):
        assert (got - expected).abs().max().item() <= 1e-12


@pytest.mark.parametrize(("k1", "k2"), [(3, 3), (2, 5), (4, 7)])
def test_gradient_beyond_k2_steps_is_exactly_zero(k1, k2):
    """Only the last step carries loss: its gradient reaches the last k2 steps at most."""
    layer, inputs, targets = _setup()
    chunks = iter(chunk_plan(STEPS, k1, k2))

    def last_step_loss(outputs, chunk_targets):
        _, _, end = next(chunks)
        if end < STEPS:
            return outputs.sum() * 0
        return _mse(outputs[:, -1], chunk_targets[:, -1])

    truncated_bptt(layer, inputs, targets, last_step_loss, k1=k1, k2=k2)
    per_step = inputs.grad.abs().sum(dim=(0, 2))
    replay_start, _, _ = list(chunk_plan(STEPS, k1, k2))[-1]
    assert STEPS - replay_start <= k2
    assert torch.all(per_step[:replay_start] == 0)
    assert torch.all(per_step[replay_start:] > 0)


def test_state_carries_across_chunks_and_optimizer_steps():
    layer, inputs, targets = _setup()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.0)
    result = truncated_bptt(
        layer, inputs.detach(), targets, _mse, k1=5, k2=5, optimizer=optimizer, grad_clip=1.0
    )
    # With lr 0 the weights stay put, so the carried state must equal a single full run.
    _, (h_n, c_n) = layer(inputs.detach())
    assert torch.allclose(result.state[0], h_n, atol=1e-12)
    assert torch.allclose(result.state[1], c_n, atol=1e-12)
    assert not result.state[0].requires_grad


def test_chunk_plan_and_bad_arguments():
    assert list(chunk_plan(7, 3)) == [(0, 0, 3), (3, 3, 6), (6, 6, 7)]
    assert list(chunk_plan(7, 3, 5)) == [(0, 0, 3), (1, 3, 6), (4, 6, 7)]
    with pytest.raises(ValueError, match=r"k2 .* >= k1=3"):
        list(chunk_plan(7, 3, 2))
    with pytest.raises(ValueError, match="k1"):
        list(chunk_plan(7, 0))
    layer, inputs, targets = _setup()
    with pytest.raises(ValueError, match="same number of steps"):
        truncated_bptt(layer, inputs, targets[:, :5], _mse, k1=3)

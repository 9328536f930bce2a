"""seqlab.nn cells against torch.nn cells with the same weights (outputs and gradients).

Tolerances: float32 <= 1e-6 (one step, a few ulps of values of order one).
"""

from __future__ import annotations

import pytest
import torch

import seqlab.nn as snn

CELLS = [
    ("RNNCell", {"nonlinearity": "tanh"}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


def _pair(name: str, kwargs: dict):
    torch.manual_seed(0)
    reference = getattr(torch.nn, name)(5, 7, **kwargs)
    torch.manual_seed(0)
    ours = getattr(snn, name)(5, 7, **kwargs)
    return reference, ours


@pytest.mark.parametrize(("name", "kwargs"), CELLS, ids=lambda v: str(v))
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cell_matches_torch(name, kwargs, batched, with_state):
    reference, ours = _pair(name, kwargs)
    for (key, a), (other, b) in zip(
        reference.state_dict().items(), ours.state_dict().items(), strict=True
    ):
        assert key == other
        assert torch.equal(a, b)  # same initialisation from the same seed
    shape = (3, 5) if batched else (5,)
    state_shape = (3, 7) if batched else (7,)
    x = torch.randn(shape, requires_grad=True)
    state = None
    leaves = [x]
    if with_state:
        h = torch.randn(state_shape, requires_grad=True)
        leaves.append(h)
        state = h
        if name == "LSTMCell":
            c = torch.randn(state_shape, requires_grad=True)
            leaves.append(c)
            state = (h, c)
    results = []
    for cell in (reference, ours):
        out = cell(x, state)
        outs = list(out) if isinstance(out, tuple) else [out]
        loss = sum((o * torch.linspace(-1, 1, o.numel()).view(o.shape)).sum() for o in outs)
        grads = torch.autograd.grad(loss, leaves + list(cell.parameters()))
        results.append((outs, grads))
    expected = results[0][0] + list(results[0][1])
    got = results[1][0] + list(results[1][1])
    for a, b in zip(expected, got, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= 1e-6


def test_cell_bad_input():
    cell = snn.LSTMCell(5, 7)
    with pytest.raises(ValueError, match=r"input_size=5.*\(3, 4\)"):
        cell(torch.randn(3, 4))
    with pytest.raises(ValueError, match=r"hx\[0\] \(h\) must have shape \(3, 7\).*got \(2, 7\)"):
        cell(torch.randn(3, 5), (torch.zeros(2, 7), torch.zeros(3, 7)))
    with pytest.raises(TypeError, match="floating-point"):
        cell(torch.ones(3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"1-D .* or 2-D"):
        cell(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        snn.RNNCell(5, 7, nonlinearity="sigmoid")

"""Tasks: per-batch mean loss, summable totals, and figures from totals (checked against
the same figures computed on all rows at once)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from seqlab.train import ClassificationTask, RegressionTask


def _split(n: int, sizes: list[int]) -> list[slice]:
    starts = [0, *torch.tensor(sizes).cumsum(0).tolist()]
    assert starts[-1] == n
    return [slice(a, b) for a, b in itertools.pairwise(starts)]


def test_classification_totals_add_up_to_whole_set_figures():
    g = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(50, 3, generator=g), torch.randint(0, 3, (50,), generator=g)
    task = ClassificationTask()
    totals: dict[str, float] = {}
    loss_sum = 0.0
    for part in _split(50, [7, 30, 13]):
        batch = {"targets": targets[part]}
        loss_sum += task.loss(logits[part], batch).item() * task.count(batch)
        for key, value in task.totals(logits[part], batch).items():
            totals[key] = totals.get(key, 0.0) + value.item()
    accuracy = (logits.argmax(1) == targets).double().mean().item()
    assert task.summarize(totals, 50) == {"accuracy": pytest.approx(accuracy, abs=1e-12)}
    assert loss_sum / 50 == pytest.approx(F.cross_entropy(logits, targets).item(), rel=1e-6)


def test_regression_totals_add_up_to_whole_set_figures():
    g = torch.Generator().manual_seed(1)
    pred, targets = torch.randn(40, 5, generator=g), torch.randn(40, 5, generator=g)
    task = RegressionTask()
    totals: dict[str, float] = {}
    for part in _split(40, [16, 16, 8]):
        batch = {"targets": targets[part]}
        for key, value in task.totals(pred[part], batch).items():
            totals[key] = totals.get(key, 0.0) + value.item()
    figures = task.summarize(totals, 40)
    error = (pred - targets).double()
    assert figures["mae"] == pytest.approx(error.abs().mean().item(), rel=1e-6)
    assert figures["rmse"] == pytest.approx(math.sqrt(error.square().mean().item()), rel=1e-6)


def test_regression_losses_and_shapes():
    pred, targets = torch.tensor([[0.0], [3.0]]), torch.tensor([1.0, 1.0])
    batch = {"targets": targets}
    assert RegressionTask().loss(pred, batch).item() == pytest.approx((1 + 4) / 2)
    assert RegressionTask(loss="mae").loss(pred, batch).item() == pytest.approx(1.5)
    # Huber (delta 1): 0.5 * 1^2 for |e| = 1 and 1 * (2 - 0.5) for |e| = 2.
    assert RegressionTask(loss="huber").loss(pred, batch).item() == pytest.approx((0.5 + 1.5) / 2)
    with pytest.raises(ValueError, match=r"output shape \(2, 2\) does not match targets"):
        RegressionTask().loss(torch.zeros(2, 2), batch)
    with pytest.raises(ValueError, match="loss must be one of"):
        RegressionTask(loss="l3")


def test_classification_rejects_bad_shapes_and_float_targets():
    task = ClassificationTask()
    with pytest.raises(ValueError, match=r"logits of shape \(N, C\)"):
        task.loss(torch.zeros(4), {"targets": torch.zeros(4, dtype=torch.long)})
    with pytest.raises(TypeError, match="integer class indices"):
        task.loss(torch.zeros(4, 2), {"targets": torch.zeros(4)})
    with pytest.raises(ValueError, match="label_smoothing"):
        ClassificationTask(label_smoothing=1.5)

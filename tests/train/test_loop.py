"""The passes of :mod:`seqlab.train.loop`: one accumulation for training and evaluation."""

from __future__ import annotations

import contextlib

import pytest
import torch
import torch.nn.functional as F
from train_problems import MLP, MLPConfig

from seqlab.train import RegressionTask, seed_everything
from seqlab.train.distributed import DistContext
from seqlab.train.loop import EpochProgress, evaluate_pass, figures, train_pass
from seqlab.train.signals import StopRequest

CPU = torch.device("cpu")


def _data(n=50, size=16):
    """Uneven batches (16, 16, 16, 2) of a regression problem, and the whole set."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=gen)
    y = x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(n, 1, generator=gen)
    batches = [{"inputs": x[i : i + size], "targets": y[i : i + size]} for i in range(0, n, size)]
    return batches, x, y


def _model():
    seed_everything(0)
    return MLP(MLPConfig(in_features=4, hidden=8, out_features=1))


def test_evaluation_figures_are_per_sample_over_uneven_batches():
    batches, x, y = _data()
    model = _model()
    sums = evaluate_pass(
        model=model, task=RegressionTask(), batches=batches, device=CPU,
        autocast=contextlib.nullcontext,
    )  # fmt: skip
    result = figures(sums, RegressionTask(), DistContext(), CPU)
    with torch.no_grad():
        whole = model(x)
    assert result["count"] == 50 and sums.count == 50
    assert result["loss"] == pytest.approx(F.mse_loss(whole, y).item(), rel=1e-6)
    assert result["mae"] == pytest.approx((whole - y).abs().mean().item(), rel=1e-6)


def test_a_training_pass_sums_the_same_way_as_an_evaluation():
    """With a learning rate of 0 the weights stay put, so the training pass's sums (made
    while stepping) equal an evaluation pass's over the same batches."""
    batches, _, _ = _data()
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    steps = []
    with StopRequest() as stop:
        trained, _, interrupted = train_pass(
            net=model, model=model, task=RegressionTask(), batches=batches, epoch=0, epochs=1,
            optimizer=optimizer, scheduler=None, per_step_schedule=False, grad_clip=None,
            device=CPU, autocast=contextlib.nullcontext, dist=DistContext(), stop=stop,
            progress=EpochProgress(), rng_at_start=None, rng_now=None, show_progress=False,
            on_step=steps.append,
        )  # fmt: skip
    evaluated = evaluate_pass(
        model=model, task=RegressionTask(), batches=batches, device=CPU,
        autocast=contextlib.nullcontext,
    )  # fmt: skip
    assert not interrupted and len(steps) == trained.batches_done == 4
    assert trained.count == evaluated.count == 50
    assert trained.loss_sum == pytest.approx(evaluated.loss_sum, rel=1e-12)
    assert trained.totals == pytest.approx(evaluated.totals, rel=1e-12)

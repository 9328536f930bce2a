"""Discriminative learning rates (``lr_layer_decay``) and gradual unfreezing
(``gradual_unfreeze``): the optimizer's groups, which weights each epoch changes, exact
resume after Ctrl-C and the checks on bad settings."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from train_problems import TinyGRU, TinyGRUConfig

from seqlab.train import ClassificationTask, TrainConfig, Trainer, seed_everything

GROUPS = ("embedding", "gru", "head")


class GroupedGRU(TinyGRU):
    """TinyGRU with ``parameter_groups()``: embedding, recurrent layer, head."""

    def parameter_groups(self) -> list[list[torch.nn.Parameter]]:
        return [list(getattr(self, name).parameters()) for name in GROUPS]


def _model(seed: int = 0) -> GroupedGRU:
    seed_everything(seed)
    return GroupedGRU(TinyGRUConfig())


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _changed(before: dict, model: torch.nn.Module) -> set[str]:
    """The GROUPS whose weights differ from ``before``."""
    after = _weights(model)
    return {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}


def _figures(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")} for r in history]


def _optimizer(model, **fields):
    config = TrainConfig(progress=False, **fields)
    trainer = Trainer(model, task=ClassificationTask(), config=config)
    optimizer = trainer._build_optimizer()
    trainer._build_scheduler(optimizer, steps_per_epoch=5, mode="min")
    return optimizer


def test_each_group_gets_the_decayed_learning_rate():
    model = _model()
    optimizer = _optimizer(model, lr=0.01, lr_layer_decay=2.0)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.0025, 0.005, 0.01])
    for group, name in zip(optimizer.param_groups, GROUPS, strict=True):
        assert group["params"] == list(getattr(model, name).parameters())

    # onecycle peaks each group at its own learning rate and starts it at peak / 25.
    optimizer = _optimizer(model, lr=0.01, lr_layer_decay=2.0, lr_schedule="onecycle")
    assert [g["max_lr"] for g in optimizer.param_groups] == pytest.approx([0.0025, 0.005, 0.01])
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([1e-4, 2e-4, 4e-4])

    # cosine with warm-up scales every group by the same factor.
    optimizer = _optimizer(model, lr=0.01, lr_layer_decay=2.0, lr_schedule="cosine", warmup_steps=4)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(
        [0.0025 / 4, 0.005 / 4, 0.0025]
    )


def test_without_the_fields_there_is_one_group_at_lr():
    optimizer = _optimizer(_model(), lr=0.01, lr_schedule="onecycle")
    assert len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["max_lr"] == pytest.approx(0.01)


def test_history_records_the_output_side_learning_rate():
    model = _model()
    batches = _batches(4)
    config = TrainConfig(epochs=1, lr=0.01, lr_layer_decay=3.0, progress=False)
    history = Trainer(model, task=ClassificationTask(), config=config).fit(batches)
    assert history[0]["lr"] == pytest.approx(0.01)


def _batches(count: int, seed: int = 0) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    return [
        {
            "inputs": torch.randint(1, 12, (8, 6), generator=generator),
            "targets": torch.randint(0, 2, (8,), generator=generator),
        }
        for _ in range(count)
    ]


def test_gradual_unfreezing_trains_one_more_group_each_epoch():
    batches = _batches(3)
    for epochs, expected in ((1, {"head"}), (2, {"gru", "head"}), (3, set(GROUPS))):
        model = _model()
        before = _weights(model)
        config = TrainConfig(
            epochs=epochs, lr=0.01, gradual_unfreeze=True, progress=False, restore_best=False
        )
        Trainer(model, task=ClassificationTask(), config=config).fit(batches)
        assert _changed(before, model) == expected, epochs
        # Unfrozen again when fit() ends.
        assert all(p.requires_grad for p in model.parameters())


def test_gradual_unfreezing_leaves_a_frozen_parameter_frozen():
    model = _model()
    model.embedding.weight.requires_grad_(False)
    before = _weights(model)
    config = TrainConfig(
        epochs=3,
        lr=0.01,
        gradual_unfreeze=True,
        lr_layer_decay=2.6,
        progress=False,
        restore_best=False,
    )
    trainer = Trainer(model, task=ClassificationTask(), config=config)
    trainer.fit(_batches(3))
    assert _changed(before, model) == {"gru", "head"}
    assert not model.embedding.weight.requires_grad
    # The frozen group is left out of the optimizer; the others keep their decayed rates.
    optimizer = trainer._build_optimizer()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.01 / 2.6, 0.01])


class _ShuffledLoader:
    """Batches in an order drawn from the global torch RNG; SIGINT once at ``interrupt_at``."""

    def __init__(self, batches, interrupt_at=None):
        self.batches = batches
        self.interrupt_at = interrupt_at  # (epoch, batch index)
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        order = torch.randperm(len(self.batches)).tolist()
        for i, j in enumerate(order):
            if self.interrupt_at == (self.epoch, i):
                self.interrupt_at = None
                os.kill(os.getpid(), signal.SIGINT)
            yield self.batches[j]


@pytest.mark.parametrize("interrupt_at", [(1, 2), (2, 0)], ids=["mid-epoch-2", "epoch-3-start"])
def test_ctrl_c_then_resume_equals_uninterrupted_run(tmp_path, interrupt_at):
    train, valid = _batches(5, seed=1), _batches(2, seed=2)
    config = TrainConfig(
        epochs=3,
        lr=0.01,
        lr_layer_decay=2.6,
        gradual_unfreeze=True,
        lr_schedule="onecycle",
        seed=3,
        progress=False,
        restore_best=False,
    )
    straight = _model(seed=1)
    history = Trainer(straight, task=ClassificationTask(), config=config).fit(
        _ShuffledLoader(train), valid
    )

    model = _model(seed=1)
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, task=ClassificationTask(), config=config, run_dir=tmp_path).fit(
            _ShuffledLoader(train, interrupt_at=interrupt_at), valid
        )
    assert all(p.requires_grad for p in model.parameters())

    resumed = _model(seed=99)
    trainer = Trainer(resumed, task=ClassificationTask(), config=config, run_dir=tmp_path)
    history_resumed = trainer.fit(_ShuffledLoader(train), valid, resume=True)
    after, reference = _weights(resumed), _weights(straight)
    for key in reference:
        assert torch.equal(after[key], reference[key]), key
    assert _figures(history_resumed) == _figures(history)


def test_same_seed_same_figures():
    runs = []
    for _ in range(2):
        model = _model(seed=5)
        config = TrainConfig(
            epochs=2, lr=0.01, lr_layer_decay=2.6, gradual_unfreeze=True, seed=7, progress=False
        )
        history = Trainer(model, task=ClassificationTask(), config=config).fit(
            _batches(3), _batches(2, seed=1)
        )
        runs.append((_figures(history), _weights(model)))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"lr_layer_decay": 0.0}, ValueError, "lr_layer_decay must be a finite number > 0"),
        ({"lr_layer_decay": -2.6}, ValueError, "lr_layer_decay"),
        ({"lr_layer_decay": float("inf")}, ValueError, "lr_layer_decay"),
        ({"lr_layer_decay": "2.6"}, TypeError, "lr_layer_decay must be a number"),
        ({"lr_layer_decay": True}, TypeError, "lr_layer_decay must be a number"),
        ({"gradual_unfreeze": 1}, TypeError, "gradual_unfreeze must be True or False"),
        ({"gradual_unfreeze": "yes"}, TypeError, "gradual_unfreeze must be True or False"),
    ],
)
def test_bad_settings_are_refused(fields, error, match):
    with pytest.raises(error, match=match):
        TrainConfig(**fields)


@pytest.mark.parametrize("fields", [{"lr_layer_decay": 2.6}, {"gradual_unfreeze": True}])
def test_a_model_without_parameter_groups_is_refused(fields):
    seed_everything(0)
    model = TinyGRU(TinyGRUConfig())
    trainer = Trainer(model, task=ClassificationTask(), config=TrainConfig(**fields))
    with pytest.raises(ValueError, match=f"{next(iter(fields))} needs .*TinyGRU has none"):
        trainer.fit(_batches(2))


class _LeavesOut(GroupedGRU):
    def parameter_groups(self):
        return [list(self.embedding.parameters()), list(self.head.parameters())]


class _Repeats(GroupedGRU):
    def parameter_groups(self):
        return [*super().parameter_groups(), list(self.head.parameters())]


class _Empty(GroupedGRU):
    def parameter_groups(self):
        return [*super().parameter_groups(), []]


@pytest.mark.parametrize(
    ("cls", "error", "match"),
    [
        (_LeavesOut, ValueError, r"_LeavesOut.parameter_groups\(\) leaves out .*gru"),
        (_Repeats, ValueError, "lists a parameter twice"),
        (_Empty, TypeError, r"parameter_groups\(\)\[3\] must be a non-empty list"),
    ],
)
def test_bad_parameter_groups_are_refused(cls, error, match):
    seed_everything(0)
    model = cls(TinyGRUConfig())
    config = TrainConfig(lr_layer_decay=2.6, progress=False)
    with pytest.raises(error, match=match):
        Trainer(model, task=ClassificationTask(), config=config).fit(_batches(2))


def test_config_json_with_and_without_the_fields():
    config = TrainConfig(lr_layer_decay=2.6, gradual_unfreeze=True)
    assert TrainConfig.from_dict(config.to_dict()) == config
    older = TrainConfig().to_dict()
    del older["lr_layer_decay"], older["gradual_unfreeze"]
    loaded = TrainConfig.from_dict(older)
    assert loaded.lr_layer_decay is None and loaded.gradual_unfreeze is False

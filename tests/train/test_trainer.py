"""The Trainer on small real problems: learning, per-sample figures, reproducibility,
exact resume after Ctrl-C, early stopping, best checkpoint, schedules, run folders."""

from __future__ import annotations

import json
import math
import os
import signal
import warnings

import pytest
import torch
import torch.nn.functional as F
from train_problems import MLP, MLPConfig, TinyGRU, TinyGRUConfig, as_batches, marker_data

from seqlab.io import read_json, write_json
from seqlab.train import (
    ClassificationTask,
    RegressionTask,
    TrainConfig,
    Trainer,
    load_run,
    seed_everything,
)
from seqlab.train.checkpoint import load_weights


def _gru(seed: int = 0, **kw) -> TinyGRU:
    seed_everything(seed)
    return TinyGRU(TinyGRUConfig(**kw))


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _figures(history: list[dict]) -> list[dict]:
    """History without wall-clock columns."""
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")} for r in history]


def test_gru_learns_marker_task_and_writes_run_folder(tmp_path, marker_batches):
    train, valid = marker_batches
    model = _gru()
    config = TrainConfig(epochs=6, lr=0.02, lr_schedule="cosine", warmup_steps=5, progress=False)
    trainer = Trainer(
        model,
        task=ClassificationTask(),
        config=config,
        run_dir=tmp_path,
        model_config={
            "name": "test_tiny_gru",
            "vocab_size": 12,
            "embedding_dim": 8,
            "hidden_size": 16,
            "dropout": 0.1,
        },
        extra_files={"vocab.json": {"<pad>": 0}, "notes.txt": "hello"},
    )
    history = trainer.fit(train, valid)
    assert len(history) == 6
    assert history[-1]["valid_accuracy"] >= 0.9
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert all(r["tokens_per_s"] > 0 for r in history)
    # Cosine after 5 warm-up steps; the last of 60 steps is 54/55 of the way down.
    assert history[-1]["lr"] == pytest.approx(0.02 * 0.5 * (1 + math.cos(math.pi * 54 / 55)))

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [
            "config.json",
            "model.safetensors",
            "last.safetensors",
            "trainer_state.pt",
            "history.json",
            "history.csv",
            "curves.png",
            "vocab.json",
            "notes.txt",
        ]
    )
    assert not [n for n in names if n.endswith(".tmp")]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_json(tmp_path / "history.json") == json.loads(json.dumps(history))
    header = (tmp_path / "history.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["epoch", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy"]
    assert (tmp_path / "notes.txt").read_text() == "hello"

    # The model ends with the best weights, which is what model.safetensors holds, and
    # load_run rebuilds the same model and figures from the folder alone.
    best = max(history, key=lambda r: -r["valid_loss"])
    assert trainer.best_epoch == best["epoch"]
    _assert_same_weights(load_weights(tmp_path / "model.safetensors"), _weights(model))
    loaded, config_json = load_run(tmp_path, expected_model="test_tiny_gru")
    assert isinstance(loaded, TinyGRU) and not loaded.training
    assert config_json["train"]["epochs"] == 6 and config_json["format_version"] == 1
    again = Trainer(loaded, task=ClassificationTask(), config=config).evaluate(valid)
    assert again["accuracy"] == pytest.approx(best["valid_accuracy"], abs=1e-12)
    assert again["loss"] == pytest.approx(best["valid_loss"], rel=1e-6)


def test_evaluate_averages_per_sample_over_uneven_batches():
    ids, lengths, labels = marker_data(150, seed=3)
    model = _gru().eval()
    batches = as_batches(ids, lengths, labels, size=64)  # 64, 64, 22
    metrics = Trainer(
        model, task=ClassificationTask(), config=TrainConfig(progress=False)
    ).evaluate(batches)
    with torch.no_grad():
        logits = model(ids, lengths=lengths)
    assert metrics["count"] == 150
    assert metrics["loss"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)
    accuracy = (logits.argmax(1) == labels).double().mean().item()
    assert metrics["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert metrics["seconds"] > 0
    # The seed's bug (mean of batch means) would give a visibly different loss here.
    mean_of_means = sum(
        F.cross_entropy(model(b["inputs"], lengths=b["lengths"]), b["targets"]) for b in batches
    ).item() / len(batches)
    assert abs(mean_of_means - metrics["loss"]) > 1e-4


def test_training_matches_plain_pytorch_loop():
    """The Trainer's step (Adam, clipping, per-sample train loss) equals a hand loop."""
    x, y = torch.randn(100, 4, generator=torch.Generator().manual_seed(0)), None
    y = (x[:, :1] * 2.0).tanh()
    batches = [{"inputs": x[i : i + 30], "targets": y[i : i + 30]} for i in range(0, 100, 30)]
    config = TrainConfig(epochs=2, lr=0.05, grad_clip=0.5, seed=7, progress=False)

    seed_everything(0)
    model = MLP(MLPConfig())
    history = Trainer(model, task=RegressionTask(), config=config).fit(batches)

    seed_everything(0)
    ref = MLP(MLPConfig())
    optimizer = torch.optim.Adam(ref.parameters(), lr=0.05)
    for _ in range(2):
        loss_sum = 0.0
        for batch in batches:
            loss = F.mse_loss(ref(batch["inputs"]), batch["targets"])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
            optimizer.step()
            loss_sum += loss.item() * len(batch["targets"])
    assert history[-1]["train_loss"] == pytest.approx(loss_sum / 100, rel=1e-12)
    # restore_best may pick epoch 1 or 2; the last epoch has the lowest train loss here.
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    _assert_same_weights(_weights(model), _weights(ref))


def test_same_seed_same_figures(marker_batches):
    train, valid = marker_batches
    runs = []
    for _ in range(2):
        model = _gru(seed=5)
        config = TrainConfig(epochs=2, lr=0.01, seed=11, progress=False)
        history = Trainer(model, task=ClassificationTask(), config=config).fit(train, valid)
        runs.append((_figures(history), _weights(model)))
    assert runs[0][0] == runs[1][0]
    _assert_same_weights(runs[0][1], runs[1][1])


class _ShuffledLoader:
    """A DataLoader-like source drawing its order from the global torch RNG at iter()."""

    def __init__(self, batches, interrupt_at=None):
        self.batches = batches
        self.interrupt_at = interrupt_at  # (epoch, batch index) to send SIGINT at, once
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


@pytest.mark.parametrize("interrupt_at", [(0, 4), (1, 0), (0, 9)], ids=["mid", "start", "last"])
def test_ctrl_c_then_resume_equals_uninterrupted_run(tmp_path, marker_batches, interrupt_at):
    """Dropout, a shuffled source, Adam and a per-step cosine schedule: all resumed exactly."""
    train, valid = marker_batches  # 10 training batches per epoch
    config = TrainConfig(
        epochs=2, lr=0.01, lr_schedule="cosine", seed=3, progress=False, restore_best=False
    )

    straight = _gru(seed=1)
    history = Trainer(straight, task=ClassificationTask(), config=config).fit(
        _ShuffledLoader(train), valid
    )

    model = _gru(seed=1)
    source = _ShuffledLoader(train, interrupt_at=interrupt_at)
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, task=ClassificationTask(), config=config, run_dir=tmp_path).fit(
            source, valid
        )
    state = torch.load(tmp_path / "trainer_state.pt", weights_only=True)
    batches_done = (interrupt_at[1] + 1) % 10
    assert state["progress"]["batches_done"] == batches_done
    assert state["epoch"] == interrupt_at[0] + (1 if batches_done == 0 else 0)

    # A fresh process would rebuild the model with other weights; resume must load them.
    resumed = _gru(seed=99)
    trainer = Trainer(resumed, task=ClassificationTask(), config=config, run_dir=tmp_path)
    history_resumed = trainer.fit(_ShuffledLoader(train), valid, resume=True)
    _assert_same_weights(_weights(resumed), _weights(straight))
    assert _figures(history_resumed) == _figures(history)


def test_resume_with_more_epochs_continues_the_run(tmp_path, marker_batches):
    train, valid = marker_batches
    straight = _gru(seed=2)
    Trainer(
        straight,
        task=ClassificationTask(),
        config=TrainConfig(epochs=3, lr=0.01, progress=False, restore_best=False),
    ).fit(train, valid)
    model = _gru(seed=2)
    Trainer(
        model,
        task=ClassificationTask(),
        run_dir=tmp_path,
        config=TrainConfig(epochs=1, lr=0.01, progress=False, restore_best=False),
    ).fit(train, valid)
    model = _gru(seed=4)
    trainer = Trainer(
        model,
        task=ClassificationTask(),
        run_dir=tmp_path,
        config=TrainConfig(epochs=3, lr=0.01, progress=False, restore_best=False),
    )
    history = trainer.fit(train, valid, resume=True)
    assert [r["epoch"] for r in history] == [1, 2, 3]
    _assert_same_weights(_weights(model), _weights(straight))


def test_early_stopping_keeps_and_restores_best(tmp_path, marker_batches):
    """Valid labels flipped: valid loss rises as training goes on, so epoch 1 is best."""
    train, valid = marker_batches
    flipped = [{**b, "targets": 1 - b["targets"]} for b in valid]
    config = TrainConfig(epochs=10, lr=0.02, early_stopping_patience=2, progress=False)
    model = _gru(seed=0)
    trainer = Trainer(model, task=ClassificationTask(), config=config, run_dir=tmp_path)
    history = trainer.fit(train, flipped)
    losses = [r["valid_loss"] for r in history]
    best = min(range(len(losses)), key=losses.__getitem__)
    assert trainer.stopped_early
    assert len(history) == best + 1 + 2  # patience 2 after the best epoch
    assert trainer.best_epoch == best + 1
    # Restored: the model's loss on the flipped set is the best epoch's.
    again = Trainer(model, task=ClassificationTask(), config=config).evaluate(flipped)
    assert again["loss"] == pytest.approx(losses[best], rel=1e-6)


def test_monitor_mode_inferred_for_accuracy(marker_batches):
    train, valid = marker_batches
    config = TrainConfig(epochs=4, lr=0.02, monitor="valid_accuracy", progress=False)
    trainer = Trainer(_gru(), task=ClassificationTask(), config=config)
    history = trainer.fit(train, valid)
    assert trainer.best_value == max(r["valid_accuracy"] for r in history)
    assert ClassificationTask().mode("valid_accuracy") == "max"
    assert RegressionTask().mode("valid_rmse") == "min"


def test_gradient_clipping_bounds_the_step():
    """SGD without momentum, lr 1: the parameter change is minus the clipped gradient."""
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)) * 10
    batches = [{"inputs": x, "targets": x[:, :1] * 100}]
    seed_everything(0)
    model = MLP(MLPConfig())
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    config = TrainConfig(
        epochs=1,
        lr=1.0,
        optimizer="sgd",
        momentum=0.0,
        grad_clip=0.25,
        progress=False,
        restore_best=False,
    )
    Trainer(model, task=RegressionTask(), config=config).fit(batches)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm().item() == pytest.approx(0.25, rel=1e-4)


def test_schedules_step_as_documented():
    x, y = torch.randn(40, 4), torch.randn(40, 1)
    batches = [{"inputs": x[i : i + 10], "targets": y[i : i + 10]} for i in range(0, 40, 10)]
    base = {"epochs": 3, "lr": 0.1, "progress": False}
    h = Trainer(
        MLP(MLPConfig()),
        task=RegressionTask(),
        config=TrainConfig(**base, lr_schedule="linear", min_lr_ratio=0.1),
    ).fit(batches)
    # The lr of epoch 1's last step (step 3 of 12), linear from 0.1 down to 0.01.
    assert h[0]["lr"] == pytest.approx(0.1 - 0.09 * 3 / 12)
    h = Trainer(
        MLP(MLPConfig()), task=RegressionTask(), config=TrainConfig(**base, lr_schedule="onecycle")
    ).fit(batches)
    # OneCycle ends at lr / (div_factor * final_div_factor) = 0.1 / 25e4.
    assert max(r["lr"] for r in h) <= 0.1 and h[-1]["lr"] == pytest.approx(0.1 / 25e4)
    # Plateau on a figure that cannot improve (lr 1e-12): epoch 1 sets the best, epoch 2
    # is bad and halves the lr for epoch 3.
    h = Trainer(
        MLP(MLPConfig()),
        task=RegressionTask(),
        config=TrainConfig(
            **{**base, "lr": 1e-12},
            lr_schedule="plateau",
            plateau_patience=0,
            monitor="train_rmse",
            min_delta=1.0,
        ),
    ).fit(batches)
    assert [r["lr"] for r in h] == pytest.approx([1e-12, 1e-12, 5e-13], rel=1e-9)


def test_regression_figures_and_bf16_autocast_on_cpu():
    from train_problems import regression_data

    x, y = regression_data(512, seed=0)
    train = [{"inputs": x[i : i + 64], "targets": y[i : i + 64]} for i in range(0, 384, 64)]
    valid = [{"inputs": x[384:], "targets": y[384:]}]
    for amp in ("off", "bf16"):
        seed_everything(0)
        model = MLP(MLPConfig(hidden=32))
        config = TrainConfig(epochs=30, lr=0.02, amp=amp, progress=False)
        history = Trainer(model, task=RegressionTask(), config=config).fit(train, valid)
        last = history[-1]
        # Target variance is about 1.75; a fitted MLP should explain most of it.
        assert last["valid_rmse"] < 0.6, amp
        assert math.isclose(last["valid_rmse"] ** 2, last["valid_loss"], rel_tol=1e-5)
        assert "tokens_per_s" not in last  # flat features are not sequences


def test_bad_input_is_a_clear_error(tmp_path, marker_batches):
    train, valid = marker_batches
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="adagrad")
    with pytest.raises(TypeError, match="lr must be a number"):
        TrainConfig(lr="fast")
    with pytest.raises(ValueError, match="monitor 'valid_rmse' is not a figure"):
        Trainer(
            _gru(),
            task=ClassificationTask(),
            config=TrainConfig(monitor="valid_rmse", progress=False),
        ).fit(train, valid)
    with pytest.raises(TypeError, match="task must be"):
        Trainer(_gru(), task="classification")
    with pytest.raises(TypeError, match="re-iterable"):
        Trainer(_gru(), task=ClassificationTask()).fit(iter(train))
    with pytest.raises(TypeError, match="'inputs' and 'targets'"):
        Trainer(_gru(), task=ClassificationTask(), config=TrainConfig(progress=False)).fit(
            [{"x": torch.zeros(2, 3)}]
        )
    with pytest.raises(ValueError, match="does not exist; nothing to resume"):
        Trainer(_gru(), task=ClassificationTask(), run_dir=tmp_path / "empty").fit(
            train, resume=True
        )
    with pytest.raises(ValueError, match="needs to know the number of batches"):
        Trainer(
            _gru(),
            task=ClassificationTask(),
            config=TrainConfig(lr_schedule="cosine", progress=False),
        ).fit(_Unsized(train))
    with pytest.raises(ValueError, match=r"does not match targets shape \(64, 3\)"):
        Trainer(MLP(MLPConfig()), task=RegressionTask(), config=TrainConfig(progress=False)).fit(
            [{"inputs": torch.zeros(64, 4), "targets": torch.zeros(64, 3)}]
        )
    with pytest.raises(ValueError, match="device 'cuda:0' was asked for"):
        if torch.cuda.is_available():
            raise ValueError("device 'cuda:0' was asked for (skipped: CUDA present)")
        Trainer(_gru(), task=ClassificationTask(), config=TrainConfig(device="cuda:0")).fit(train)


class _Unsized:
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_load_run_rejects_newer_format_and_other_model(tmp_path, marker_batches):
    train, _ = marker_batches
    config = TrainConfig(epochs=1, progress=False)
    Trainer(
        _gru(),
        task=ClassificationTask(),
        config=config,
        run_dir=tmp_path,
        model_config=TinyGRUConfig(),
    ).fit(train[:2])
    with pytest.raises(ValueError, match="holds a 'test_tiny_gru' model, not 'test_mlp'"):
        load_run(tmp_path, expected_model="test_mlp")
    saved = read_json(tmp_path / "config.json")
    write_json(tmp_path / "config.json", {**saved, "format_version": 99})
    with pytest.raises(ValueError, match="format_version 99, newer than this seqlab reads"):
        load_run(tmp_path)
    write_json(tmp_path / "config.json", {**saved, "model": {**saved["model"], "hidden_size": 5}})
    with pytest.raises(ValueError, match="shape mismatch"):
        load_run(tmp_path)
    with pytest.raises(ValueError, match="not a seqlab run folder"):
        load_run(tmp_path / "nowhere")


def test_fresh_fit_over_existing_run_warns_and_resume_detects_torn_checkpoint(
    tmp_path, marker_batches
):
    train, _ = marker_batches
    config = TrainConfig(epochs=1, progress=False)
    Trainer(_gru(), task=ClassificationTask(), config=config, run_dir=tmp_path).fit(train[:2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(_gru(), task=ClassificationTask(), config=config, run_dir=tmp_path).fit(train[:2])
    assert any("already holds a run" in str(w.message) for w in caught)
    # Weights from another step than the state: resume refuses instead of mixing them.
    from seqlab.train.checkpoint import save_weights

    save_weights(tmp_path / "last.safetensors", _gru().state_dict(), metadata={"step": "999"})
    with pytest.raises(ValueError, match="from different steps"):
        Trainer(
            _gru(),
            task=ClassificationTask(),
            config=TrainConfig(epochs=2, progress=False),
            run_dir=tmp_path,
        ).fit(train[:2], resume=True)


def test_progress_bar_shows_metrics_tokens_per_second_and_eta(capsys, marker_batches):
    train, _ = marker_batches
    config = TrainConfig(epochs=1, progress=True)
    Trainer(_gru(), task=ClassificationTask(), config=config).fit(train)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "tok/s=" in err and "accuracy=" in err and "loss=" in err
    assert "<" in err  # tqdm's elapsed<remaining (ETA) field
    Trainer(_gru(), task=ClassificationTask(), config=TrainConfig(epochs=1, progress=False)).fit(
        train
    )
    assert capsys.readouterr().err == ""


def test_evaluate_on_nothing_is_an_error():
    with pytest.raises(ValueError, match="yielded no samples"):
        Trainer(_gru(), task=ClassificationTask()).evaluate([])


def test_resume_mid_epoch_with_a_shuffling_dataloader(tmp_path, marker_batches):
    """torch's DataLoader draws its shuffle seed from the global RNG: resume rebuilds it."""
    from torch.utils.data import DataLoader, TensorDataset

    ids, lengths, labels = marker_data(320, seed=7)
    dataset = TensorDataset(ids, lengths, labels)
    calls = {"n": 0, "interrupt_at": None}

    def collate(rows):
        calls["n"] += 1
        if calls["n"] == calls["interrupt_at"]:
            os.kill(os.getpid(), signal.SIGINT)
        x, n, y = (torch.stack(c) for c in zip(*rows, strict=True))
        return {"inputs": x, "lengths": n, "targets": y}

    def loader():
        return DataLoader(dataset, batch_size=32, shuffle=True, collate_fn=collate)

    config = TrainConfig(epochs=2, lr=0.01, seed=5, progress=False, restore_best=False)
    straight = _gru(seed=1)
    Trainer(straight, task=ClassificationTask(), config=config).fit(loader())
    calls.update(n=0, interrupt_at=13)  # batch 3 of epoch 2 (10 batches per epoch)
    with pytest.raises(KeyboardInterrupt):
        Trainer(_gru(seed=1), task=ClassificationTask(), config=config, run_dir=tmp_path).fit(
            loader()
        )
    calls["interrupt_at"] = None
    resumed = _gru(seed=8)
    Trainer(resumed, task=ClassificationTask(), config=config, run_dir=tmp_path).fit(
        loader(), resume=True
    )
    _assert_same_weights(_weights(resumed), _weights(straight))


def test_train_config_round_trips_through_json():
    config = TrainConfig(epochs=3, lr_schedule="onecycle", grad_clip=None, monitor="valid_accuracy")
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match=r"unknown TrainConfig field\(s\) \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})


def test_resume_with_fewer_batches_is_a_clear_error(tmp_path, marker_batches):
    train, _ = marker_batches
    config = TrainConfig(epochs=1, progress=False)
    with pytest.raises(KeyboardInterrupt):
        Trainer(_gru(), task=ClassificationTask(), config=config, run_dir=tmp_path).fit(
            _ShuffledLoader(train, interrupt_at=(0, 6))
        )
    with pytest.raises(ValueError, match="after batch 7: the training batches now end after 3"):
        Trainer(_gru(), task=ClassificationTask(), config=config, run_dir=tmp_path).fit(
            train[:3], resume=True
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_auto_device_bf16_autocast_and_resume(tmp_path, marker_batches):
    """device="auto" and amp="auto" on a GPU: CUDA, bf16 autocast, resume where it stopped.

    CUDA's embedding backward adds with atomics, so two GPU runs are not bitwise equal;
    weights are compared to 1e-3, far above that rounding and far below what a wrong
    data order or RNG state after resume does to them (> 1e-2 after 20 Adam steps).
    """
    train, valid = marker_batches
    config = TrainConfig(epochs=2, lr=0.01, seed=3, progress=False, restore_best=False)
    straight = _gru(seed=1)
    seen = []
    straight.head.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    trainer = Trainer(straight, task=ClassificationTask(), config=config)
    history = trainer.fit(_ShuffledLoader(train), valid)
    assert trainer.device.type == "cuda" and set(seen) == {torch.bfloat16}
    assert history[-1]["valid_accuracy"] > 0.6
    kw = {"task": ClassificationTask(), "config": config, "run_dir": tmp_path,
          "model_config": TinyGRUConfig()}  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        Trainer(_gru(seed=1), **kw).fit(_ShuffledLoader(train, interrupt_at=(1, 3)), valid)
    resumed = _gru(seed=2)
    Trainer(resumed, **kw).fit(_ShuffledLoader(train), valid, resume=True)
    expected = {k: v.float().cpu() for k, v in _weights(straight).items()}
    for key, value in _weights(resumed).items():
        torch.testing.assert_close(value.float().cpu(), expected[key], rtol=1e-3, atol=1e-3)
    loaded, _ = load_run(tmp_path, weights="last")
    _assert_same_weights(_weights(loaded), {k: v.cpu() for k, v in _weights(resumed).items()})

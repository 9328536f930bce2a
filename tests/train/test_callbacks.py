"""Trainer callbacks, and the TensorBoard and MLflow loggers read back with their own tools."""

from __future__ import annotations

import subprocess
import sys

import pytest
from train_problems import TinyGRU, TinyGRUConfig

from seqlab.train import ClassificationTask, TrainConfig, Trainer, seed_everything
from seqlab.train.callbacks import (
    Callback,
    FitStart,
    MLflowLogger,
    TensorBoardLogger,
    TrainEvent,
    attached,
    make_logger,
)


class Recorder(Callback):
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def on_fit_start(self, start: FitStart) -> None:
        self.calls.append(("fit_start", start))

    def on_batch_end(self, event: TrainEvent) -> None:
        self.calls.append(("batch", event))

    def on_epoch_end(self, event: TrainEvent) -> None:
        self.calls.append(("epoch", event))

    def on_checkpoint(self, event: TrainEvent) -> None:
        self.calls.append(("checkpoint", event))

    def on_fit_end(self, history) -> None:
        self.calls.append(("fit_end", history))


def _fit(marker_batches, run_dir=None, callbacks=None, epochs=2, seed=0):
    train, valid = marker_batches
    seed_everything(seed)
    model = TinyGRU(TinyGRUConfig())
    trainer = Trainer(
        model,
        ClassificationTask(),
        TrainConfig(epochs=epochs, lr=1e-2, progress=False, seed=seed),
        run_dir=run_dir,
        model_config=TinyGRUConfig(),
        callbacks=callbacks,
    )
    return trainer, trainer.fit(train, valid)


def test_hooks_order_and_payload(marker_batches, tmp_path):
    recorder = Recorder()
    _, history = _fit(marker_batches, tmp_path / "run", [recorder])
    names = [name for name, _ in recorder.calls]
    batches = len(marker_batches[0])
    per_epoch = ["batch"] * batches + ["checkpoint", "epoch"]
    assert names == ["fit_start", *per_epoch, *per_epoch, "fit_end"]
    start = recorder.calls[0][1]
    assert start.config["epochs"] == 2 and start.config["model"]["name"] == "test_tiny_gru"
    assert start.run_dir == tmp_path / "run" and not start.resume
    epochs = [e for n, e in recorder.calls if n == "epoch"]
    assert [e.epoch for e in epochs] == [1, 2]
    assert [e.step for e in epochs] == [batches, 2 * batches]
    assert epochs[1].metrics == history[1]
    assert epochs[0].run_dir == tmp_path / "run"
    # The checkpoint hook runs once the resumable state is on disk.
    assert (tmp_path / "run" / "trainer_state.pt").is_file()
    first_batch = recorder.calls[1][1]
    assert first_batch.epoch == 1 and first_batch.step == 1 and first_batch.metrics["loss"] > 0
    assert recorder.calls[-1][1] == history


def test_no_run_dir_no_checkpoint_hook_and_attached(marker_batches):
    own, extra = Recorder(), Recorder()
    with attached([extra]):
        _fit(marker_batches, None, [own], epochs=1)
    _fit(marker_batches, None, [own], epochs=1)  # outside the block: extra not called
    for recorder in (own, extra):
        assert "checkpoint" not in [n for n, _ in recorder.calls]
    assert [n for n, _ in own.calls].count("fit_start") == 2
    assert [n for n, _ in extra.calls].count("fit_start") == 1


def test_callbacks_are_checked():
    with pytest.raises(TypeError, match="Callback"):
        Trainer(TinyGRU(TinyGRUConfig()), ClassificationTask(), callbacks=[print])
    with pytest.raises(ValueError, match="unknown logger"):
        make_logger("wandb")


def test_tensorboard_event_file_read_back(marker_batches, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = TensorBoardLogger(batches=True)
    _, history = _fit(marker_batches, tmp_path / "run", [logger], epochs=3)
    folder = tmp_path / "run" / "tensorboard"
    assert list(folder.glob("events.out.tfevents.*"))
    events = EventAccumulator(str(folder))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train/loss", "valid/loss", "valid/accuracy", "lr", "batch/loss"} <= set(tags)
    valid_loss = events.Scalars("valid/loss")
    assert [s.step for s in valid_loss] == [1, 2, 3]
    for scalar, record in zip(valid_loss, history, strict=True):
        assert scalar.value == pytest.approx(record["valid_loss"], rel=1e-6)
    assert len(events.Scalars("batch/loss")) == 3 * len(marker_batches[0])
    assert "config" in events.Tags()["tensors"] or "config/text_summary" in str(events.Tags())


def test_tensorboard_second_fit_gets_its_own_folder(marker_batches, tmp_path):
    pytest.importorskip("tensorboard")
    logger = TensorBoardLogger(tmp_path / "tb")
    _fit(marker_batches, None, [logger], epochs=1)
    _fit(marker_batches, None, [logger], epochs=1)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert list((tmp_path / "tb" / "fit-2").glob("events.out.tfevents.*"))


def test_mlflow_run_read_back_with_client(marker_batches, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    logger = MLflowLogger()
    _, history = _fit(marker_batches, tmp_path / "run", [logger], epochs=2)
    store = tmp_path / "run" / "mlruns"
    assert store.is_dir()
    assert logger.uri == f"sqlite:///{(store / 'mlflow.db').resolve()}"
    client = MlflowClient(tracking_uri=logger.uri)
    run = client.get_run(logger.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run"
    params = run.data.params
    assert params["epochs"] == "2" and params["lr"] == "0.01" and params["seed"] == "0"
    assert params["model.name"] == "test_tiny_gru"
    losses = client.get_metric_history(logger.run_id, "valid_loss")
    assert sorted(m.step for m in losses) == [1, 2]
    by_step = {m.step: m.value for m in losses}
    assert by_step[2] == pytest.approx(history[1]["valid_loss"], rel=1e-9)
    assert run.data.metrics["valid_accuracy"] == pytest.approx(history[1]["valid_accuracy"])


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, event: TrainEvent) -> None:
        raise KeyboardInterrupt


def test_mlflow_run_status_after_ctrl_c(marker_batches, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    logger = MLflowLogger(f"sqlite:///{tmp_path / 'store.db'}")
    with pytest.raises(KeyboardInterrupt):
        _fit(marker_batches, tmp_path / "run", [logger, StopAfterFirstEpoch()], epochs=3)
    run = MlflowClient(tracking_uri=logger.uri).get_run(logger.run_id)
    assert run.info.status == "KILLED"
    assert len(MlflowClient(logger.uri).get_metric_history(logger.run_id, "train_loss")) == 1


def test_mlflow_tracking_uri_and_no_folder(marker_batches, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    logger = MLflowLogger(uri, experiment="exp")
    _fit(marker_batches, None, [logger], epochs=1)
    client = MlflowClient(tracking_uri=uri)
    assert client.get_experiment_by_name("exp") is not None
    assert client.get_metric_history(logger.run_id, "train_loss")
    with pytest.raises(ValueError, match="log_dir"):
        _fit(marker_batches, None, [MLflowLogger()], epochs=1)


def test_import_without_the_extras_and_a_clear_error():
    """seqlab.train imports with tensorboard and mlflow hidden; asking for them names the extra."""
    code = (
        "import sys\n"
        "sys.modules['tensorboard'] = None\n"
        "sys.modules['mlflow'] = None\n"
        "import seqlab.train, seqlab.train.callbacks as c\n"
        "for name in ('tensorboard', 'mlflow'):\n"
        "    try:\n"
        "        c.make_logger(name, log_dir='x')\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install 'seqlab[tensorboard]'" in out
    assert "pip install 'seqlab[mlflow]'" in out

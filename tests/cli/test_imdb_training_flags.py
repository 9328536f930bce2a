"""``seqlab imdb train``: --seed, --device, --log, --preset textbook, per-epoch lines."""

import json
import sys
from pathlib import Path

import pytest

from seqlab.cli import main


def _train(tarball, out, *extra):
    return main(
        [
            "imdb",
            "train",
            "--data",
            str(tarball),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--embedding-dim",
            "8",
            "--hidden-size",
            "8",
            "--vectors",
            "none",
            "--cache-dir",
            str(Path(out).parent / "cache"),
            *extra,
        ]
    )


def _figures(out):
    history = json.loads((Path(out) / "history.json").read_text())
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")} for r in history]


def test_same_seed_same_figures_other_seed_differs(tarball, tmp_path, capsys):
    assert _train(tarball, tmp_path / "a", "--quiet") == 0
    assert _train(tarball, tmp_path / "b", "--quiet", "--seed", "0") == 0
    assert _train(tarball, tmp_path / "c", "--quiet", "--seed", "7") == 0
    a, b, c = (_figures(tmp_path / n) for n in "abc")
    assert a == b  # the default seed is 0
    assert [r["train_loss"] for r in a] != [r["train_loss"] for r in c]
    config = json.loads((tmp_path / "c" / "config.json").read_text())
    assert config["train"]["seed"] == 7 and config["train"]["device"] == "auto"
    # --quiet: the result line only, on stdout; no per-epoch lines.
    captured = capsys.readouterr()
    assert "epoch 1/2" not in captured.err and "best valid accuracy" in captured.out


def test_epoch_lines_stay_on_stderr(tarball, tmp_path, capsys):
    assert _train(tarball, tmp_path / "run", "--device", "cpu") == 0
    captured = capsys.readouterr()
    # tqdm's bar shares stderr (carriage returns, no newline); the epoch lines stay.
    lines = [
        line
        for line in captured.err.replace("\r", "\n").splitlines()
        if line.startswith("epoch ") and "  train loss " in line
    ]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert f"valid accuracy {history[1]['valid_accuracy']:.4f}" in lines[1]
    assert "train loss" in lines[0] and "valid loss" in lines[0] and lines[0].endswith(" s")
    assert captured.out.startswith("best valid accuracy") and "train loss" not in captured.out


def test_tensorboard_and_mlflow_from_the_command_line(tarball, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    assert _train(tarball, out, "--quiet", "--log", "tensorboard,mlflow") == 0
    printed = capsys.readouterr().out
    assert f"view: tensorboard --logdir {out / 'tensorboard'}" in printed
    assert "mlflow: run " in printed and "view: mlflow ui --backend-store-uri sqlite:" in printed
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    assert [s.step for s in events.Scalars("valid/accuracy")] == [1, 2]
    client = MlflowClient(tracking_uri=f"sqlite:///{(out / 'mlruns' / 'mlflow.db').resolve()}")
    (run,) = client.search_runs([client.get_experiment_by_name("seqlab").experiment_id])
    assert run.data.params["epochs"] == "2" and run.data.params["model.hidden_size"] == "8"
    assert len(client.get_metric_history(run.info.run_id, "valid_accuracy")) == 2


def test_preset_textbook_and_hidden_seed_alias(tarball, tmp_path, capsys, caplog):
    with pytest.raises(SystemExit):
        main(["imdb", "train", "--help"])
    help_text = capsys.readouterr().out
    assert "{default,textbook,pretrained}" in help_text and "seed}" not in help_text
    common = ["--epochs", "1", "--max-length", "20", "--vocab-size", "200", "--quiet"]
    assert _train(tarball, tmp_path / "old", "--preset", "seed", *common) == 0
    assert "--preset seed is deprecated" in caplog.text
    assert _train(tarball, tmp_path / "new", "--preset", "textbook", *common) == 0
    assert _figures(tmp_path / "old") == _figures(tmp_path / "new")
    with pytest.raises(SystemExit) as exit_:
        main(["imdb", "train", "--out", str(tmp_path / "x"), "--preset", "best"])
    assert exit_.value.code == 2 and "choose from default, textbook" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--log", "wandb"], "choose from tensorboard, mlflow"),
        (["--seed", "-1"], "must be an integer >= 0"),
        (["--device", "tpu"], "invalid choice"),
    ],
)
def test_bad_flags_are_usage_errors(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_:
        main(["imdb", "train", "--out", str(tmp_path / "r"), *flags])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_cuda_without_a_gpu_is_one_line(tarball, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert _train(tarball, tmp_path / "r", "--device", "cuda") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seqlab: error: --device cuda: no CUDA device") and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_log_without_its_package_names_the_extra(tmp_path):
    """A subprocess where tensorboard cannot be found: one line naming the extra, exit 2."""
    import subprocess

    code = (
        "import importlib.util, sys\n"
        "find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n == 'tensorboard' else find(n, *a)\n"
        "from seqlab.cli import main\n"
        f"sys.exit(main(['imdb', 'train', '--out', {str(tmp_path / 'r')!r}, "
        "'--log', 'tensorboard']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "seqlab: error: --log tensorboard needs the tensorboard package: "
        "pip install 'seqlab[tensorboard]'"
    )


def test_log_repeated_or_comma_separated():
    from seqlab.cli import build_parser
    from seqlab.cli._training_flags import logger_names

    parser = build_parser()
    for flags in (
        ["--log", "mlflow", "--log", "tensorboard"],
        ["--log", "mlflow,tensorboard"],
        ["--log", "MLflow, tensorboard", "--log", "mlflow"],
    ):
        args = parser.parse_args(["imdb", "train", "--out", "r", *flags])
        assert logger_names(args) == ["mlflow", "tensorboard"]
    args = parser.parse_args(["forecast", "fit", "f.csv", "--target", "y", "--out", "r"])
    assert (args.seed, args.device, logger_names(args)) == (None, "auto", [])


def test_resume_keeps_the_saved_seed(tarball, tmp_path):
    import warnings

    out = tmp_path / "run"
    assert _train(tarball, out, "--quiet", "--seed", "5", "--epochs", "1") == 0
    history = _figures(out)
    resume = ["imdb", "train", "--out", str(out), "--resume", "--quiet", "--data", str(tarball)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main([*resume, "--cache-dir", str(tmp_path / "cache")]) == 0
    assert not [w for w in caught if "changed training settings" in str(w.message)]
    assert json.loads((out / "config.json").read_text())["train"]["seed"] == 5
    assert _figures(out) == history

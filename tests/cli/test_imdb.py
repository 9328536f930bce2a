"""``seqlab imdb`` end to end on a tiny aclImdb tarball the test writes."""

import json
import math

import pytest

from seqlab.cli import main


@pytest.fixture(scope="module")
def run_dir(tarball, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    cache = out.parent / "cache"
    code = main(
        [
            "imdb",
            "train",
            "--data",
            str(tarball),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--embedding-dim",
            "16",
            "--hidden-size",
            "16",
            "--quiet",
            "--cache-dir",
            str(cache),
        ]
    )
    assert code == 0
    return out


def test_train_writes_a_complete_run_folder(run_dir, capsys):
    for name in (
        "config.json",
        "model.safetensors",
        "vocab.json",
        "text_pipeline.json",
        "history.json",
        "history.csv",
    ):
        assert (run_dir / name).is_file(), name
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history) == 1
    (epoch,) = history
    assert epoch["epoch"] == 1
    # 24 validation reviews (20% of 120, stratified): the accuracy is a count over 24.
    correct = epoch["valid_accuracy"] * 24
    assert correct == pytest.approx(round(correct), abs=1e-9) and 0 <= round(correct) <= 24
    # Two classes: a loss far from log(2) would mean the head or the loss is wrong.
    assert abs(epoch["valid_loss"] - math.log(2)) < 0.2
    assert math.isfinite(epoch["train_loss"]) and epoch["tokens_per_s"] > 0


def test_evaluate_json_and_text(run_dir, tarball, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "imdb",
                "evaluate",
                "--run",
                str(run_dir),
                "--data",
                str(tarball),
                "--json",
                "--cache-dir",
                str(run_dir.parent / "cache"),
            ]
        )
        == 0
    )
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["count"] == 24  # 20% of 120, stratified
    history = json.loads((run_dir / "history.json").read_text())
    # the run folder alone rebuilds the model: same figure as during training
    assert metrics["accuracy"] == pytest.approx(history[0]["valid_accuracy"])
    assert main(["imdb", "evaluate", "--run", str(run_dir), "--data", str(tarball)]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_predict_prints_label_and_probability(run_dir, capsys):
    capsys.readouterr()
    assert (
        main(["imdb", "predict", "--run", str(run_dir), "a great and wonderful film", "boring"])
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        label, prob = line.split("\t")
        assert label in ("positive", "negative") and 0.5 <= float(prob) <= 1.0


def _one_line_error(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seqlab: error:") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_inputs_exit_2_with_one_line(run_dir, tarball, tmp_path, capsys):
    err = _one_line_error(capsys, ["imdb", "predict", "--run", str(run_dir), "   "])
    assert "empty" in err
    not_tar = tmp_path / "x.tar.gz"
    not_tar.write_bytes(b"nope")
    err = _one_line_error(
        capsys,
        [
            "imdb",
            "train",
            "--data",
            str(not_tar),
            "--out",
            str(tmp_path / "r"),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert "x.tar.gz" in err and not (tmp_path / "r").exists()
    err = _one_line_error(
        capsys,
        ["imdb", "evaluate", "--run", str(run_dir), "--data", str(tarball), "--split", "test"],
    )
    assert "no 'test' reviews" in err
    err = _one_line_error(capsys, ["imdb", "predict", "--run", str(tmp_path / "none"), "hi"])
    assert "no such run folder" in err


def test_resume_takes_the_limit_the_run_was_trained_with(run_dir, tarball, tmp_path, capsys):
    err = _one_line_error(
        capsys, ["imdb", "train", "--out", str(run_dir), "--resume", "--limit", "40"]
    )
    assert "trained with all reviews" in err
    out, cache = tmp_path / "limited", str(run_dir.parent / "cache")
    common = ["imdb", "train", "--data", str(tarball), "--out", str(out), "--quiet"]
    small = ["--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8", "--vectors", "none"]
    assert main([*common, *small, "--limit", "40", "--cache-dir", cache]) == 0
    # without the saved limit the resumed data would differ; with it, the finished run
    # resumes into the same history
    history = json.loads((out / "history.json").read_text())
    assert main([*common, "--resume", "--cache-dir", cache]) == 0
    assert json.loads((out / "history.json").read_text()) == history


def test_run_folder_from_another_model_or_newer_format(run_dir, tmp_path, capsys):
    config = json.loads((run_dir / "config.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    config["model"]["name"] = "some_forecaster"
    (other / "config.json").write_text(json.dumps(config))
    err = _one_line_error(capsys, ["imdb", "predict", "--run", str(other), "good"])
    assert "some_forecaster" in err
    config["model"]["name"] = "sentiment_classifier"
    config["format_version"] = 999
    (other / "config.json").write_text(json.dumps(config))
    err = _one_line_error(capsys, ["imdb", "predict", "--run", str(other), "good"])
    assert "newer" in err


def test_demo_without_data_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    import seqlab.datasets
    from seqlab.cli.imdb import print_demo

    monkeypatch.delenv("SEQLAB_IMDB", raising=False)
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(seqlab.datasets, "shared_data_dir", lambda: None)
    assert print_demo() is None
    assert "--download" in capsys.readouterr().out


def test_demo_with_data_reports_accuracy(tarball, tmp_path, monkeypatch, capsys):
    from seqlab.cli.imdb import print_demo

    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    result = print_demo(tarball)
    out = capsys.readouterr().out
    best = max(r["valid_accuracy"] for r in result["history"])
    assert f"IMDB ({tarball}): a bi-GRU trained 2 epochs" in out
    assert f"reaches {best:.1%} accuracy on 2,000 validation reviews" in out

"""Damaged, random and hostile run folders: one clear line, exit 2, nothing written.

A tiny forecast run (``seqlab forecast fit``) and a tiny IMDB run (``seqlab imdb
train``) are trained once per module; each case copies one, breaks one file the way a
truncated download, a hand edit or an attacker would, and runs ``predict`` on it. Every
value read from a run folder goes through the checks the constructor's arguments get,
with bounds on sizes, and every weights file is checked (names, shapes, dtypes) before a
tensor is read.
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import (
    assert_user_error,
    run_cli,
    snapshot,
    train_forecast_run,
    train_imdb_run,
)


@pytest.fixture(scope="module")
def forecast_source(tmp_path_factory):
    return train_forecast_run(tmp_path_factory.mktemp("forecast"))


@pytest.fixture(scope="module")
def imdb_source(tmp_path_factory):
    return train_imdb_run(tmp_path_factory.mktemp("imdb"))


@pytest.fixture
def forecast_run(forecast_source, tmp_path):
    run, csv = forecast_source
    shutil.copytree(run, tmp_path / "run")
    shutil.copy(csv, tmp_path / "series.csv")
    return tmp_path / "run", tmp_path / "series.csv"


@pytest.fixture
def imdb_run(imdb_source, tmp_path):
    run, _ = imdb_source
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run"


def _edit_json(path: Path, change) -> None:
    value = json.loads(path.read_text())
    value = change(value) or value
    path.write_text(json.dumps(value))


def _set(path: str, value):
    """A change that sets ``a.b.c`` (dotted) in a JSON object to ``value``."""

    def change(obj):
        *parents, last = path.split(".")
        node = obj
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _edit_arrays(path: Path, **changes) -> None:
    """Rewrite a safetensors file of numpy arrays: name -> function of the array, or None
    to drop it."""
    from safetensors.numpy import load_file
    from safetensors.numpy import save_file as save_arrays

    arrays = load_file(str(path))
    for name, change in changes.items():
        if change is None:
            del arrays[name]
        else:
            arrays[name] = np.ascontiguousarray(change(arrays[name]))
    save_arrays(arrays, str(path))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _hostile_header(path: Path) -> None:
    # A header claiming a 10^9 x 10^9 float tensor over a few bytes of data.
    header = json.dumps(
        {"weight": {"dtype": "F32", "shape": [10**9, 10**9], "data_offsets": [0, 4 * 10**18]}}
    ).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)


def _renamed(path: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    save_file({f"evil.{k}": v for k, v in tensors.items()}, str(path))


def _reshaped(path: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    save_file({k: torch.zeros(v.numel() + 3) for k, v in tensors.items()}, str(path))


def _integers(path: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    save_file({k: torch.zeros(v.shape, dtype=torch.int64) for k, v in tensors.items()}, str(path))


FORECAST_CASES = {
    # weights
    "weights-truncated": ("model.safetensors", _truncate, "model.safetensors"),
    "weights-random": (
        "model.safetensors",
        lambda p: p.write_bytes(bytes(range(256)) * 7),
        "not a readable safetensors file",
    ),
    "weights-empty": ("model.safetensors", lambda p: p.write_bytes(b""), "model.safetensors"),
    "weights-hostile-header": ("model.safetensors", _hostile_header, "model.safetensors"),
    "weights-other-names": ("model.safetensors", _renamed, "missing"),
    "weights-other-shapes": ("model.safetensors", _reshaped, "shape mismatch"),
    "weights-integer-dtype": ("model.safetensors", _integers, "wrong dtype"),
    "weights-missing": (
        "model.safetensors",
        lambda p: p.unlink(),
        "model.safetensors: listed in run.json but missing",
    ),
    # run.json
    "config-json-list": ("run.json", lambda p: p.write_text("[1, 2]"), "JSON object"),
    "config-invalid-json": ("run.json", lambda p: p.write_text("{"), "not valid JSON"),
    "config-format": ("run.json", lambda p: _edit_json(p, _set("format", 99)), "format"),
    "config-newer": (
        "run.json",
        lambda p: _edit_json(p, _set("format_version", 99)),
        "written by a newer seqlab",
    ),
    "config-kind": (
        "run.json",
        lambda p: _edit_json(p, _set("kind", "os.system")),
        "kind: expected one of",
    ),
    "config-files-path": (
        "run.json",
        lambda p: _edit_json(p, _set("files", ["../../etc/passwd"])),
        "not a plain file name",
    ),
    "lookback-negative": (
        "run.json",
        lambda p: _edit_json(p, _set("params.lookback", -1)),
        "params.lookback: must be >= 1",
    ),
    "lookback-huge": (
        "run.json",
        lambda p: _edit_json(p, _set("params.lookback", 10**12)),
        "params.lookback: must be <=",
    ),
    "hidden-size-huge": (
        "run.json",
        lambda p: _edit_json(
            p,
            lambda c: (
                c["params"].update(hidden_size=10**12)
                or c["state"]["model"].update(hidden_size=10**12)
            ),
        ),
        "hidden_size",
    ),
    "model-disagrees-with-params": (
        "run.json",
        lambda p: _edit_json(p, _set("state.model.hidden_size", 10**12)),
        "state.model.hidden_size",
    ),
    "unknown-param": (
        "run.json",
        lambda p: _edit_json(p, _set("params.__class__", "os.system")),
        "unknown key",
    ),
    "no-columns": ("run.json", lambda p: _edit_json(p, _set("state.columns", [])), "columns"),
    "missing-model": (
        "run.json",
        lambda p: _edit_json(p, lambda c: c["state"].pop("model") and None),
        "missing key",
    ),
    "conformal-not-object": (
        "run.json",
        lambda p: _edit_json(p, _set("state.conformal", "x")),
        "state.conformal: expected a JSON object",
    ),
    # the scaler and the training history, in run.json
    "scale-zero": (
        "run.json",
        lambda p: _edit_json(p, _set("state.scaler.scale", [0.0])),
        "scale must be > 0",
    ),
    "scale-negative": (
        "run.json",
        lambda p: _edit_json(p, _set("state.scaler.scale", [-2.0])),
        "> 0",
    ),
    "scale-nan": (
        "run.json",
        lambda p: _edit_json(p, _set("state.scaler.scale", [float("nan")])),
        "finite",
    ),
    "scaler-kind": (
        "run.json",
        lambda p: _edit_json(p, _set("state.scaler.kind", "robust")),
        "kind",
    ),
    "scaler-lengths": (
        "run.json",
        lambda p: _edit_json(p, _set("state.scaler.offset", [0.0, 1.0])),
        "equally long",
    ),
    "scaler-list": (
        "run.json",
        lambda p: _edit_json(p, _set("state.scaler", [])),
        "state.scaler: expected a JSON object",
    ),
    "history-json-object": (
        "run.json",
        lambda p: _edit_json(p, _set("state.history", {})),
        "state.history",
    ),
    # data.safetensors: the last window and the calibration scores
    "window-width": (
        "data.safetensors",
        lambda p: _edit_arrays(p, window=lambda w: np.hstack([w, w])),
        "window: expected 1 columns",
    ),
    "window-too-long": (
        "data.safetensors",
        lambda p: _edit_arrays(p, window=lambda w: np.vstack([w] * 10)),
        "window: expected 1 to 6 rows",
    ),
    "window-not-numbers": (
        "data.safetensors",
        lambda p: _edit_arrays(p, window=lambda w: w.astype(np.float32)),
        "'window' should be float64",
    ),
    "window-infinite": (
        "data.safetensors",
        lambda p: _edit_arrays(p, window=lambda w: w + np.inf),
        "infinite values",
    ),
    "scores-negative": (
        "data.safetensors",
        lambda p: _edit_arrays(p, conformal_scores=lambda s: -s - 1),
        "negative scores",
    ),
    "scores-missing": (
        "data.safetensors",
        lambda p: _edit_arrays(p, conformal_scores=None),
        "expected the arrays ['conformal_scores', 'window']",
    ),
    "data-random": (
        "data.safetensors",
        lambda p: p.write_bytes(bytes(range(256)) * 3),
        "not a readable safetensors file",
    ),
}


@pytest.mark.parametrize("case", sorted(FORECAST_CASES))
def test_damaged_forecast_run(case, forecast_run, tmp_path, capsys):
    run, csv = forecast_run
    name, damage, fragment = FORECAST_CASES[case]
    damage(run / name)
    before = snapshot(tmp_path)
    code, out, err = run_cli(["forecast", "predict", "--run", run, csv], capsys)
    assert_user_error(code, err, fragment)
    assert out == ""
    assert snapshot(tmp_path) == before


def test_intact_forecast_run_predicts(forecast_run, tmp_path, capsys):
    # The control: the same copy, undamaged, forecasts (so the cases above fail for
    # the damage alone).
    run, csv = forecast_run
    before = snapshot(tmp_path)
    code, out, err = run_cli(["forecast", "predict", "--run", run, csv], capsys)
    assert code == 0, err
    assert "forecast" in out and "nan" not in out.lower()
    assert snapshot(tmp_path) == before


def test_forecast_run_gives_its_conformal_intervals(forecast_run, capsys):
    # The calibration scores travel in the run folder: --level works after loading.
    run, csv = forecast_run
    code, out, err = run_cli(["forecast", "predict", "--run", run, csv, "--level", "80"], capsys)
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header == ["forecast", "lower_80", "upper_80"]


IMDB_CASES = {
    "labels-empty": ("text_pipeline.json", _set("labels", []), "labels: expected at least 2"),
    "labels-one": ("text_pipeline.json", _set("labels", ["good"]), "labels"),
    "labels-three": (
        "text_pipeline.json",
        _set("labels", ["a", "b", "c"]),
        "3 labels but the model has 2 outputs",
    ),
    "labels-repeated": ("text_pipeline.json", _set("labels", ["a", "a"]), "more than once"),
    "truncate-unknown": ("text_pipeline.json", _set("truncate", "middle"), "truncate"),
    "max-length-negative": ("text_pipeline.json", _set("max_length", -1), "max_length"),
    "max-length-huge": ("text_pipeline.json", _set("max_length", 10**12), "max_length"),
    "recipe-unknown-field": ("text_pipeline.json", _set("recipe.evil", 1), "unknown key"),
    "recipe-batch-size": ("text_pipeline.json", _set("recipe.batch_size", 0), "batch_size"),
    "tokenizer-setting": (
        "text_pipeline.json",
        _set("tokenizer.lower", "yes"),
        "text_pipeline.json: tokenizer: Tokenizer.lower must be a bool",
    ),
    "pipeline-list": ("text_pipeline.json", lambda c: [c], "JSON object"),
    "hidden-size-huge": (
        "config.json",
        _set("model.hidden_size", 10**12),
        "config.json: model: SentimentConfig.hidden_size is 1,000,000,000,000, more than",
    ),
    "vocab-size-huge": (
        "config.json",
        _set("model.vocab_size", 10**12),
        "config.json: model: SentimentConfig.vocab_size is 1,000,000,000,000, more than",
    ),
    "parameters-huge": (
        "config.json",
        lambda c: c["model"].update(vocab_size=9_000_000, embedding_dim=4000),
        "config.json: model: model 'sentiment_classifier' would have 36,000,192,546 parameters",
    ),
    "hidden-size-string": ("config.json", _set("model.hidden_size", "8"), "hidden_size"),
    "config-list": ("config.json", lambda c: [c], "JSON object"),
    "vocab-not-list": ("vocab.json", _set("tokens", "abc"), "vocab.json"),
    "vocab-counts": ("vocab.json", _set("counts", [-1]), "counts"),
}


@pytest.mark.parametrize("case", sorted(IMDB_CASES))
def test_damaged_imdb_run(case, imdb_run, tmp_path, capsys):
    name, change, fragment = IMDB_CASES[case]
    _edit_json(imdb_run / name, change)
    before = snapshot(tmp_path)
    code, out, err = run_cli(["imdb", "predict", "--run", imdb_run, "a great film"], capsys)
    assert_user_error(code, err, fragment)
    assert out == ""
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (_truncate, "model.safetensors"),
        (_hostile_header, "model.safetensors"),
        (_renamed, "missing"),
    ],
    ids=["truncated", "hostile-header", "other-names"],
)
def test_damaged_imdb_weights_take_the_forecast_path(damage, fragment, imdb_run, tmp_path, capsys):
    # One loader for every weights file: the IMDB run and the forecast run give the same
    # kind of message for the same damage.
    damage(imdb_run / "model.safetensors")
    before = snapshot(tmp_path)
    code, _, err = run_cli(["imdb", "predict", "--run", imdb_run, "a great film"], capsys)
    assert_user_error(code, err, fragment)
    assert snapshot(tmp_path) == before


def test_intact_imdb_run_predicts(imdb_run, capsys):
    code, out, err = run_cli(["imdb", "predict", "--run", imdb_run, "a great film"], capsys)
    assert code == 0, err
    assert out.split("\t")[0] in ("negative", "positive")


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def _torch_save(obj):
    def write(path: Path) -> None:
        torch.save(obj, path)

    return write


RESUME_CASES = {
    "state-random": ("trainer_state.pt", lambda p: p.write_bytes(b"\x80\x02junk" * 50), "trainer"),
    "state-pickle-payload": (
        "trainer_state.pt",
        _torch_save({"epoch": 0, "evil": _Evil()}),
        "not a readable trainer state (it holds objects other than tensors",
    ),
    "state-list": ("trainer_state.pt", _torch_save([1, 2, 3]), "not a trainer state"),
    "state-missing-keys": ("trainer_state.pt", _torch_save({"epoch": 0}), "missing"),
    "last-weights-truncated": ("last.safetensors", _truncate, "last.safetensors"),
    "config-train-list": (
        "config.json",
        lambda p: _edit_json(p, _set("train", [1])),
        "train must be a JSON object",
    ),
}


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_damaged_imdb_run_cannot_be_resumed(case, imdb_source, imdb_run, tmp_path, capsys):
    _, data = imdb_source
    name, damage, fragment = RESUME_CASES[case]
    damage(imdb_run / name)
    cache = tmp_path / "cache"
    before = snapshot(tmp_path)
    argv = ["imdb", "train", "--data", data, "--out", imdb_run, "--resume", "--epochs", "2"]
    code, _, err = run_cli([*argv, "--quiet", "--cache-dir", cache], capsys)
    assert_user_error(code, err, fragment)
    # The run folder is left as it was; only the token cache may have been filled.
    assert snapshot(tmp_path, exclude=cache) == before
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_the_cli_names_the_trainer_state_file_the_trainer_writes():
    # The Ctrl-C hint checks for this file without importing torch; the names must agree.
    from seqlab.sentiment import TRAINER_STATE_FILE
    from seqlab.train.trainer import STATE_FILE

    assert TRAINER_STATE_FILE == STATE_FILE


def test_oversized_json_is_refused_before_parsing(forecast_run, tmp_path, capsys, monkeypatch):
    # The bound lowered to the file's size minus one: the same check a many-gigabyte
    # run.json meets at the real bound.
    import seqlab._schema as schema

    run, csv = forecast_run
    size = (run / "run.json").stat().st_size
    monkeypatch.setattr(schema, "MAX_JSON_BYTES", size - 1)
    before = snapshot(tmp_path)
    code, _, err = run_cli(["forecast", "predict", "--run", run, csv], capsys)
    assert_user_error(code, err, f"run.json: {size:,} bytes, more than")
    assert snapshot(tmp_path) == before

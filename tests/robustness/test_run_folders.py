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
    "weights-missing": ("model.safetensors", lambda p: p.unlink(), "no such weights file"),
    # forecaster.json
    "config-json-list": ("forecaster.json", lambda p: p.write_text("[1, 2]"), "JSON object"),
    "config-invalid-json": ("forecaster.json", lambda p: p.write_text("{"), "not valid JSON"),
    "config-format": ("forecaster.json", lambda p: _edit_json(p, _set("format", 99)), "format"),
    "lookback-negative": (
        "forecaster.json",
        lambda p: _edit_json(p, _set("params.lookback", -1)),
        "params.lookback: must be >= 1",
    ),
    "lookback-huge": (
        "forecaster.json",
        lambda p: _edit_json(p, _set("params.lookback", 10**12)),
        "params.lookback: must be <=",
    ),
    "hidden-size-huge": (
        "forecaster.json",
        lambda p: _edit_json(
            p,
            lambda c: (
                c["params"].update(hidden_size=10**12) or c["model"].update(hidden_size=10**12)
            ),
        ),
        "hidden_size",
    ),
    "model-disagrees-with-params": (
        "forecaster.json",
        lambda p: _edit_json(p, _set("model.hidden_size", 10**12)),
        "model.hidden_size",
    ),
    "unknown-param": (
        "forecaster.json",
        lambda p: _edit_json(p, _set("params.__class__", "os.system")),
        "unknown key",
    ),
    "no-columns": ("forecaster.json", lambda p: _edit_json(p, _set("columns", [])), "columns"),
    "history-not-numbers": (
        "forecaster.json",
        lambda p: _edit_json(p, lambda c: c["history"][0].__setitem__(0, "x")),
        "history[0][0]",
    ),
    "history-row-width": (
        "forecaster.json",
        lambda p: _edit_json(p, lambda c: c["history"][0].append(1.0)),
        "history[0]",
    ),
    "missing-model": (
        "forecaster.json",
        lambda p: _edit_json(p, lambda c: c.pop("model") and None),
        "missing key",
    ),
    # scaler.json
    "scale-zero": (
        "scaler.json",
        lambda p: _edit_json(p, _set("scale", [0.0])),
        "scale must be > 0",
    ),
    "scale-negative": ("scaler.json", lambda p: _edit_json(p, _set("scale", [-2.0])), "> 0"),
    "scale-nan": (
        "scaler.json",
        lambda p: p.write_text(
            '{"kind": "standard", "params": {}, "offset": [0.0], "scale": [NaN]}'
        ),
        "finite",
    ),
    "scaler-kind": ("scaler.json", lambda p: _edit_json(p, _set("kind", "robust")), "kind"),
    "scaler-lengths": (
        "scaler.json",
        lambda p: _edit_json(p, _set("offset", [0.0, 1.0])),
        "equally long",
    ),
    "scaler-list": ("scaler.json", lambda p: p.write_text("[]"), "JSON object"),
    "history-json-object": ("history.json", lambda p: p.write_text("{}"), "history.json"),
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
    # forecaster.json meets at the real bound.
    import seqlab._schema as schema

    run, csv = forecast_run
    size = (run / "forecaster.json").stat().st_size
    monkeypatch.setattr(schema, "MAX_JSON_BYTES", size - 1)
    before = snapshot(tmp_path)
    code, _, err = run_cli(["forecast", "predict", "--run", run, csv], capsys)
    assert_user_error(code, err, f"forecaster.json: {size:,} bytes, more than")
    assert snapshot(tmp_path) == before

"""ARIMA run folders (``seqlab ts fit|auto --save``) through ``forecast predict --run``.

A saved run predicts exactly what the fit printed; a damaged, edited or hostile one is one
clear line naming the file and the value, exit status 2, and nothing written.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import assert_user_error, run_cli, snapshot


def _table(out: str) -> list[str]:
    """The forecast table's lines (from the header line holding 'lower_80' on)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "lower_80" in line)
    return lines[start : start + 4]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arima")
    rng = np.random.default_rng(7)
    dates = pd.date_range("2000-01", periods=96, freq="MS")
    season = np.tile(np.sin(np.arange(12) / 12 * 2 * np.pi), 8)
    values = 50 + np.cumsum(rng.normal(size=96)) + 5 * season
    csv = folder / "series.csv"
    pd.DataFrame({"month": dates, "sales": values}).to_csv(csv, index=False)
    code, out, _ = _run_quiet(
        ["ts", "fit", csv, "--order", "1,1,1", "--seasonal", "0,1,1,12", "--h", "3",
         "--out", folder / "fit"]
    )  # fmt: skip
    assert code == 0
    fit_table = _table(out)
    code, out, _ = _run_quiet(
        ["ts", "auto", csv, "--m", "12", "--h", "3", "--save", folder / "auto"]
    )
    assert code == 0
    return folder, csv, fit_table, _table(out)


def _run_quiet(argv):
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = run_cli(argv)[0]
    return code, stdout.getvalue(), ""


@pytest.fixture
def run(source, tmp_path):
    folder, csv, *_ = source
    shutil.copytree(folder / "fit", tmp_path / "run")
    shutil.copy(csv, tmp_path / "series.csv")
    return tmp_path / "run", tmp_path / "series.csv"


def test_predict_repeats_the_fit_and_the_auto_forecasts(source, capsys):
    folder, csv, fit_table, auto_table = source
    code, out, err = run_cli(
        ["forecast", "predict", "--run", folder / "fit", csv, "--h", 3], capsys
    )
    assert code == 0, err
    assert _table(out) == fit_table
    assert "2008-01-01" in fit_table[1]  # dates, not step numbers
    code, out, err = run_cli(
        ["forecast", "predict", "--run", folder / "auto", csv, "--h", 3], capsys
    )
    assert code == 0, err
    assert _table(out) == auto_table


def test_predict_on_a_longer_file_continues_from_its_end(source, tmp_path, capsys):
    folder, csv, *_ = source
    frame = pd.read_csv(csv)
    extra = pd.DataFrame(
        {"month": pd.date_range("2008-01", periods=2, freq="MS").astype(str), "sales": [60, 61]}
    )
    pd.concat([frame, extra]).to_csv(tmp_path / "longer.csv", index=False)
    code, out, err = run_cli(
        ["forecast", "predict", "--run", folder / "fit", tmp_path / "longer.csv", "--h", 2],
        capsys,
    )
    assert code == 0, err
    assert "2008-03-01" in out and "2008-01-01" not in _table(out)[1]


def _edit(path: Path, change) -> None:
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(config):
        target = config
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def _drop(*keys):
    def change(config):
        target = config
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


JSON_CASES = {
    "format_version": (_set("format_version", 9), "format_version 9"),
    "kind": (_set("kind", "lstm"), "kind: expected one of"),
    "missing model": (_drop("state", "model"), "missing key(s) ['model']"),
    "order string": (_set("params", "order", "1,1,1"), "params.order: expected a list of 3"),
    "order huge": (_set("params", "order", [1000, 1, 1]), "params.order[0]: must be <= 100"),
    "negative d": (_set("params", "order", [1, -1, 1]), "params.order[1]: must be >= 0"),
    "trend": (_set("params", "trend", "quadratic"), "params.trend: expected one of"),
    "param text": (
        _set("state", "model", "params", ["a", 1, 2, 3]),
        "model.params[0]: expected a number",
    ),
    "param count": (_set("state", "model", "params", [0.1]), "model.params: expected a list of 4"),
    "param nan": (
        _set("state", "model", "params", [float("nan"), 0, 0, 1]),
        "expected a finite number",
    ),
    "param names": (
        _set("state", "model", "param_names", ["a", "b", "c", "d"]),
        "the parameters are named ['a', 'b', 'c', 'd']",
    ),
    "sigma2": (_set("state", "model", "sigma2", -1.0), "model.sigma2: must be > 0"),
    "length": (_set("state", "series", "length", 10**12), "series.length: must be <="),
    "length mismatch": (
        _set("state", "series", "length", 50),
        "index.values: expected a list of 50",
    ),
    "index values": (
        _set("state", "series", "index", "values", ["not a date"] * 96),
        "not a valid datetime index",
    ),
    "index kind": (
        _set("state", "series", "index", "kind", "spiral"),
        "index.kind: expected one of",
    ),
    "extra key": (_set("state", "model", "pickle", "x"), "unknown key(s) ['pickle']"),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_damaged_arima_json_is_one_line(case, run, tmp_path, capsys):
    folder, csv = run
    change, fragment = JSON_CASES[case]
    _edit(folder / "run.json", change)
    before = snapshot(tmp_path)
    code, _, err = run_cli(["forecast", "predict", "--run", folder, csv, "--h", 3], capsys)
    assert_user_error(code, err, "run.json", fragment)
    assert snapshot(tmp_path) == before


def test_truncated_or_invalid_json(run, tmp_path, capsys):
    folder, csv = run
    text = (folder / "run.json").read_text()
    (folder / "run.json").write_text(text[: len(text) // 2])
    code, _, err = run_cli(["forecast", "predict", "--run", folder, csv], capsys)
    assert_user_error(code, err, "run.json", "not valid JSON")
    (folder / "run.json").write_text("[1, 2]")
    code, _, err = run_cli(["forecast", "predict", "--run", folder, csv], capsys)
    assert_user_error(code, err, "run.json", "expected a JSON object")


DATA_CASES = {
    "missing": (None, "listed in run.json but missing"),
    "garbage": (b"\x00" * 40, "not a readable safetensors file"),
    "wrong dtype": ({"y": np.zeros(96, dtype=np.float32)}, "should be float64 of shape (96,)"),
    "wrong shape": ({"y": np.zeros((96, 2))}, "should be float64 of shape (96,)"),
    "extra array": ({"y": np.zeros(96), "z": np.zeros(2)}, "expected the arrays ['y']"),
    "infinite": ({"y": np.full(96, np.inf)}, "infinite values"),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_damaged_data_file_is_one_line(case, run, tmp_path, capsys):
    folder, csv = run
    content, fragment = DATA_CASES[case]
    path = folder / "data.safetensors"
    path.unlink()
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        save_file(content, str(path))
    before = snapshot(tmp_path)
    code, _, err = run_cli(["forecast", "predict", "--run", folder, csv], capsys)
    assert_user_error(code, err, "data.safetensors", fragment)
    assert snapshot(tmp_path) == before


def test_damaged_auto_section(source, tmp_path, capsys):
    folder, csv, *_ = source
    shutil.copytree(folder / "auto", tmp_path / "run")
    _edit(tmp_path / "run" / "run.json", _set("state", "auto", "tried", [{"order": "x"}]))
    code, _, err = run_cli(["forecast", "predict", "--run", tmp_path / "run", csv], capsys)
    assert_user_error(code, err, "run.json: state.auto.tried[0]: missing key(s)")


def test_bad_horizon_and_missing_column(run, tmp_path, capsys):
    folder, csv = run
    code, _, err = run_cli(["forecast", "predict", "--run", folder, csv, "--h", 0], capsys)
    assert_user_error(code, err, "--h")
    pd.DataFrame({"a": ["x", "y", "z"]}).to_csv(tmp_path / "text.csv", index=False)
    code, _, err = run_cli(["forecast", "predict", "--run", folder, tmp_path / "text.csv"], capsys)
    assert_user_error(code, err, "text.csv")


def test_save_over_a_file_is_one_line(source, tmp_path, capsys):
    _, csv, *_ = source
    (tmp_path / "taken").write_text("x")
    code, _, err = run_cli(
        ["ts", "fit", csv, "--order", "0,1,1", "--out", tmp_path / "taken"], capsys
    )
    assert_user_error(code, err, "taken", "is a file")

"""``seqlab forecast``: backtest, fit, predict end to end on small CSVs, and user errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seqlab.cli import main


@pytest.fixture
def prices(tmp_path):
    t = np.arange(120)
    frame = pd.DataFrame(
        {
            "Date": pd.date_range("2020-01-01", periods=120, freq="D").strftime("%Y-%m-%d"),
            "Close": 50 + np.sin(t / 4.0) * 3 + t * 0.05,
            "Volume": 1000 + 10 * np.cos(t / 7.0),
        }
    )
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    return path


def test_backtest_prints_a_table_and_writes_json(prices, tmp_path, capsys):
    out = tmp_path / "bt.json"
    args = ["forecast", "backtest", str(prices), "--target", "Close", "--horizon", "3"]
    args += ["--models", "naive,drift,lstm", "--lookback", "8", "--epochs", "2", "--hidden", "4"]
    args += ["--json", str(out), "--plot", str(tmp_path / "bt.png")]
    code = main(args)
    assert code == 0
    text = capsys.readouterr().out
    assert "mase" in text and "lstm" in text and "By step" in text
    table = json.loads(out.read_text())["metrics"]
    assert set(table) == {"naive", "drift", "lstm"}
    assert table["naive"]["origins"] == 22  # rows 96..117 start a full 3-step horizon


def test_fit_then_predict_from_the_run_folder(prices, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["forecast", "fit", str(prices), "--target", "Close", "--features", "Volume"]
    args += [
        "--model",
        "gru",
        "--horizon",
        "2",
        "--lookback",
        "6",
        "--epochs",
        "2",
        "--out",
        str(run),
    ]
    assert main(args) == 0
    assert (
        main(
            [
                "forecast",
                "predict",
                "--run",
                str(run),
                str(prices),
                "--out",
                str(tmp_path / "f.csv"),
            ]
        )
        == 0
    )
    table = pd.read_csv(tmp_path / "f.csv")
    assert list(table.columns) == ["step", "forecast"] and len(table) == 2
    capsys.readouterr()
    # The same run on a file without its Volume column: a one-line error naming both.
    pd.read_csv(prices)[["Date", "Close"]].to_csv(tmp_path / "close.csv", index=False)
    assert main(["forecast", "predict", "--run", str(run), str(tmp_path / "close.csv")]) == 2
    err = capsys.readouterr().err
    assert "'Volume'" in err and "fitted on columns ['Close', 'Volume']" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "Price"], "no target column named 'Price'"),
        (["--target", "Date"], "target column 'Date' must be numeric"),
        (["--target", "Close", "--models", "lstm", "--lookback", "200"], "= 200 + 1 = 201"),
        (["--target", "Close", "--models", "prophet"], "unknown model 'prophet'"),
    ],
)
def test_user_errors_are_one_line(prices, capsys, args, message):
    assert main(["forecast", "backtest", str(prices), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqlab: error:") and message in err

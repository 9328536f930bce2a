"""``seqlab forecast``: backtest, fit, predict end to end on small CSVs, and user errors."""

from __future__ import annotations

import json
import re

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
    assert list(table.columns) == ["ds", "forecast"]
    assert list(table["ds"]) == ["2020-04-30", "2020-05-01"]  # the days after the file's last
    assert "2020-04-30" in capsys.readouterr().out
    # Trading days (a missing weekday) need --freq; with it, business days.
    gaps = (
        pd.read_csv(prices)
        .drop(index=[100])
        .assign(
            Date=pd.bdate_range("2020-01-01", periods=120).delete(100).strftime("%Y-%m-%d")[:119]
        )
    )
    gaps.to_csv(tmp_path / "trading.csv", index=False)
    predict = ["forecast", "predict", "--run", str(run), str(tmp_path / "trading.csv")]
    assert main(predict) == 2
    assert "pass --freq (e.g. --freq B" in capsys.readouterr().err
    assert main([*predict, "--freq", "B"]) == 0
    assert "2020-06-17" in capsys.readouterr().out  # the business day after 2020-06-16
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


def _fit_args(prices, out, *extra):
    args = ["forecast", "fit", str(prices), "--target", "Close", "--model", "lstm"]
    args += ["--lookback", "6", "--epochs", "3", "--hidden", "4", "--out", str(out)]
    return [*args, *extra]


def test_fit_prints_epoch_lines_and_a_readable_summary(prices, tmp_path, capsys):
    assert main(_fit_args(prices, tmp_path / "run", "--patience", "5")) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("[scaled]" in line and "valid loss" in line for line in lines)
    out = captured.out
    assert "trained lstm on 120 rows (columns: Close)" in out
    assert "3 of 3 epochs; last epoch: train loss" in out
    assert "scaled units" in out and "{" not in out
    # 4 significant digits, never a 17-digit float.
    decimals = re.findall(r"\d+\.\d+", out)
    assert decimals and all(len(d.replace(".", "").lstrip("0")) <= 4 for d in decimals)
    assert main(_fit_args(prices, tmp_path / "quiet", "--quiet")) == 0
    assert "epoch 1/3" not in capsys.readouterr().err


def test_fit_same_seed_same_figures(prices, tmp_path):
    for name, seed in (("a", "0"), ("b", "0"), ("c", "3")):
        assert main(_fit_args(prices, tmp_path / name, "--seed", seed, "--quiet")) == 0
    figures = []
    for name in "abc":
        config = json.loads((tmp_path / name / "run.json").read_text())
        assert config["params"]["device"] == "auto"
        weights = (tmp_path / name / "model.safetensors").read_bytes()
        figures.append(weights)
    assert figures[0] == figures[1] and figures[0] != figures[2]


def test_fit_and_backtest_log_to_tensorboard(prices, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    assert main(_fit_args(prices, run, "--log", "tensorboard", "--quiet")) == 0
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert [s.step for s in events.Scalars("valid/loss")] == [1, 2, 3]
    args = ["forecast", "backtest", str(prices), "--target", "Close", "--models", "naive,gru"]
    args += ["--lookback", "6", "--epochs", "2", "--hidden", "4", "--log", "tensorboard"]
    assert main([*args, "--log-dir", str(tmp_path / "logs")]) == 0
    assert list((tmp_path / "logs" / "tensorboard").glob("events.out.tfevents.*"))
    # The backtest fits the network once per refit: each fit is its own TensorBoard run.
    assert f"tensorboard --logdir {tmp_path / 'logs' / 'tensorboard'}" in capsys.readouterr().out


def test_training_flag_errors(prices, tmp_path, capsys):
    import torch

    args = ["forecast", "backtest", str(prices), "--target", "Close", "--models", "lstm"]
    assert main([*args, "--log", "tensorboard"]) == 2
    assert "give --log-dir" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(_fit_args(prices, tmp_path / "r", "--device", "cuda")) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("seqlab: error: --device cuda: no CUDA device") and "\n" not in err

"""One flag vocabulary across ``seqlab ts`` and ``seqlab forecast``; old spellings hidden."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from seqlab.cli import _vocabulary, build_parser, main

# command -> (flags its --help must show, old spellings it must hide)
COMMANDS = {
    ("ts", "check"): (["--value", "--time-col"], ["--date"]),
    ("ts", "fit"): (
        ["--value", "--time-col", "--h", "--level", "--freq", "--out", "--forecasts-out"],
        ["--date", "--save"],
    ),
    ("ts", "auto"): (
        ["--value", "--time-col", "--h", "--level", "--freq", "--out", "--forecasts-out"],
        ["--date", "--save"],
    ),
    ("ts", "many"): (
        ["--h", "--level", "--freq", "--value", "--id-col", "--time-col", "--out", "--models-out"],
        ["--models"],
    ),
    ("forecast", "backtest"): (
        ["--value", "--time-col", "--h", "--models"],
        ["--target", "--horizon", "--date"],
    ),
    ("forecast", "fit"): (["--value", "--time-col", "--h", "--out"], ["--target", "--horizon"]),
    ("forecast", "predict"): (["--h", "--level", "--freq", "--out"], []),
    ("forecast", "cv"): (
        ["--models", "--h", "--level", "--freq", "--value", "--id-col", "--time-col", "--out"],
        [],
    ),
}


@pytest.mark.parametrize("command", list(COMMANDS), ids=" ".join)
def test_help_shows_the_new_flags_and_hides_the_old(command, capsys):
    shown, hidden = COMMANDS[command]
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", capsys.readouterr().out))
    assert set(shown) <= flags
    assert not set(hidden) & flags


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["forecast", "backtest", "f.csv", "--target", "Close", "--horizon", "4", "--date", "D"],
         ["forecast", "backtest", "f.csv", "--value", "Close", "--h", "4", "--time-col", "D"]),
        (["forecast", "fit", "f.csv", "--target", "Close", "--horizon", "3", "--out", "r"],
         ["forecast", "fit", "f.csv", "--value", "Close", "--h", "3", "--out", "r"]),
        (["ts", "fit", "f.csv", "--order", "1,0,0", "--date", "when"],
         ["ts", "fit", "f.csv", "--order", "1,0,0", "--time-col", "when"]),
        (["ts", "many", "f.csv", "--h", "2", "--models", "m.csv"],
         ["ts", "many", "f.csv", "--h", "2", "--models-out", "m.csv"]),
    ],
)  # fmt: skip
def test_old_spellings_parse_like_the_new(old, new):
    parser = build_parser()
    assert vars(parser.parse_args(old)) == vars(parser.parse_args(new))


def test_an_old_spelling_is_noted_once(monkeypatch, caplog):
    monkeypatch.setattr(_vocabulary, "_NOTED", set())
    parser = build_parser()
    argv = ["forecast", "backtest", "f.csv", "--horizon", "2"]
    parser.parse_args(argv)
    parser.parse_args(argv)
    notes = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert notes == ["--horizon is deprecated; use --h"]


def test_level_takes_commas_and_repeats():
    parser = build_parser()
    args = parser.parse_args(["ts", "fit", "f.csv", "--order", "1,0,0", "--level", "50,80"])
    assert _vocabulary.levels(args) == (50, 80)
    args = parser.parse_args(["ts", "auto", "f.csv", "--level", "90", "--level", "99.5"])
    assert _vocabulary.levels(args) == (90, 99.5)
    assert _vocabulary.levels(parser.parse_args(["ts", "auto", "f.csv"])) == (80, 95)


@pytest.fixture
def series_csv(tmp_path):
    t = np.arange(60)
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2020-01-01", periods=60, freq="MS").strftime("%Y-%m-%d"),
            "sales": 20 + 0.1 * t + np.sin(t / 3.0),
        }
    )
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["ts", "fit", "--order", "1,0,0"],
        ["ts", "auto"],
        ["forecast", "cv", "--id-col", "when"],
    ],
)
def test_level_below_one_is_one_error_line(argv, series_csv, capsys):
    code = main([*argv[:2], str(series_csv), *argv[2:], "--h", "2", "--level", "0.95"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("seqlab: error: --level") and "Did you mean 95?" in err[0]


def test_ts_fit_prints_the_levels_asked_for(series_csv, capsys):
    argv = ["ts", "fit", str(series_csv), "--time-col", "when", "--value", "sales"]
    assert main([*argv, "--order", "1,1,0", "--h", "3", "--level", "90"]) == 0
    header = capsys.readouterr().out.strip().splitlines()[-4].split()
    assert header == ["mean", "lower_90", "upper_90"]


def test_forecast_backtest_with_new_and_old_flags_agrees(series_csv, tmp_path):
    common = ["--models", "naive,drift", "--time-col", "when"]
    metrics = []
    for flags in (["--value", "sales", "--h", "2"], ["--target", "sales", "--horizon", "2"]):
        out = tmp_path / f"{flags[0]}.json"
        assert (
            main(["forecast", "backtest", str(series_csv), *flags, *common, "--json", str(out)])
            == 0
        )
        table = pd.DataFrame(json.loads(out.read_text())["metrics"])
        metrics.append(table.drop(index="fit_seconds"))
    pd.testing.assert_frame_equal(metrics[0], metrics[1])
    assert list(metrics[0].columns) == ["naive", "drift"]


def test_forecast_without_value_is_an_error(series_csv, capsys):
    assert main(["forecast", "backtest", str(series_csv), "--models", "naive"]) == 2
    assert capsys.readouterr().err.strip() == "seqlab: error: --value is required."


def test_ts_many_reads_named_columns_and_writes_models_out(tmp_path, capsys):
    t = np.arange(30)
    frame = pd.concat(
        pd.DataFrame({"shop": k, "t": t, "qty": 5.0 + k + np.sin(t / (2.0 + k))}) for k in (1, 2)
    )
    path, out, models = tmp_path / "long.csv", tmp_path / "fc.csv", tmp_path / "m.csv"
    frame.to_csv(path, index=False)
    argv = ["ts", "many", str(path), "--h", "3", "--id-col", "shop", "--time-col", "t"]
    argv += ["--value", "qty", "--level", "90", "--out", str(out), "--models-out", str(models)]
    assert main([*argv, "--backend", "serial", "--no-progress"]) == 0
    assert "2 of 2 series fitted" in capsys.readouterr().out
    forecasts = pd.read_csv(out)
    assert len(forecasts) == 6
    assert any("90" in c for c in forecasts.columns) and not any(
        "95" in c for c in forecasts.columns
    )
    assert len(pd.read_csv(models)) == 2


def test_ts_fit_and_auto_take_freq(tmp_path, capsys):
    days = pd.bdate_range("2024-01-01", periods=40)  # ends on Friday 2024-02-23
    close = 100 + np.cumsum(np.sin(np.arange(40)))
    path = tmp_path / "b.csv"
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": close}).to_csv(path, index=False)
    for argv in (["ts", "fit", str(path), "--order", "1,0,0"], ["ts", "auto", str(path)]):
        assert main([*argv, "--h", "2", "--freq", "B"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert [line.split()[0] for line in lines[-2:]] == ["2024-02-26", "2024-02-27"]

    # Trading days (a holiday missing): no inferable frequency. Without --freq, one
    # error line asking for it; with --freq B, business days after the last date.
    gap = tmp_path / "gap.csv"
    frame = pd.DataFrame({"Date": days.delete(5).strftime("%Y-%m-%d"), "Close": close[1:]})
    frame.to_csv(gap, index=False)
    for argv in (["ts", "fit", str(gap), "--order", "1,0,0"], ["ts", "auto", str(gap)]):
        assert main([*argv, "--h", "2"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{gap}, column 'Date': cannot infer the frequency" in err[0]
        assert "pass --freq (e.g. --freq B" in err[0]
        assert main([*argv, "--h", "2", "--freq", "B"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert [line.split()[0] for line in lines[-2:]] == ["2024-02-26", "2024-02-27"]
    assert main(["ts", "fit", str(gap), "--order", "1,0,0", "--freq", "fortnightly"]) == 2
    assert "--freq fortnightly: not a pandas frequency" in capsys.readouterr().err

    plain = tmp_path / "plain.csv"
    pd.Series(close, name="Close").to_csv(plain, index=False)
    assert main(["ts", "fit", str(plain), "--order", "1,0,0", "--freq", "B"]) == 2
    assert "--freq B needs a date column" in capsys.readouterr().err

"""``seqlab ts fit FILE``: summary, forecast table, plot, and one-line errors (exit 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seqlab.cli import main
from seqlab.datasets import airline, nile
from seqlab.ts import ARIMA


def test_fit_prints_summary_forecast_and_writes_plot(tmp_path, capsys):
    path = tmp_path / "airline.csv"
    np.log(airline()).to_csv(path)
    png = tmp_path / "out" / "fc.png"
    argv = ["ts", "fit", str(path), "--order", "0,1,1", "--seasonal", "0,1,1,12"]
    assert main([*argv, "--h", "6", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "ARIMA(0,1,1)(0,1,1,12)" in out and "ma.S.L12" in out
    assert png.exists() and png.stat().st_size > 0
    # The forecast table is the library's, to the printed precision.
    expected = ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(np.log(airline()))
    table = expected.forecast(6).to_frame()
    assert "1961-06-01" in out
    assert f"{table['mean'].iloc[0]:.6f}"[:6] in out


def test_fit_one_column_file_with_trend(tmp_path, capsys):
    path = tmp_path / "nile.txt"
    path.write_text("\n".join(str(v) for v in nile().to_numpy()) + "\n")
    assert main(["ts", "fit", str(path), "--order", "1,1,1", "--trend", "t", "--h", "3"]) == 0
    out = capsys.readouterr().out
    assert "drift" in out and "lower_95" in out


def test_fit_bad_cell_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2000-01", periods=30, freq="MS"),
            "sales": np.arange(30.0).astype(object),
        }
    )
    frame.loc[7, "sales"] = "n/a?"
    frame.to_csv(path, index=False)
    assert main(["ts", "fit", str(path), "--order", "1,0,0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad.csv" in err and "sales" in err


def test_fit_bad_model_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "nile.csv"
    nile().to_csv(path)
    assert main(["ts", "fit", str(path), "--order", "1,1,0", "--trend", "c"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "nile.csv" in err and "constant cannot" in err
    short = tmp_path / "short.csv"
    short.write_text("1\n2\n3\n4\n")
    assert main(["ts", "fit", str(short), "--order", "2,0,2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "too short" in err


def test_fit_on_trading_days_asks_for_freq_then_prints_business_days(shared_data, capsys):
    sbux = str(shared_data / "stocks" / "SBUX.csv")  # 253 trading days to 2020-12-10
    argv = ["ts", "fit", sbux, "--value", "Close", "--order", "0,1,0", "--h", "3"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "column 'Date': cannot infer the frequency" in err[0]
    assert "pass --freq (e.g. --freq B" in err[0]
    assert main([*argv, "--freq", "B"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines[-3:]] == ["2020-12-11", "2020-12-14", "2020-12-15"]


def test_fit_writes_the_forecasts_csv_and_the_run(tmp_path, capsys):
    from seqlab.ts.runs import load_arima

    path, table, run = tmp_path / "nile.csv", tmp_path / "fc.csv", tmp_path / "run"
    nile().rename("flow").to_csv(path, index_label="date")
    argv = ["ts", "fit", str(path), "--order", "1,1,1", "--h", "2", "--level", "90"]
    assert main([*argv, "--forecasts-out", str(table), "--out", str(run)]) == 0
    frame = pd.read_csv(table)
    assert list(frame.columns) == ["ds", "mean", "lower_90", "upper_90"]
    assert list(frame["ds"]) == ["1971-01-01", "1972-01-01"]
    assert load_arima(run).model.order == (1, 1, 1)

"""``seqlab ts auto`` and ``seqlab ts many`` end to end, in process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.cli import main
from seqlab.datasets import nile
from seqlab.ts import auto_arima


@pytest.fixture
def nile_csv(tmp_path):
    path = tmp_path / "nile.csv"
    nile().rename("flow").to_csv(path, index_label="date")
    return path


def test_auto_prints_model_and_writes_forecasts(nile_csv, tmp_path, capsys):
    out = tmp_path / "fc.csv"
    code = main(["ts", "auto", str(nile_csv), "--h", "5", "--trace", "--forecasts-out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Best model: ARIMA(1,1,1)" in text  # the trace table
    assert "auto_arima: ARIMA(1,1,1)" in text  # the summary
    table = pd.read_csv(out, parse_dates=["ds"])
    assert list(table.columns) == ["ds", "mean", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert table["ds"].iloc[0] == pd.Timestamp("1971-01-01")
    expected = auto_arima(nile()).forecast(5).mean.to_numpy()
    np.testing.assert_allclose(table["mean"], expected, rtol=1e-12)


def test_auto_bad_file_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("date,value\n2020-01-01,1\n2020-02-01,x\n")
    assert main(["ts", "auto", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 3" in err and "'x'" in err
    assert main(["ts", "auto", str(tmp_path / "missing.csv")]) == 2


def _long_csv(tmp_path, shared_data):
    meta = pd.read_csv(shared_data / "m3" / "m3_meta.csv")
    ids = set(meta.loc[meta["period"] == "YEARLY", "unique_id"].iloc[:3])
    frame = pd.read_csv(shared_data / "m3" / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(ids) & (frame["split"] == "train")]
    frame = frame.rename(columns={"t": "ds"})[["unique_id", "ds", "y"]]
    dup = pd.DataFrame({"unique_id": "dup", "ds": [1, 1, 2, 3], "y": [1.0, 2.0, 3.0, 4.0]})
    path = tmp_path / "long.csv"
    pd.concat([frame, dup]).to_csv(path, index=False)
    return path


def test_many_writes_forecasts_and_reports_bad_series(tmp_path, shared_data, capsys):
    path = _long_csv(tmp_path, shared_data)
    out, models = tmp_path / "fc.csv", tmp_path / "models.csv"
    code = main(
        ["ts", "many", str(path), "--h", "6", "--out", str(out), "--models", str(models),
         "--no-progress"]
    )  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert "3 of 4 series fitted" in captured.out
    assert "series 'dup': duplicate ds 1" in captured.err
    forecasts = pd.read_csv(out)
    assert forecasts.groupby("unique_id").size().to_dict() == {"N0001": 6, "N0002": 6, "N0003": 6}
    table = pd.read_csv(models)
    assert table["error"].notna().sum() == 1


def test_many_bad_input(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("unique_id,ds,y\na,2020-01-01,1\na,someday,2\n")
    assert main(["ts", "many", str(path), "--h", "2"]) == 2
    assert "line 3" in capsys.readouterr().err
    path.write_text("id,ds,y\na,1,1\n")
    assert main(["ts", "many", str(path), "--h", "2"]) == 2
    assert "lacks the column(s) ['unique_id']" in capsys.readouterr().err


def test_auto_out_is_the_run_folder_and_forecasts_out_the_csv(nile_csv, tmp_path, capsys):
    from seqlab.ts.runs import load_arima

    run, table = tmp_path / "run", tmp_path / "fc.csv"
    argv = ["ts", "auto", str(nile_csv), "--h", "3", "--out", str(run)]
    assert main([*argv, "--forecasts-out", str(table)]) == 0
    text = capsys.readouterr().out
    assert f"saved the model to {run}" in text and f"wrote {table}" in text
    assert load_arima(run).label == "ARIMA(1,1,1)"
    frame = pd.read_csv(table, parse_dates=["ds"])
    assert frame["ds"].iloc[0] == pd.Timestamp("1971-01-01") and len(frame) == 3


def test_old_auto_spellings_keep_their_meaning_with_one_note(nile_csv, tmp_path, caplog):
    from seqlab.cli import _vocabulary
    from seqlab.ts.runs import load_arima

    _vocabulary._NOTED.clear()
    csv, run = tmp_path / "old.csv", tmp_path / "old-run"
    # --out FILE.csv is still the forecasts CSV, and --save RUN still the run folder.
    argv = ["ts", "auto", str(nile_csv), "--h", "2", "--out", str(csv), "--save", str(run)]
    with caplog.at_level("WARNING", logger="seqlab.cli"):
        assert main(argv) == 0
        assert main(argv) == 0
    assert len(pd.read_csv(csv)) == 2
    assert load_arima(run).label == "ARIMA(1,1,1)"
    notes = [r.getMessage() for r in caplog.records]
    assert sum("--forecasts-out" in n and "deprecated" in n for n in notes) == 1
    assert sum(n == "--save is deprecated; use --out" for n in notes) == 1


def test_save_is_hidden_from_help(capsys):
    with pytest.raises(SystemExit):
        main(["ts", "auto", "--help"])
    text = capsys.readouterr().out
    assert "--forecasts-out" in text and "--out RUN" in text and "--save" not in text

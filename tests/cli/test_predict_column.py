"""``forecast predict --run`` on an ARIMA run picks the column the model was fitted on.

A saved auto ARIMA keeps its series' name; predicting on a file with several numeric
columns must use that column, or ask for ``--value`` when the file lacks it, never fall
back silently to another column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.cli import main
from seqlab.datasets import airline
from seqlab.ts import auto_arima


@pytest.fixture
def two_columns(tmp_path):
    y = airline()
    frame = pd.DataFrame(
        {
            "month": y.index,
            "passengers": y.to_numpy(),
            "volume": 1e6 + np.arange(len(y)),
        }
    )
    path = tmp_path / "two.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _fit_passengers(path, tmp_path):
    run = tmp_path / "run"
    argv = ["ts", "auto", str(path), "--value", "passengers", "--m", "12", "--h", "3"]
    assert main([*argv, "--out", str(run)]) == 0
    return run


def test_auto_arima_keeps_the_series_name():
    y = airline().rename("passengers")
    assert auto_arima(y.reset_index(drop=True), 12).forecast(2).mean.name == "passengers"


def test_predict_uses_the_fitted_column_by_name(two_columns, tmp_path, capsys):
    path, _ = two_columns
    run = _fit_passengers(path, tmp_path)
    capsys.readouterr()
    assert main(["forecast", "predict", "--run", str(run), str(path), "--h", "3"]) == 0
    out = capsys.readouterr().out
    means = [float(line.split()[1]) for line in out.splitlines()[2:5]]
    assert all(300 < m < 700 for m in means), out  # passengers, not volume (about 1e6)


def test_predict_asks_for_value_when_the_column_is_gone(two_columns, tmp_path, capsys):
    path, frame = two_columns
    run = _fit_passengers(path, tmp_path)
    renamed = tmp_path / "renamed.csv"
    frame.rename(columns={"passengers": "pax"}).to_csv(renamed, index=False)
    capsys.readouterr()
    assert main(["forecast", "predict", "--run", str(run), str(renamed), "--h", "3"]) == 2
    err = capsys.readouterr().err
    assert (
        "no column named 'passengers'" in err
        and "--value" in err
        and len(err.strip().splitlines()) == 1
    )
    assert (
        main(["forecast", "predict", "--run", str(run), str(renamed), "--h", "3", "--value", "pax"])
        == 0
    )

"""Run folders: save/load gives identical predictions; mismatched columns fail clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster
from seqlab.forecast.runs import load_forecaster, predict_frame, save_forecaster


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def frame(n=80):
    t = np.arange(n)
    return pd.DataFrame({"Close": np.sin(t / 3.0) + 5, "Volume": np.cos(t / 5.0)})


def test_round_trip_identical_predictions(tmp_path):
    data = frame()
    model = RecurrentForecaster("gru", lookback=8, horizon=3, hidden_size=8, epochs=2)
    model.fit(data["Close"], data[["Volume"]])
    save_forecaster(model, tmp_path / "run")
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {
        "forecaster.json",
        "model.safetensors",
        "scaler.json",
    }
    again = load_forecaster(tmp_path / "run")
    np.testing.assert_array_equal(again.predict(3), model.predict(3))
    # From a frame: the same as update + predict on the original.
    np.testing.assert_array_equal(
        predict_frame(again, data.iloc[:60], 2),
        model.update(data["Close"][:60], data[["Volume"]][:60]).predict(2),
    )


def test_global_round_trip(tmp_path):
    series = [np.sin(np.arange(50) / 3.0) * (i + 1) for i in range(3)]
    model = GlobalRecurrentForecaster(lookback=8, horizon=2, hidden_size=4, epochs=1).fit(series)
    again = load_forecaster(save_forecaster(model, tmp_path / "g"))
    for a, b in zip(again.predict(2), model.predict(2), strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_columns_are_rejected(tmp_path):
    data = frame()
    model = RecurrentForecaster(lookback=8, horizon=1, hidden_size=4, epochs=1)
    model.fit(data["Close"], data[["Volume"]])
    again = load_forecaster(save_forecaster(model, tmp_path / "run"))
    with pytest.raises(
        ValueError, match=r"fitted on columns \['Close', 'Volume'\].*has \['Close'\]"
    ):
        predict_frame(again, data[["Close"]], 1)


def test_not_a_run_folder(tmp_path):
    with pytest.raises(ValueError, match="not a forecaster run folder"):
        load_forecaster(tmp_path)

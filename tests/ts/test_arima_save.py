"""ARIMA results pickle in memory and save to / load from run folders with equal forecasts."""

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqlab.datasets import airline, nile
from seqlab.ts import ARIMA, auto_arima
from seqlab.ts.arima import ARIMAResult
from seqlab.ts.auto import AutoARIMAResult, DeterministicResult
from seqlab.ts.runs import load_arima

LOG_AIRLINE = np.log(airline())


def _same_forecast(a, b, h=14, exog=None):
    fa = a.forecast(h, level=(80, 95), exog=exog).to_frame()
    fb = b.forecast(h, level=(80, 95), exog=exog).to_frame()
    pd.testing.assert_frame_equal(fa, fb, check_exact=True)
    return fa


def _regressor_case():
    rng = np.random.default_rng(3)
    n = 120
    x = pd.DataFrame(
        {"promo": rng.normal(size=n), "price": rng.normal(size=n)},
        index=pd.period_range("2010-01", periods=n, freq="M"),
    )
    noise = pd.Series(np.cumsum(rng.normal(size=n)), index=x.index)
    y = 2.0 * x["promo"] - x["price"] + noise
    future = pd.DataFrame(rng.normal(size=(14, 2)), columns=["promo", "price"])
    return y, x, future


@pytest.mark.parametrize("method", ["css-mle", "mle", "css"])
def test_pickle_round_trip_forecasts_identically(method):
    result = ARIMA((1, 1, 1), (0, 1, 1, 12), method=method).fit(LOG_AIRLINE)
    copy = pickle.loads(pickle.dumps(result))
    assert isinstance(copy, ARIMAResult)
    _same_forecast(result, copy)
    np.testing.assert_array_equal(result.params, copy.params)
    np.testing.assert_allclose(result.bse, copy.bse)


def test_pickle_auto_arima_and_a_filtered_result():
    auto = auto_arima(LOG_AIRLINE, m=12)
    copy = pickle.loads(pickle.dumps(auto))
    assert copy.label == auto.label and len(copy.tried) == len(auto.tried)
    _same_forecast(auto, copy)
    fixed = ARIMA((0, 1, 1)).filter(nile(), [-0.25, 15000.0])
    _same_forecast(fixed, pickle.loads(pickle.dumps(fixed)))


@pytest.mark.parametrize("method", ["css-mle", "mle", "css"])
def test_save_load_gives_identical_forecasts(method, tmp_path):
    result = ARIMA((1, 1, 1), (0, 1, 1, 12), method=method).fit(LOG_AIRLINE)
    assert result.save(tmp_path / "run") == tmp_path / "run"
    loaded = ARIMAResult.load(tmp_path / "run")
    frame = _same_forecast(result, loaded)
    assert frame.index[0] == pd.Timestamp("1961-01-01")  # dates survive
    assert loaded.method == result.method and loaded.label == result.label
    assert loaded.loglik == result.loglik and loaded.aicc == result.aicc
    np.testing.assert_array_equal(loaded.params, result.params)
    pd.testing.assert_series_equal(loaded.resid, result.resid, check_exact=False)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "data.safetensors",
        "run.json",
    ]
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["kind"] == "arima" and manifest["files"] == ["data.safetensors"]
    assert manifest["params"] == {
        "order": [1, 1, 1],
        "seasonal_order": [0, 1, 1, 12],
        "trend": "n",
        "method": method,
    }
    assert b"pickle" not in (tmp_path / "run" / "run.json").read_bytes()


def test_save_load_with_regressors_trend_and_missing_values(tmp_path):
    y, x, future = _regressor_case()
    y.iloc[[5, 40]] = np.nan
    result = ARIMA((1, 1, 0), trend="t").fit(y, exog=x)
    result.save(tmp_path / "run")
    loaded = ARIMAResult.load(tmp_path / "run")
    frame = _same_forecast(result, loaded, exog=future)
    assert isinstance(frame.index, pd.PeriodIndex)
    assert list(loaded.params.index) == list(result.params.index)
    with pytest.raises(ValueError, match="regressor"):
        loaded.forecast(3)


def test_numpy_series_and_auto_arima_round_trip(tmp_path):
    values = nile().to_numpy()
    auto = auto_arima(values)
    auto.save(tmp_path / "auto")
    loaded = AutoARIMAResult.load(tmp_path / "auto")
    frame = _same_forecast(auto, loaded)
    assert isinstance(auto.forecast(3).mean, np.ndarray)
    assert frame.index.equals(pd.RangeIndex(14))
    assert loaded.candidates.equals(auto.candidates)
    assert loaded.summary() == auto.summary()
    assert loaded.messages == auto.messages
    # The generic reader returns whichever kind the folder holds.
    assert isinstance(load_arima(tmp_path / "auto"), AutoARIMAResult)
    with pytest.raises(ValueError, match="holds an auto ARIMA result"):
        ARIMAResult.load(tmp_path / "auto")


def test_deterministic_auto_arima_round_trip(tmp_path):
    auto = auto_arima(np.arange(30.0) * 2 + 1)
    assert isinstance(auto.model, DeterministicResult)
    auto.save(tmp_path / "run")
    _same_forecast(auto, AutoARIMAResult.load(tmp_path / "run"))


def test_edited_parameters_change_the_forecast(tmp_path):
    """The loaded forecast comes from the saved values, not from a refit."""
    result = ARIMA((0, 1, 1)).fit(nile())
    result.save(tmp_path / "run")
    path = tmp_path / "run" / "run.json"
    config = json.loads(path.read_text())
    config["state"]["model"]["params"][0] = 0.5
    path.write_text(json.dumps(config))
    loaded = ARIMAResult.load(tmp_path / "run")
    assert loaded.params.iloc[0] == 0.5
    assert not np.allclose(loaded.forecast(5).mean, result.forecast(5).mean)


def test_save_refuses_other_objects_and_a_file_in_the_way(tmp_path):
    from seqlab.ts.runs import save_arima

    with pytest.raises(TypeError, match="ARIMAResult or AutoARIMAResult"):
        save_arima(object(), tmp_path / "x")
    (tmp_path / "file").write_text("x")
    result = ARIMA((0, 1, 1)).fit(nile())
    with pytest.raises(ValueError, match="is a file"):
        result.save(tmp_path / "file")


def test_apply_keeps_the_parameters_and_continues_from_the_new_end():
    result = ARIMA((0, 1, 1), (0, 1, 1, 12)).fit(LOG_AIRLINE)
    same = result.apply(LOG_AIRLINE)
    np.testing.assert_allclose(same.forecast(6).mean, result.forecast(6).mean, rtol=1e-12)
    assert same.method == "fixed"
    np.testing.assert_array_equal(same.params, result.params)
    shorter = result.apply(LOG_AIRLINE.iloc[:-12])
    assert shorter.forecast(1).mean.index[0] == pd.Timestamp("1960-01-01")
    np.testing.assert_array_equal(shorter.params, result.params)


FORMAT_1 = Path(__file__).parents[1] / "forecast" / "data" / "runs_v1"


@pytest.mark.parametrize("kind", ["arima", "auto_arima"])
def test_format_1_folders_load_and_resave_in_the_current_layout(kind, tmp_path):
    """Folders written by the format-1 writer (arima.json; committed with the forecasts
    that writer's result gave) load with the same forecasts, and save as run.json."""
    expected = json.loads((FORMAT_1.parent / "runs_v1_expected.json").read_text())[kind]
    loaded = load_arima(FORMAT_1 / kind)
    assert type(loaded).__name__ == {"arima": "ARIMAResult", "auto_arima": "AutoARIMAResult"}[kind]
    assert loaded.forecast(3).mean.tolist() == expected
    shutil.copytree(FORMAT_1 / kind, tmp_path / "run")
    loaded.save(tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["data.safetensors", "run.json"]
    assert load_arima(tmp_path / "run").forecast(3).mean.tolist() == expected


def test_a_newer_format_or_another_kind_is_refused(tmp_path):
    result = ARIMA((0, 1, 1)).fit(nile())
    result.save(tmp_path / "run")
    path = tmp_path / "run" / "run.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 3}))
    with pytest.raises(ValueError, match="format_version 3 was written by a newer seqlab"):
        load_arima(tmp_path / "run")
    path.write_text(json.dumps({**manifest, "kind": "recurrent_forecaster"}))
    with pytest.raises(ValueError, match="kind: expected one of \\['arima', 'auto_arima'\\]"):
        load_arima(tmp_path / "run")

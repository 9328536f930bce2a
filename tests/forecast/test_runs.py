"""Run folders: save/load gives identical predictions; mismatched columns fail clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster
from seqlab.forecast.runs import load, load_forecaster, predict_frame, save, save_forecaster

FORMAT_1 = Path(__file__).parent / "data" / "runs_v1"


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
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "run.json",
        "model.safetensors",
        "data.safetensors",
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


def _same_forecasts(a, b):
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)


def test_loaded_recurrent_forecaster_gives_the_same_intervals(tmp_path):
    t = np.arange(80)
    y = pd.Series(np.sin(t / 3.0) + 5 + 0.02 * t)
    model = RecurrentForecaster(
        "gru", lookback=8, horizon=3, hidden_size=4, epochs=2, valid_size=0.3
    ).fit(y)
    before = model.forecast(3, level=(80, 95))
    assert set(before.lower) == {80, 95}
    again = load(save(model, tmp_path / "run"))
    _same_forecasts(before, again.forecast(3, level=(80, 95)))
    np.testing.assert_array_equal(again.conformal_.scores, model.conformal_.scores)
    assert again.conformal_.source == model.conformal_.source
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["kind"] == "recurrent_forecaster"
    assert manifest["params"] == json.loads(json.dumps(model.get_params()))
    assert manifest["files"] == ["data.safetensors", "model.safetensors"]


def test_loaded_global_forecaster_gives_the_same_intervals(tmp_path):
    series = {f"s{i}": np.sin(np.arange(60) / 3.0) * (i + 1) + 3 for i in range(3)}
    model = GlobalRecurrentForecaster(
        lookback=8, horizon=2, hidden_size=4, epochs=1, valid_size=12
    ).fit(series)
    again = load(save(model, tmp_path / "g"))
    assert type(again) is GlobalRecurrentForecaster and again.names_ == ["s0", "s1", "s2"]
    before, after = model.forecast(2, level=(80, 95)), again.forecast(2, level=(80, 95))
    assert list(before) == list(after) == ["s0", "s1", "s2"]
    for name in before:
        _same_forecasts(before[name], after[name])


def test_no_calibration_saves_and_loads_as_none(tmp_path):
    y = np.sin(np.arange(60) / 3.0)
    model = RecurrentForecaster(lookback=6, horizon=2, hidden_size=4, epochs=1, valid_size=0)
    model.fit(y)
    again = load(save(model, tmp_path / "run"))
    assert again.conformal_ is None
    np.testing.assert_array_equal(again.predict(2), model.predict(2))
    with pytest.raises(ValueError, match="no calibration errors"):
        again.forecast(2, level=80)


@pytest.mark.parametrize("kind", ["recurrent", "global", "arima", "auto_arima"])
def test_format_1_folders_load_with_their_forecasts(kind, tmp_path):
    """Folders the format-1 writers wrote (committed, with the forecasts they gave) load
    through the one entry point, and a save over one leaves only the current layout."""
    expected = json.loads((FORMAT_1.parent / "runs_v1_expected.json").read_text())[kind]
    loaded = load(FORMAT_1 / kind)
    if kind == "recurrent":
        assert loaded.predict(2).tolist() == expected
    elif kind == "global":
        assert [values.tolist() for values in loaded.predict(2)] == expected
    else:
        assert loaded.forecast(3).mean.tolist() == expected
    shutil.copytree(FORMAT_1 / kind, tmp_path / "run")
    save(loaded, tmp_path / "run")
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert "run.json" in names
    assert not {"forecaster.json", "arima.json", "scaler.json", "history.json"} & set(names)
    again = load(tmp_path / "run")
    if kind in ("arima", "auto_arima"):
        assert again.forecast(3).mean.tolist() == expected
    else:
        first = again.predict(2)
        got = first.tolist() if kind == "recurrent" else [v.tolist() for v in first]
        assert got == expected


def test_save_takes_arima_forecasters_and_refuses_baselines(tmp_path):
    from seqlab.forecast.baselines import Naive
    from seqlab.forecast.classical import ArimaForecaster

    y = np.cumsum(np.sin(np.arange(50.0))) + 10
    fitted = ArimaForecaster((1, 1, 0)).fit(y)
    result = load(save(fitted, tmp_path / "arima"))
    np.testing.assert_array_equal(result.forecast(4).mean, fitted.predict(4))
    with pytest.raises(TypeError, match="got Naive"):
        save(Naive().fit(y), tmp_path / "naive")


def test_load_names_what_a_folder_is_not(tmp_path):
    with pytest.raises(ValueError, match="no such run folder"):
        load(tmp_path / "missing")
    (tmp_path / "trainer").mkdir()
    (tmp_path / "trainer" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"Trainer run: load it with seqlab\.train\.load_run"):
        load(tmp_path / "trainer")


# -- the default global forecaster: a window-normalised ensemble ---------------------
def _ensemble_series():
    rng = np.random.default_rng(0)
    lengths = (30, 24, 40, 12)
    return {
        f"s{i}": 10.0 + i + 3.0 * np.sin(np.arange(n) * np.pi / 2) + rng.normal(0, 0.2, n)
        for i, n in enumerate(lengths)
    }


TINY_ENSEMBLE = dict(
    horizon=3, season_length=4, hidden_size=4, epochs=3, windows_per_epoch=64, valid_size=8
)


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    torch.set_num_threads(1)
    model = GlobalRecurrentForecaster(**TINY_ENSEMBLE).fit(_ensemble_series())
    return model, save(model, tmp_path_factory.mktemp("ensemble") / "run")


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"local_level": [True, False], "loss": "mae"},
        {"lookback": [4, 6], "normalize": "window"},
    ],
    ids=["default", "both-bases", "given-lookbacks"],
)
def test_default_ensemble_round_trip_gives_the_same_forecasts(extra, tmp_path):
    model = GlobalRecurrentForecaster(**TINY_ENSEMBLE, **extra).fit(_ensemble_series())
    assert model.config.normalize == "window"
    again = load(save(model, tmp_path / "run"))
    assert type(again) is GlobalRecurrentForecaster
    before, after = model.forecast(3, level=(80, 95)), again.forecast(3, level=(80, 95))
    assert list(before) == list(after) == ["s0", "s1", "s2", "s3"]
    for name in before:
        _same_forecasts(before[name], after[name])
    np.testing.assert_array_equal(again.member_forecasts(3), model.member_forecasts(3))
    other = [np.linspace(1.0, 9.0, 20)]
    np.testing.assert_array_equal(
        again.predict(2, series=other)[0], model.predict(2, series=other)[0]
    )
    assert again.lookbacks_ == model.lookbacks_ and again.best_epoch_ == model.best_epoch_
    assert again.get_params() == model.get_params()
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["kind"] == "global_recurrent_forecaster"
    assert manifest["params"] == json.loads(json.dumps(model.get_params()))
    assert manifest["state"]["lookbacks"] == list(model.lookbacks_)
    assert manifest["state"]["scales"] == model.scales_


def _edit_manifest(run: Path, edit) -> None:
    path = run / "run.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


ENSEMBLE_DAMAGE = {
    "loss-not-a-name": (
        lambda m: m["params"].update(loss=["mae", 7]),
        r"params: loss must be one of",
    ),
    "lookback-huge": (
        lambda m: m["params"].update(lookback=[4, 10**12]),
        r"params\.lookback\[1\]: must be <=",
    ),
    "season-as-text": (
        lambda m: m["params"].update(season_length="4"),
        r"params: season_length must be an integer",
    ),
    "too-many-members": (
        lambda m: m["params"].update(n_seeds=64, loss=["mae"] * 64),
        r"ask for 12,288 ensemble members; seqlab builds at most 512",
    ),
    "nested-param": (
        lambda m: m["params"].update(n_seeds={"x": 1}),
        r"params\.n_seeds: expected null, true/false, a number or a string, got an object",
    ),
    "lookbacks-disagree": (
        lambda m: m["state"].update(lookbacks=[6, 9]),
        r"state\.lookbacks is \[6, 9\] but the parameters imply \[6, 8, 9\]",
    ),
    "model-disagrees": (
        lambda m: m["state"]["model"].update(hidden_size=10**9),
        r"state\.model\.hidden_size is 1000000000 but the parameters",
    ),
    "scale-negative": (
        lambda m: m["state"]["scales"].__setitem__(0, -1.0),
        r"state\.scales: a series' scale .* < 0",
    ),
    "scales-short": (
        lambda m: m["state"]["scales"].pop(),
        r"state\.names: expected 3 entries, got 4",
    ),
    "names-repeated": (
        lambda m: m["state"].update(names=["a", "a", "b", "c"]),
        r"state\.names: 'a' appears more than once",
    ),
    "state-missing-key": (
        lambda m: m["state"].pop("lookbacks"),
        r"state: missing key\(s\) \['lookbacks'\]",
    ),
}


@pytest.mark.parametrize("case", sorted(ENSEMBLE_DAMAGE))
def test_damaged_ensemble_run_is_a_one_line_error(case, ensemble_run, tmp_path):
    _, run = ensemble_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    edit, fragment = ENSEMBLE_DAMAGE[case]
    _edit_manifest(copy, edit)
    with pytest.raises(ValueError, match=fragment) as caught:
        load(copy)
    message = str(caught.value)
    assert "\n" not in message and str(copy) in message


def test_ensemble_window_longer_than_its_lookbacks_is_refused(ensemble_run, tmp_path):
    from safetensors.numpy import load_file, save_file

    _, run = ensemble_run
    shutil.copytree(run, tmp_path / "run")
    arrays = load_file(tmp_path / "run" / "data.safetensors")
    arrays["window.1"] = np.concatenate([arrays["window.1"]] * 2)
    save_file(arrays, tmp_path / "run" / "data.safetensors")
    with pytest.raises(ValueError, match=r"data\.safetensors: window\.1: expected 1 to 12 rows"):
        load(tmp_path / "run")


def test_intact_ensemble_copy_loads(ensemble_run, tmp_path):
    # The control for the damaged cases: the same copy, unedited, loads and forecasts.
    model, run = ensemble_run
    shutil.copytree(run, tmp_path / "run")
    _edit_manifest(tmp_path / "run", lambda m: None)
    again = load(tmp_path / "run")
    for name, fc in model.forecast(3, level=(80,)).items():
        _same_forecasts(fc, again.forecast(3, level=(80,))[name])


def test_forecast_predict_with_a_global_run_forecasts_every_series_of_a_long_csv(
    ensemble_run, tmp_path, capsys
):
    from seqlab.cli import main

    model, run = ensemble_run
    series = dict(zip(model.names_, _ensemble_series().values(), strict=True))
    rows = [
        {"id": name, "month": date, "value": v}
        for name, values in series.items()
        for date, v in zip(
            pd.date_range("2000-01-01", periods=len(values), freq="MS"), values, strict=True
        )
    ]
    csv = tmp_path / "long.csv"
    pd.DataFrame(rows).sample(frac=1.0, random_state=0).to_csv(csv, index=False)  # any order
    out = tmp_path / "fc.csv"
    argv = ["forecast", "predict", "--run", str(run), str(csv), "--h", "3", "--level", "80"]
    flags = ["--id-col", "id", "--time-col", "month", "--value", "value", "--out", str(out)]
    assert main([*argv, *flags]) == 0
    table = pd.read_csv(out, parse_dates=["month"])
    assert list(table.columns) == ["id", "month", "forecast", "lower_80", "upper_80"]
    expected = model.forecast(3, level=(80,), series=series)
    for name, fc in expected.items():
        part = table[table["id"] == name]
        np.testing.assert_allclose(part["forecast"], fc.mean, rtol=1e-12)
        np.testing.assert_allclose(part["lower_80"], fc.lower[80], rtol=1e-12)
        last = pd.Timestamp("2000-01-01") + pd.DateOffset(months=len(series[name]) - 1)
        assert list(part["month"]) == list(pd.date_range(last, periods=4, freq="MS")[1:])
    csv.write_text("id,month,value\na,2000-01-01,1\n")
    assert main([*argv, *flags[:6]]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(csv) in err

"""Zhang's ARIMA + network hybrid: the sum of its parts, the network fitted on residuals."""

from __future__ import annotations

import numpy as np
import torch

from seqlab.forecast.classical import ArimaForecaster
from seqlab.forecast.hybrid import HybridForecaster
from seqlab.forecast.neural import RecurrentForecaster


def test_forecast_is_arima_plus_network_on_residuals():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    t = np.arange(160)
    # Random walk plus a periodic component ARIMA(1,1,0) cannot capture.
    y = np.cumsum(rng.normal(0, 0.1, t.size)) + np.sin(2 * np.pi * t / 8)
    network = RecurrentForecaster("gru", lookback=16, horizon=4, hidden_size=8, epochs=2)
    model = HybridForecaster(ArimaForecaster((1, 1, 0)), network).fit(y)
    assert model.label == "arima+gru"
    np.testing.assert_allclose(
        model.predict(4), model.arima_.predict(4) + model.network_.predict(4), rtol=0, atol=1e-12
    )
    # The network was fitted on the ARIMA residuals: the same network, same seed, fitted
    # on them directly, gives the same forecasts.
    alone = RecurrentForecaster("gru", lookback=16, horizon=4, hidden_size=8, epochs=2)
    alone.fit(model.arima_.resid_)
    np.testing.assert_allclose(model.network_.predict(4), alone.predict(4), rtol=0, atol=1e-6)
    # update moves both parts to the new end without refitting.
    params = model.arima_.result_.params.copy()
    model.update(y[:140])
    assert model.arima_.result_.params.equals(params)
    assert model.predict(4).shape == (4,)


# ---------------------------------------------------------------- the global hybrid
TINY_NET = dict(hidden_size=4, epochs=2, windows_per_epoch=64, batch_size=32)


def _seasonal_series(count=24, n=48, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return {
        f"s{i}": 50 + (i + 1) * (np.cumsum(rng.normal(0, 0.3, n)) + np.sin(2 * np.pi * t / 4))
        for i in range(count)
    }


def _global_hybrid(calibrate=True, backend="serial", how="residuals", **kwargs):
    from seqlab.forecast.hybrid import GlobalHybridForecaster
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    network = GlobalRecurrentForecaster(horizon=4, season_length=4, **TINY_NET)
    return GlobalHybridForecaster(
        horizon=4,
        season_length=4,
        arima=ArimaForecaster((0, 1, 1), (0, 1, 1, 4)),
        network=network,
        how=how,
        calibrate=calibrate,
        backend=backend,
        **kwargs,
    )


def test_global_hybrid_is_arima_per_series_plus_one_network_on_residuals():
    torch.set_num_threads(1)
    series = _seasonal_series()
    model = _global_hybrid(calibrate=False).fit(series)
    forecasts = model.predict(4)
    assert list(forecasts) == list(series)
    nets = model.network_.predict(4)
    for i, (name, values) in enumerate(series.items()):
        arima = ArimaForecaster((0, 1, 1), (0, 1, 1, 4)).fit(values)
        np.testing.assert_allclose(model.arimas_[i].predict(4), arima.predict(4), rtol=1e-12)
        np.testing.assert_allclose(forecasts[name], arima.predict(4) + nets[i], rtol=1e-12)
    # The network is the one the same settings fit on the residuals directly.
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    alone = GlobalRecurrentForecaster(horizon=4, season_length=4, **TINY_NET)
    alone.fit([arima.resid_ for arima in model.arimas_])
    for mine, theirs in zip(nets, alone.predict(4), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-6)


def test_global_hybrid_mean_averages_arima_and_the_network_on_the_series():
    from seqlab.forecast.hybrid import GlobalHybridForecaster
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    torch.set_num_threads(1)
    series = _seasonal_series()
    model = _global_hybrid(calibrate=False, how="mean").fit(series)
    assert model.label == "global_hybrid"
    assert _global_hybrid(how="residuals").label == "global_hybrid_residuals"
    assert GlobalHybridForecaster(horizon=4).how == "mean"
    alone = GlobalRecurrentForecaster(horizon=4, season_length=4, **TINY_NET)
    nets = alone.fit(list(series.values())).predict(4)
    for i, (name, values) in enumerate(series.items()):
        arima = ArimaForecaster((0, 1, 1), (0, 1, 1, 4)).fit(values).predict(4)
        np.testing.assert_allclose(model.predict(4)[name], (arima + nets[i]) / 2, rtol=0, atol=1e-6)


def test_global_hybrid_intervals_come_from_its_errors_on_the_held_out_rows():
    torch.set_num_threads(1)
    series = _seasonal_series()
    model = _global_hybrid().fit(series)
    # The calibration is the same model fitted without each series' last 4 rows.
    cut = {name: values[:-4] for name, values in series.items()}
    held = _global_hybrid(calibrate=False).fit(cut).predict(4)
    expected = np.stack(
        [
            np.abs(values[-4:] - held[name]) / np.mean(np.abs(np.diff(values[:-4])))
            for name, values in series.items()
        ]
    )
    np.testing.assert_allclose(model.conformal_.scores, expected, rtol=1e-6, atol=1e-9)
    forecasts = model.forecast(4, level=[80])
    quantile = model.conformal_.half_widths(4, 80)
    for name, values in series.items():
        fc = forecasts[name]
        scale = np.mean(np.abs(np.diff(values)))
        np.testing.assert_allclose(fc.upper[80] - fc.mean, quantile * scale, rtol=1e-9)
        np.testing.assert_allclose(fc.mean - fc.lower[80], quantile * scale, rtol=1e-9)
    # 24 series give 24 errors per step: enough for 80 %, not for 95 % (19 needed at
    # 95 % is fine; 99 % needs 99).
    import pytest

    from seqlab.forecast.conformal import LevelUnavailableError

    with pytest.raises(LevelUnavailableError, match="the last 4 rows of 24 series"):
        model.forecast(4, level=[99])


def test_global_hybrid_runs_in_forecasts_and_processes_match_serial():
    import pandas as pd

    from seqlab.forecast import Forecasts

    torch.set_num_threads(1)
    series = _seasonal_series(count=20)
    df = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": name, "ds": pd.date_range("2000-01", periods=values.size, freq="QS"),
                 "y": values}
            )
            for name, values in series.items()
        ]
    )  # fmt: skip
    out = Forecasts({"gh": _global_hybrid(backend="process", how="mean", n_jobs=2)}).forecast(
        df, h=4, level=[80]
    )
    assert list(out.columns) == ["unique_id", "ds", "gh", "gh-lo-80", "gh-hi-80"]
    serial = _global_hybrid(how="mean").fit(series).predict(4)
    np.testing.assert_allclose(
        out["gh"].to_numpy(), np.concatenate(list(serial.values())), rtol=1e-9
    )


def test_global_hybrid_refuses_bad_settings_and_levels_it_cannot_give():
    import pytest

    from seqlab.forecast.conformal import LevelUnavailableError
    from seqlab.forecast.hybrid import GlobalHybridForecaster

    series = _seasonal_series(count=4)
    with pytest.raises(ValueError, match="not fitted yet"):
        GlobalHybridForecaster(horizon=4).predict(4)
    with pytest.raises(TypeError, match="calibrate must be a bool"):
        GlobalHybridForecaster(horizon=4, calibrate="yes").fit(series)
    with pytest.raises(TypeError, match="arima must be an ArimaForecaster"):
        GlobalHybridForecaster(horizon=4, arima="auto").fit(series)
    with pytest.raises(TypeError, match="network must be a GlobalRecurrentForecaster"):
        GlobalHybridForecaster(horizon=4, network=RecurrentForecaster("gru")).fit(series)
    with pytest.raises(ValueError, match="how"):
        GlobalHybridForecaster(horizon=4, how="median").fit(series)
    with pytest.raises(ValueError, match="backend must be one of"):
        GlobalHybridForecaster(horizon=4, backend="threads").fit(series)
    with pytest.raises(ValueError, match="univariate"):
        GlobalHybridForecaster(horizon=4).fit(series, X=np.ones((48, 1)))
    with pytest.raises(ValueError, match=r"s_bad contains NaN \(first at position 1\)"):
        _global_hybrid(calibrate=False).fit({**series, "s_bad": np.array([1.0, np.nan, 2.0])})
    with pytest.raises(ValueError, match=r"fitting ARIMA to s_short failed: "):
        _global_hybrid(calibrate=False).fit({**series, "s_short": np.arange(3.0)})
    model = _global_hybrid(calibrate=False).fit(series)
    with pytest.raises(LevelUnavailableError, match="calibrate=False"):
        model.forecast(4, level=[80])
    assert len(model.forecast(4, level=None)) == 4

"""ARIMA behind the forecaster interface: same numbers as seqlab.ts, update = filter."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from seqlab.datasets import airline
from seqlab.forecast.backtest import backtest
from seqlab.forecast.classical import ArimaForecaster
from seqlab.ts import ARIMA

ORDER, SEASONAL = (0, 1, 1), (0, 1, 1, 12)


@pytest.fixture(scope="module")
def log_airline():
    return np.log(airline().to_numpy())


@pytest.fixture(scope="module")
def fitted(log_airline):
    return ArimaForecaster(ORDER, SEASONAL).fit(log_airline[:120])


def test_matches_seqlab_ts(log_airline, fitted):
    direct = ARIMA(order=ORDER, seasonal_order=SEASONAL).fit(log_airline[:120]).forecast(6)
    fc = fitted.forecast(6, level=(95,))
    np.testing.assert_array_equal(fc.mean, np.asarray(direct.mean))
    np.testing.assert_array_equal(fc.upper[95], np.asarray(direct.upper[95]))
    # d + D m = 13 diffuse-start residuals are dropped.
    assert fitted.resid_.shape == (120 - 13,)


def test_update_refilters_with_fixed_parameters(log_airline, fitted):
    model = copy.deepcopy(fitted)
    params = model.result_.params
    model.update(log_airline)
    np.testing.assert_array_equal(model.result_.params, params)
    expected = ARIMA(order=ORDER, seasonal_order=SEASONAL).filter(log_airline, params).forecast(3)
    np.testing.assert_array_equal(model.predict(3), np.asarray(expected.mean))


def test_backtest_with_refit_every(log_airline):
    result = backtest(
        {"airline": ArimaForecaster(ORDER, SEASONAL)},
        log_airline,
        horizon=12,
        initial=120,
        step=12,
        refit_every=2,
        m=12,
    )
    assert result.metrics.loc["airline", "origins"] == 2
    # The airline model forecasts a year of log passengers well (MASE well below 1).
    assert result.metrics.loc["airline", "mase"] < 1.0
    assert result.forecasts["lower_80"].notna().all()


@pytest.mark.slow
def test_auto_arima_finds_the_airline_model(log_airline):
    from seqlab.forecast.classical import AutoArimaForecaster

    model = AutoArimaForecaster(m=12).fit(log_airline)
    # Box & Jenkins' airline model is what R's auto.arima picks for log(AirPassengers).
    assert model.chosen_.order == (0, 1, 1)
    assert model.chosen_.seasonal_order == (0, 1, 1, 12)
    model.update(log_airline[:-12])
    assert model.predict(12).shape == (12,)

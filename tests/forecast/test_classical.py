"""ARIMA behind the forecaster interface: same numbers as seqlab.ts, update = filter."""

from __future__ import annotations

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


def test_matches_seqlab_ts(log_airline):
    model = ArimaForecaster(ORDER, SEASONAL).fit(log_airline)
    direct = ARIMA(order=ORDER, seasonal_order=SEASONAL).fit(log_airline).forecast(6)
    fc = model.forecast(6, level=(95,))
    np.testing.assert_array_equal(fc.mean, np.asarray(direct.mean))
    np.testing.assert_array_equal(fc.upper[95], np.asarray(direct.upper[95]))
    assert model.resid_.shape == (log_airline.size - 13,)


def test_update_refilters_with_fixed_parameters(log_airline):
    model = ArimaForecaster(ORDER, SEASONAL).fit(log_airline[:120])
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
        step=6,
        refit_every=2,
        m=12,
    )
    # The airline model forecasts a year of log passengers well (MASE well below 1).
    assert result.metrics.loc["airline", "mase"] < 1.0
    assert result.forecasts["lower_80"].notna().all()

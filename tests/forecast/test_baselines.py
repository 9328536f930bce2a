"""Baselines against values worked out by hand (FPP3 section 5.2 and Table 5.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from seqlab.forecast.baselines import Drift, MeanForecast, Naive, SeasonalNaive

Y = np.array([3.0, 5.0, 4.0, 6.0, 8.0, 7.0])


def test_naive_point_and_interval():
    model = Naive().fit(Y)
    np.testing.assert_array_equal(model.predict(3), [7.0, 7.0, 7.0])
    # residuals 2, -1, 2, 2, -1: sigma = sqrt(14 / 5)
    sigma = math.sqrt(14 / 5)
    fc = model.forecast(3, level=(95,))
    z = norm.ppf(0.975)
    np.testing.assert_allclose(fc.upper[95] - fc.mean, z * sigma * np.sqrt([1, 2, 3]))


def test_seasonal_naive_by_hand():
    model = SeasonalNaive(m=4).fit(Y)
    # y_{T+h} = y_{T+h-4(k+1)}: the last full season y3..y6 = 4, 6, 8, 7 repeats.
    np.testing.assert_array_equal(model.predict(5), [4.0, 6.0, 8.0, 7.0, 4.0])
    # residuals y5 - y1 = 5, y6 - y2 = 2: sigma = sqrt(29 / 2); k = floor((h-1)/4)
    fc = model.forecast(5, level=(80,))
    z = norm.ppf(0.9)
    expected = z * math.sqrt(29 / 2) * np.sqrt([1, 1, 1, 1, 2])
    np.testing.assert_allclose(fc.upper[80] - fc.mean, expected)


def test_drift_by_hand():
    model = Drift().fit(Y)
    slope = (7 - 3) / 5
    np.testing.assert_allclose(model.predict(2), [7 + slope, 7 + 2 * slope])
    resid = np.diff(Y) - slope
    sigma = math.sqrt(np.sum(resid**2) / (5 - 1))
    fc = model.forecast(2, level=(95,))
    steps = np.array([1.0, 2.0])
    np.testing.assert_allclose(
        fc.mean - fc.lower[95], norm.ppf(0.975) * sigma * np.sqrt(steps * (1 + steps / 6))
    )


def test_mean_by_hand():
    model = MeanForecast().fit(Y)
    np.testing.assert_allclose(model.predict(2), [5.5, 5.5])
    sigma = math.sqrt(np.sum((Y - 5.5) ** 2) / 5)
    fc = model.forecast(1, level=(80,))
    np.testing.assert_allclose(fc.upper[80] - fc.mean, norm.ppf(0.9) * sigma * math.sqrt(1 + 1 / 6))


def test_forecast_frame_columns():
    frame = Naive().fit(Y).forecast(2).to_frame()
    assert list(frame.columns) == ["mean", "lower_80", "upper_80", "lower_95", "upper_95"]


def test_errors():
    with pytest.raises(ValueError, match="not fitted"):
        Naive().predict(2)
    with pytest.raises(ValueError, match="m \\+ 1 = 13 observations, got 6"):
        SeasonalNaive(m=12).fit(Y)
    with pytest.raises(ValueError, match="NaN"):
        Naive().fit([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="level"):
        Naive().fit(Y).forecast(2, level=(120,))

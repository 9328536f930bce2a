"""Each metric against its formula written out term by term (Hyndman & Koehler 2006)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqlab.forecast import metrics

ACTUAL = [10.0, 12.0, 8.0, 11.0]
FORECAST = [11.0, 10.0, 8.0, 14.0]


def test_mae_rmse_by_hand():
    # errors: -1, 2, 0, -3
    assert metrics.mae(ACTUAL, FORECAST) == pytest.approx((1 + 2 + 0 + 3) / 4)
    assert metrics.rmse(ACTUAL, FORECAST) == pytest.approx(math.sqrt((1 + 4 + 0 + 9) / 4))


def test_mape_smape_by_hand():
    expected_mape = 100 * (1 / 10 + 2 / 12 + 0 / 8 + 3 / 11) / 4
    expected_smape = 200 * (1 / 21 + 2 / 22 + 0 / 16 + 3 / 25) / 4
    assert metrics.mape(ACTUAL, FORECAST) == pytest.approx(expected_mape)
    assert metrics.smape(ACTUAL, FORECAST) == pytest.approx(expected_smape)


def test_smape_zero_over_zero_counts_as_perfect():
    assert metrics.smape([0.0, 2.0], [0.0, 2.0]) == 0.0


def test_mase_seasonal_scale_by_hand():
    insample = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 8.0])
    # lag-2 differences: 2-1, 5-3, 4-2, 8-5 -> mean |.| = (1 + 2 + 2 + 3) / 4 = 2
    assert metrics.mase_scale(insample, m=2) == pytest.approx(2.0)
    # lag-1: 2, 1, 3, 1, 4 -> 11 / 5
    assert metrics.mase_scale(insample, m=1) == pytest.approx(11 / 5)
    assert metrics.mase(ACTUAL, FORECAST, insample, m=2) == pytest.approx(1.5 / 2.0)


def test_metrics_random_against_numpy_formulas():
    rng = np.random.default_rng(0)
    y, f = rng.uniform(1, 5, 50), rng.uniform(1, 5, 50)
    x = rng.uniform(1, 5, 80)
    assert metrics.mae(y, f) == pytest.approx(np.abs(y - f).mean(), rel=1e-12)
    assert metrics.mase(y, f, x, 12) == pytest.approx(
        np.abs(y - f).mean() / np.abs(x[12:] - x[:-12]).mean(), rel=1e-12
    )


def test_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mae([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        metrics.rmse([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="more than m=12"):
        metrics.mase([1], [1], np.arange(12.0), m=12)


def test_coverage_and_width_by_hand():
    y = [1.0, 2.0, 3.0, 4.0]
    lower = [0.0, 2.5, 3.0, 3.0]
    upper = [2.0, 3.0, 3.0, 3.5]
    # inside: 1 in [0, 2]; 2 < 2.5; 3 in [3, 3] (bounds count); 4 > 3.5
    assert metrics.coverage(y, lower, upper) == 50.0
    assert metrics.interval_width(lower, upper) == pytest.approx((2.0 + 0.5 + 0.0 + 0.5) / 4)
    with pytest.raises(ValueError, match="lower exceeds upper at position 1"):
        metrics.coverage(y, [0.0, 3.5, 3.0, 3.0], [2.0, 3.0, 3.0, 3.5])
    with pytest.raises(ValueError, match="same shape"):
        metrics.coverage(y, lower[:2], upper[:2])

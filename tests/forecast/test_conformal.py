"""Split-conformal intervals: the quantile rule, its coverage, and the forecasters using it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqlab.forecast import (
    ArimaForecaster,
    ConformalForecaster,
    GlobalRecurrentForecaster,
    HybridForecaster,
    Naive,
    RecurrentForecaster,
)
from seqlab.forecast.conformal import (
    ConformalScores,
    LevelUnavailableError,
    conformal_quantile,
    needed_scores,
)


def test_quantile_is_the_ceil_n_plus_1_rank_by_hand():
    scores = np.array([9.0, 1, 8, 2, 7, 3, 6, 4, 5])  # sorted: 1..9, n = 9
    assert conformal_quantile(scores, 80) == 8.0  # ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(scores, 50) == 5.0  # ceil(10 * 0.5) = 5th
    assert conformal_quantile(scores, 90) == 9.0  # ceil(10 * 0.9) = 9th = n
    with pytest.raises(ValueError, match="at least 19 calibration errors, got 9"):
        conformal_quantile(scores, 95)  # ceil(10 * 0.95) = 10 > 9


@pytest.mark.parametrize("level", [50, 80, 90, 95, 97.5, 99])
def test_needed_scores_is_the_smallest_n(level):
    n = needed_scores(level)
    assert math.ceil((n + 1) * level / 100) <= n
    assert n == 1 or math.ceil(n * level / 100) > n - 1


def test_half_widths_per_step_with_missing_steps():
    # Step 1 has 4 scores, step 2 has 3 (NaN: past the end of the data).
    scores = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, np.nan]])
    cal = ConformalScores(scores, source="test", remedy="More data.")
    np.testing.assert_array_equal(cal.counts(), [4, 3])
    np.testing.assert_array_equal(cal.half_widths(1, 75), [4.0])  # ceil(5 * .75) = 4th
    np.testing.assert_array_equal(cal.half_widths(2, 50), [3.0, 20.0])  # 3rd of 4; 2nd of 3
    np.testing.assert_array_equal(cal.half_widths(2, 75), [4.0, 30.0])  # ceil(4 * .75) = 3rd
    with pytest.raises(LevelUnavailableError, match=r"at least 4 .* step 2 has 3 .*More data"):
        cal.half_widths(2, 80)  # ceil(4 * .8) = 4 > 3
    with pytest.raises(LevelUnavailableError, match="calibrated for 2 steps"):
        cal.half_widths(3, 50)
    with pytest.raises(ValueError, match="Did you mean 95"):
        cal.half_widths(1, 0.95)


def test_split_conformal_coverage_on_exchangeable_errors():
    """Marginal coverage over many calibration draws is in [L, L + 1/(n+1)] (Lei et al.
    2018, Thm 2.2); averaged over 4000 draws of (n = 39 calibration, 1 test) errors the
    mean coverage has a standard error of at most sqrt(.25 / 4000) < 0.8 points."""
    rng = np.random.default_rng(0)
    n, draws = 39, 4000
    calibration = np.abs(rng.standard_t(3, size=(draws, n)))
    test = np.abs(rng.standard_t(3, size=draws))
    for level in (80, 95):
        q = np.array([conformal_quantile(row, level) for row in calibration])
        covered = 100 * np.mean(test <= q)
        assert level - 2.4 <= covered <= level + 100 / (n + 1) + 2.4


# ------------------------------------------------------------ the wrapper
def test_conformal_forecaster_by_hand():
    y = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    model = ConformalForecaster(Naive(), horizon=2, hold_out=4).fit(y)
    # Naive refits at origins 2..5: errors y[o + j] - y[o - 1]
    expected = np.array([[2.0, 5.0], [3.0, 7.0], [4.0, 9.0], [5.0, np.nan]])
    np.testing.assert_array_equal(model.conformal_.scores, expected)
    fc = model.forecast(2, level=50)  # ranks ceil(5 * .5) = 3 of 4, ceil(4 * .5) = 2 of 3
    np.testing.assert_array_equal(fc.mean, [16.0, 16.0])
    np.testing.assert_array_equal(fc.lower[50], [12.0, 9.0])
    np.testing.assert_array_equal(fc.upper[50], [20.0, 23.0])
    with pytest.raises(LevelUnavailableError, match="Raise hold_out"):
        model.forecast(2, level=80)
    assert model.label == "naive"


def test_conformal_forecaster_keeps_parameters_from_before_the_hold_out():
    y = _ar1(120, seed=7)
    model = ConformalForecaster(ArimaForecaster((1, 0, 0)), horizon=3, hold_out=20).fit(y)
    base = ArimaForecaster((1, 0, 0)).fit(y[:100])
    for k, origin in enumerate(range(100, 120)):
        if k:
            base.update(y[:origin])
        future = y[origin : origin + 3]
        errors = np.abs(future - base.predict(3)[: future.size])
        np.testing.assert_allclose(model.conformal_.scores[k, : future.size], errors)
    np.testing.assert_allclose(model.predict(3), ArimaForecaster((1, 0, 0)).fit(y).predict(3))


def test_conformal_forecaster_coverage_is_exact_on_a_random_walk():
    """Naive on a Gaussian random walk: the one-step errors are the i.i.d. increments,
    so with 19 calibration errors P(cover) is exactly 16/20 at 80 % and 19/20 at 95 %
    (ranks ceil(20 L / 100)). 1500 independent series: the mean coverage has standard
    deviation at most sqrt(.16 / 1500) = 1.0 point; 3.5 of them is the tolerance."""
    rng = np.random.default_rng(11)
    hits = {80: 0, 95: 0}
    n_series = 1500
    for _ in range(n_series):
        walk = np.cumsum(rng.normal(size=31))
        fc = ConformalForecaster(Naive(), horizon=1, hold_out=19).fit(walk[:30]).forecast(1)
        for level in hits:
            hits[level] += fc.lower[level][0] <= walk[30] <= fc.upper[level][0]
    assert abs(100 * hits[80] / n_series - 80) <= 3.5
    assert abs(100 * hits[95] / n_series - 95) <= 3.5 * np.sqrt(0.05 * 0.95 / n_series) * 100


# ---------------------------------------------------------------- forecasters
def _ar1(n: int, seed: int, phi: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    y = np.empty(n)
    y[0] = e[0]
    for t in range(1, n):
        y[t] = phi * y[t - 1] + e[t]
    return 5.0 + y


def test_recurrent_coverage_on_a_long_series_is_close_to_nominal():
    """An AR(1) with unit Gaussian noise: the network fits on 1600 rows, 400 of them held
    out (400 calibration errors for step 1), then forecasts one step from each of 1000
    later origins. With n = 400 calibration errors, the coverage given the calibration
    set has standard deviation about sqrt(p (1 - p) / n) (2.0 points at 80 %, 1.1 at
    95 %), and 1000 one-step test errors (independent for an AR(1) near its fit) add
    1.3 and 0.7 points: 3.5 standard deviations of their sum are 8.3 and 4.5 points."""
    y = _ar1(2600, seed=1)
    model = RecurrentForecaster(
        "gru", lookback=8, horizon=1, hidden_size=8, epochs=6, valid_size=400, patience=None
    ).fit(y[:1600])
    assert model.conformal_.counts()[0] == 400
    hits = {80: [], 95: []}
    for origin in range(1600, 2600):
        model.update(y[:origin])
        fc = model.forecast(1, level=(80, 95))
        for level in hits:
            hits[level].append(fc.lower[level][0] <= y[origin] <= fc.upper[level][0])
    assert abs(100 * np.mean(hits[80]) - 80) <= 8.3
    assert abs(100 * np.mean(hits[95]) - 95) <= 4.5


def test_recurrent_intervals_contain_the_mean_and_widen_with_the_level():
    y = _ar1(200, seed=2)
    fc = (
        RecurrentForecaster("lstm", lookback=6, horizon=3, hidden_size=4, epochs=2, valid_size=40)
        .fit(y)
        .forecast(3, level=(80, 95))
    )
    assert np.all(fc.lower[95] <= fc.lower[80]) and np.all(fc.lower[80] <= fc.mean)
    assert np.all(fc.mean <= fc.upper[80]) and np.all(fc.upper[80] <= fc.upper[95])


def test_levels_a_recurrent_model_cannot_honour_are_errors():
    y = _ar1(120, seed=3)
    model = RecurrentForecaster("gru", lookback=6, horizon=2, hidden_size=4, epochs=1).fit(y)
    # valid_size 0.1 of 120 = 12 rows: 12 errors at step 1, 11 at step 2.
    np.testing.assert_array_equal(model.conformal_.counts(), [12, 11])
    with pytest.raises(ValueError, match="Did you mean 95"):
        model.forecast(2, level=0.95)
    with pytest.raises(LevelUnavailableError, match=r"needs at least 19 .* Raise valid_size"):
        model.forecast(2, level=95)
    with pytest.raises(LevelUnavailableError, match="at least 19"):
        model.forecast(2, level=(80, 95))  # never a silent subset
    assert set(model.forecast(2, level=80).lower) == {80}
    none = RecurrentForecaster("gru", lookback=6, horizon=2, epochs=1, valid_size=0).fit(y)
    assert none.forecast(2, level=None).lower == {}
    with pytest.raises(LevelUnavailableError, match="valid_size > 0"):
        none.forecast(2, level=80)


def test_refit_full_calibrates_with_the_early_stopped_network():
    y = _ar1(150, seed=4)
    args = dict(lookback=6, horizon=2, hidden_size=4, epochs=3, valid_size=30, patience=2)
    plain = RecurrentForecaster("gru", **args).fit(y)
    full = RecurrentForecaster("gru", refit_full=True, **args).fit(y)
    np.testing.assert_array_equal(plain.conformal_.scores, full.conformal_.scores)
    assert not np.array_equal(plain.predict(2), full.predict(2))  # a different final network


def test_global_model_pools_every_series_hold_out():
    series = [_ar1(80 + 10 * i, seed=10 + i) * (1 + i) for i in range(5)]
    model = GlobalRecurrentForecaster(
        "gru", lookback=8, horizon=2, hidden_size=4, epochs=2, valid_size=6
    ).fit(series)
    # 6 origins per series at step 1, 5 at step 2 (the last origin has one future row).
    np.testing.assert_array_equal(model.conformal_.counts(), [30, 25])
    forecasts = model.forecast(2, level=(80, 95))
    assert len(forecasts) == 5
    for fc, mean in zip(forecasts, model.predict(2), strict=True):
        np.testing.assert_array_equal(fc.mean, mean)
        assert np.all(fc.lower[95] <= fc.lower[80]) and np.all(fc.upper[80] <= fc.upper[95])
    with pytest.raises(LevelUnavailableError, match=r"at least 39 .* 5 series"):
        model.forecast(2, level=97.5)


def test_hybrid_intervals_come_from_its_own_hold_out_errors():
    y = _ar1(160, seed=5) + 0.05 * np.arange(160)
    network = RecurrentForecaster(
        "gru", lookback=6, horizon=1, mode="recursive", hidden_size=4, epochs=2, valid_size=30
    )
    model = HybridForecaster(ArimaForecaster((1, 1, 0)), network).fit(y)
    counts = model.conformal_.counts()
    assert counts[0] == 30 and counts[-1] == 1  # recursive: scored over the hold-out
    fc = model.forecast(4, level=(80, 95))
    np.testing.assert_allclose(fc.mean, model.predict(4))
    half = model.conformal_.half_widths(4, 80)
    np.testing.assert_allclose(fc.upper[80] - fc.mean, half)
    np.testing.assert_allclose(fc.mean - fc.lower[80], half)
    with pytest.raises(ValueError, match="Did you mean 80"):
        model.forecast(4, level=0.8)
    with pytest.raises(LevelUnavailableError, match="step 13 has 18"):
        model.forecast(13, level=95)

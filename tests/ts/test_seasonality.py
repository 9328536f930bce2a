"""ndiffs, nsdiffs, OCSB and STL against statsmodels on real series."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import kpss

from seqlab.datasets import airline, nile
from seqlab.ts.seasonality import (
    kpss_lags,
    ndiffs,
    nsdiffs,
    ocsb_critical_value,
    ocsb_test,
    seasonal_strength,
    stl,
)


def _statsmodels_ndiffs(x: np.ndarray, alpha: float = 0.05, max_d: int = 2) -> int:
    """R's ndiffs rule, written directly on statsmodels' kpss: difference while p < alpha."""
    d = 0
    while d < max_d and not np.all(x == x[0]):
        nlags = math.floor(3 * math.sqrt(x.size) / 13)
        with warnings.catch_warnings():
            # statsmodels warns when the p-value is outside its table; expected here.
            warnings.simplefilter("ignore")
            pvalue = kpss(x, regression="c", nlags=nlags)[1]
        if not pvalue < alpha:
            break
        d += 1
        x = np.diff(x)
    return d


def _m3_period(shared_data, period: str, count: int) -> list[np.ndarray]:
    meta = pd.read_csv(shared_data / "m3" / "m3_meta.csv")
    ids = meta.loc[meta["period"].str.upper() == period, "unique_id"].iloc[:count]
    frame = pd.read_csv(shared_data / "m3" / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(set(ids)) & (frame["split"] == "train")]
    return [g.sort_values("t")["y"].to_numpy(float) for _, g in frame.groupby("unique_id")]


# ------------------------------------------------------------------------ STL
@pytest.mark.parametrize("n", [24, 31, 60, 144])
def test_stl_equals_statsmodels_stl(n):
    # Same windows, degrees and two inner passes (R's non-robust stl); the algorithms are
    # the same Fortran, so agreement is to rounding (1e-9 leaves room for summation order).
    y = np.log(airline().to_numpy())[:n]
    ours = stl(y, 12)
    ref = STL(y, period=12, seasonal=11, seasonal_deg=0).fit(inner_iter=2)
    np.testing.assert_allclose(ours.seasonal, ref.seasonal, atol=1e-9)
    np.testing.assert_allclose(ours.trend, ref.trend, atol=1e-9)
    np.testing.assert_allclose(ours.remainder, ref.resid, atol=1e-9)


def test_stl_other_degrees_and_period_equal_statsmodels(shared_data):
    for y in _m3_period(shared_data, "QUARTERLY", 5):
        ours = stl(y, 4, seasonal=7, seasonal_deg=1)
        ref = STL(y, period=4, seasonal=7, seasonal_deg=1).fit(inner_iter=2)
        np.testing.assert_allclose(ours.seasonal, ref.seasonal, atol=1e-9 * np.abs(y).max())
        np.testing.assert_allclose(ours.trend, ref.trend, atol=1e-9 * np.abs(y).max())


def test_seasonal_strength_formula_on_statsmodels_components():
    y = airline().to_numpy()
    ref = STL(y, period=12, seasonal=11, seasonal_deg=0).fit(inner_iter=2)
    expected = max(0.0, 1 - np.var(ref.resid, ddof=1) / np.var(ref.resid + ref.seasonal, ddof=1))
    assert seasonal_strength(y, 12) == pytest.approx(expected, abs=1e-10)
    assert seasonal_strength(y, 12) > 0.64  # the airline series is strongly seasonal


def test_stl_rejects_bad_input():
    with pytest.raises(ValueError, match="two full periods"):
        stl(np.arange(20.0), 12)
    with pytest.raises(ValueError, match="must be odd"):
        stl(np.arange(40.0), 12, seasonal=10)
    with pytest.raises(TypeError, match="period must be an integer"):
        stl(np.arange(40.0), 12.0)


# ----------------------------------------------------------------------- OCSB
def _ocsb_reference(x: np.ndarray, m: int, lags: int, trim: int | None = None):
    """The OCSB regression built independently with pandas shifts and statsmodels OLS.

    ``trim`` drops the first ``trim`` values of w (forecast's ``tail(y, -maxlag)``);
    returns (t-value of Z5, AIC of the regression).
    """
    s = pd.Series(x)
    seasonal_diff = s.diff(m)
    first_diff = s.diff(1)
    w = seasonal_diff.diff(1)
    target = w.copy()
    target.iloc[: m + 1 + (lags if trim is None else trim)] = np.nan
    if lags:
        w_lags = pd.concat({f"w{i}": w.shift(i) for i in range(1, lags + 1)}, axis=1)
        frame = pd.concat([target.rename("w"), w_lags], axis=1).dropna()
        ar = OLS(frame["w"], frame.drop(columns="w")).fit().params.to_numpy()

        def prewhiten(z):
            return z - sum(ar[i - 1] * z.shift(i) for i in range(1, lags + 1))

        z4, z5 = prewhiten(seasonal_diff), prewhiten(first_diff)
    else:
        w_lags = pd.DataFrame(index=s.index)
        z4, z5 = seasonal_diff, first_diff
    frame = pd.concat(
        [target.rename("w"), w_lags, z4.shift(1).rename("z4"), z5.shift(m).rename("z5")], axis=1
    ).dropna()
    fit = OLS(frame["w"], frame.drop(columns="w")).fit()
    return float(fit.tvalues["z5"]), float(fit.aic)


@pytest.mark.parametrize("lags", [0, 1, 3])
def test_ocsb_statistic_equals_independent_regression(lags):
    y = np.log(airline().to_numpy())
    result = ocsb_test(y, 12, lag_method="fixed", max_lag=lags)
    # The same least-squares problem solved two ways; 1e-8 allows for QR vs lstsq.
    assert result.statistic == pytest.approx(_ocsb_reference(y, 12, lags)[0], rel=1e-8)
    assert result.lags == lags


def test_ocsb_critical_value_matches_forecast_print():
    # forecast's ocsb.test prints "5% critical value: -1.803" for monthly data.
    assert round(ocsb_critical_value(12), 3) == -1.803


def test_ocsb_lag_selection_uses_minimum_aic():
    y = np.log(airline().to_numpy())
    chosen = ocsb_test(y, 12, lag_method="aic", max_lag=3)
    # Every lag is fitted on the sample that max_lag=3 leaves, as forecast's fitOCSB does.
    reference = [_ocsb_reference(y, 12, lags, trim=3) for lags in (1, 2, 3)]
    best = int(np.argmin([aic for _, aic in reference]))
    assert chosen.lags == best + 1
    assert chosen.statistic == pytest.approx(reference[best][0], rel=1e-8)


def test_ocsb_rejects_short_series_and_bad_method():
    with pytest.raises(ValueError, match="needs at least"):
        ocsb_test(np.arange(20.0), 12)
    with pytest.raises(ValueError, match="lag_method"):
        ocsb_test(np.arange(60.0), 12, lag_method="hqic")


# ---------------------------------------------------------- ndiffs / nsdiffs
def test_ndiffs_equals_kpss_sequence_on_bundled_series():
    for y in (airline().to_numpy(), np.log(airline().to_numpy()), nile().to_numpy()):
        assert ndiffs(y) == _statsmodels_ndiffs(y)
    assert ndiffs(nile().to_numpy()) == 1  # R: ndiffs(Nile) is 1


def test_ndiffs_equals_kpss_sequence_on_m3(shared_data):
    checked = 0
    for period in ("YEARLY", "QUARTERLY", "MONTHLY", "OTHER"):
        for y in _m3_period(shared_data, period, 25):
            assert ndiffs(y) == _statsmodels_ndiffs(y), period
            checked += 1
    assert checked == 100


def test_kpss_lags_rule():
    assert [kpss_lags(n) for n in (14, 50, 144)] == [0, 1, 2]


def test_nsdiffs_seas_and_ocsb_on_airline():
    y = np.log(airline().to_numpy())
    assert nsdiffs(y, 12) == 1  # R: nsdiffs(log(AirPassengers)) is 1
    assert nsdiffs(y, 12, test="ocsb") == int(ocsb_test(y, 12).needs_differencing)
    assert nsdiffs(nile().to_numpy(), 4) == 0  # no seasonality at an arbitrary period


def test_nsdiffs_short_constant_and_bad_input():
    assert nsdiffs(np.arange(20.0), 12) == 0  # shorter than two periods
    assert nsdiffs(np.full(50, 3.0), 12) == 0
    with pytest.raises(ValueError, match="m >= 2"):
        nsdiffs(np.arange(50.0), 1)
    with pytest.raises(ValueError, match="test must be"):
        nsdiffs(np.arange(50.0), 12, test="ch")
    with pytest.raises(ValueError, match="test must be"):
        ndiffs(np.arange(50.0), test="adf")

"""ADF, KPSS, rolling stats and check_stationarity, against statsmodels on real series.

Reference: statsmodels' ``adfuller`` / ``kpss`` / ``mackinnonp`` / ``mackinnoncrit``,
run in the same process on the same data. Tolerances: we require statistics within
1e-6 and p-values within 1e-3 at least; the implementations compute the same regressions,
so we hold them to 1e-8 and 1e-8 (observed differences are ~1e-12, rounding in the
least-squares solves) and require identical lag choices and observation counts.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from seqlab.datasets import airline, nile
from seqlab.ts import adf_test, check_stationarity, kpss_test, rolling_stats
from seqlab.ts.stationarity import mackinnon_critical_values, mackinnon_pvalue

sm = pytest.importorskip("statsmodels.api")
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp
from statsmodels.tsa.stattools import adfuller, kpss

STAT_TOL = 1e-8
PVALUE_TOL = 1e-8


def _real_series() -> dict[str, pd.Series]:
    macro = sm.datasets.macrodata.load_pandas().data
    sun = sm.datasets.sunspots.load_pandas().data
    co2 = sm.datasets.co2.load_pandas().data["co2"].dropna()
    return {
        "airline": airline(),
        "log_airline": np.log(airline()),
        "nile": nile(),
        "realgdp": macro["realgdp"],
        "infl": macro["infl"],
        "sunspots": sun["SUNACTIVITY"],
        "co2_weekly": co2.iloc[:260],
    }


SERIES = _real_series()

# The same check runs on a Series, an ndarray and a list.
AS_TYPES = {
    "series": lambda s: s,
    "ndarray": lambda s: s.to_numpy(),
    "list": lambda s: s.to_list(),
}


def _sm_adf(x, regression, autolag, maxlag=None):
    return adfuller(
        np.asarray(x, float),
        maxlag=maxlag,
        regression=regression,
        autolag=autolag,
        result_object=True,
    )


def _sm_kpss(x, regression, nlags):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InterpolationWarning at the table's ends
        return kpss(np.asarray(x, float), regression=regression, nlags=nlags, result_object=True)


def _assert_adf_equal(ours, ref):
    assert ours.lags == ref.lags
    assert ours.nobs == ref.nobs
    assert abs(ours.statistic - ref.statistic) < STAT_TOL
    assert abs(ours.pvalue - ref.pvalue) < PVALUE_TOL
    for level, value in ref.critical_values.items():
        assert ours.critical_values[level] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("name", list(SERIES))
@pytest.mark.parametrize("regression", ["c", "ct", "n"])
def test_adf_matches_statsmodels(name, regression):
    for autolag in ("AIC", "BIC", None):
        ref = _sm_adf(SERIES[name], regression, autolag)
        for as_type in AS_TYPES.values():
            ours = adf_test(as_type(SERIES[name]), regression=regression, autolag=autolag)
            _assert_adf_equal(ours, ref)


@pytest.mark.parametrize("maxlag", [0, 1, 4, 12])
def test_adf_fixed_and_capped_lags_match_statsmodels(maxlag):
    y = SERIES["realgdp"]
    for regression in ("c", "ct", "n"):
        for autolag in ("AIC", None):
            ours = adf_test(y, regression, maxlag=maxlag, autolag=autolag)
            assert ours.maxlag == maxlag
            _assert_adf_equal(ours, _sm_adf(y, regression, autolag, maxlag=maxlag))


def test_adf_and_kpss_on_m3_monthly(m3_monthly):
    # Every 40th M3 monthly series (36 series). A one-off run over every 4th series
    # (357 series, 2142 ADF fits, c/ct/n x AIC/BIC) found no lag mismatch, statistics
    # within 5e-12 and p-values within 1.2e-12.
    for uid in sorted(m3_monthly)[::40]:
        train, _ = m3_monthly[uid]
        for regression in ("c", "ct"):
            _assert_adf_equal(adf_test(train, regression), _sm_adf(train, regression, "AIC"))
            ours = kpss_test(train, regression)
            ref = _sm_kpss(train, regression, "auto")
            assert ours.lags == ref.lags
            assert abs(ours.statistic - ref.statistic) < STAT_TOL
            assert abs(ours.pvalue - ref.pvalue) < PVALUE_TOL


@pytest.mark.parametrize("name", list(SERIES))
def test_kpss_matches_statsmodels(name):
    for regression in ("c", "ct"):
        for nlags in ("auto", "legacy", 0, 3):
            ref = _sm_kpss(SERIES[name], regression, nlags)
            for as_type in AS_TYPES.values():
                ours = kpss_test(as_type(SERIES[name]), regression=regression, nlags=nlags)
                assert ours.lags == ref.lags
                assert ours.nobs == len(SERIES[name])
                assert abs(ours.statistic - ref.statistic) < STAT_TOL
                assert abs(ours.pvalue - ref.pvalue) < PVALUE_TOL
                assert ours.critical_values == ref.critical_values


def test_kpss_pvalue_bound_marks_the_ends_of_the_table():
    trending = kpss_test(airline(), "c")  # statistic far above the 1 % value
    assert trending.pvalue == 0.01 and trending.pvalue_bound == "smaller"
    assert "p < 0.01" in trending.conclusion
    calm = kpss_test(airline(), "ct")
    assert calm.pvalue == 0.10 and calm.pvalue_bound == "greater"
    assert "p > 0.10" in calm.conclusion
    inside = kpss_test(SERIES["infl"], "c")
    assert 0.01 < inside.pvalue < 0.10 and inside.pvalue_bound is None
    assert f"p = {inside.pvalue:.3f}" in inside.conclusion


@pytest.mark.parametrize("regression", ["c", "ct", "n"])
def test_mackinnon_tables_equal_statsmodels(regression):
    for tau in np.linspace(-25.0, 5.0, 241):
        assert mackinnon_pvalue(tau, regression) == pytest.approx(
            mackinnonp(tau, regression, N=1), rel=1e-13, abs=1e-15
        )
    for nobs in (10, 25, 100, 1000, np.inf):
        ours = list(mackinnon_critical_values(regression, nobs).values())
        np.testing.assert_allclose(ours, mackinnoncrit(1, regression, nobs), rtol=1e-13)


def test_conclusions_say_what_the_numbers_mean():
    adf = adf_test(nile(), "c")
    assert adf.rejects_unit_root
    assert "unit root is rejected" in adf.conclusion and f"{adf.statistic:.3f}" in str(adf)
    adf = adf_test(airline(), "c")
    assert not adf.rejects_unit_root and "cannot be rejected" in adf.conclusion
    kp = kpss_test(airline(), "c")
    assert kp.rejects_stationarity and "is rejected" in kp.conclusion


def _simulated(kind: str, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(20260101)
    noise = rng.standard_normal(n)
    if kind == "white":
        return noise
    if kind == "random_walk":
        return np.cumsum(noise)
    if kind == "trend":  # stationary AR(1) around a line
        ar = np.zeros(n)
        for t in range(1, n):
            ar[t] = 0.5 * ar[t - 1] + noise[t]
        return 0.05 * np.arange(n) + ar
    raise ValueError(kind)


@pytest.mark.parametrize(
    ("kind", "verdict"),
    [
        ("white", "stationary"),
        ("random_walk", "difference-stationary"),
        ("trend", "trend-stationary"),
    ],
)
def test_check_stationarity_recognises_textbook_cases(kind, verdict):
    report = check_stationarity(_simulated(kind))
    assert report.verdict == verdict
    text = str(report)
    assert f"Verdict: {verdict}." in text
    for result in (report.adf_level, report.kpss_level, report.adf_trend, report.kpss_trend):
        assert result.conclusion in text


@pytest.mark.parametrize("name", list(SERIES))
def test_check_stationarity_verdict_follows_the_tests(name):
    # The decision table in the docstring, re-derived from the four test outcomes.
    report = check_stationarity(SERIES[name])
    a_c = report.adf_level.pvalue < 0.05
    k_c = report.kpss_level.pvalue < 0.05
    a_t = report.adf_trend.pvalue < 0.05
    k_t = report.kpss_trend.pvalue < 0.05
    if a_c and not k_c:
        expected = "stationary"
    elif not k_c:
        expected = "inconclusive"
    elif a_t and not k_t:
        expected = "trend-stationary"
    elif not a_t and (k_t or not a_c):
        expected = "difference-stationary"
    else:
        expected = "inconclusive"
    assert report.verdict == expected
    assert report.adf_level.statistic == adf_test(SERIES[name], "c").statistic


def test_check_stationarity_on_known_series():
    # The airline series trends upward with a unit root (Box & Jenkins model it with
    # d = 1, D = 1); its seasonal difference of logs is the classic stationary input.
    assert check_stationarity(airline()).verdict == "difference-stationary"
    assert str(check_stationarity(airline())).startswith("Stationarity check of passengers")
    logged = np.log(airline().to_numpy())
    assert check_stationarity(logged[12:] - logged[:-12]).nobs == 132


@pytest.mark.parametrize("as_type", list(AS_TYPES))
def test_rolling_stats_matches_direct_windows(as_type):
    y = AS_TYPES[as_type](nile())
    window = 10
    stats = rolling_stats(y, window)
    values = np.asarray(y, float)
    assert list(stats.columns) == ["mean", "sd"]
    assert stats.iloc[: window - 1].isna().all().all()
    for t in range(window - 1, len(values)):
        chunk = values[t - window + 1 : t + 1]
        assert stats["mean"].iloc[t] == pytest.approx(chunk.mean(), rel=1e-12)
        assert stats["sd"].iloc[t] == pytest.approx(chunk.std(ddof=1), rel=1e-10)
    if as_type == "series":
        assert stats.index.equals(nile().index)
    else:
        assert stats.index.equals(pd.RangeIndex(len(values)))


BAD_INPUTS = [
    ([], "empty"),
    ([np.nan] * 20, "all NaN"),
    ([3.0] * 20, "constant"),
    ([1.0, 2.0, np.inf, 4.0, 5.0, 6.0, 2.0], "inf"),
    ([1.0, np.nan, 3.0, 4.0, 1.0, 2.0, 7.0], "NaN"),
    (np.ones((10, 2)), "1-D"),
    (["1", "x", "3", "4", "5", "6"], "numeric"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_INPUTS)
def test_bad_input_is_a_clear_value_error(bad, message):
    for func in (adf_test, kpss_test, check_stationarity):
        with pytest.raises(ValueError, match=message):
            func(bad)


def test_too_short_and_bad_options():
    with pytest.raises(ValueError, match="needs at least 6"):
        adf_test([1.0, 3.0, 2.0, 5.0, 4.0], "ct")
    with pytest.raises(ValueError, match="needs at least 3"):
        kpss_test([1.0, 2.0])
    with pytest.raises(ValueError, match="maxlag=60 is too large"):
        adf_test(nile(), maxlag=60)
    with pytest.raises(ValueError, match="regression must be one of"):
        adf_test(nile(), regression="ctt")
    with pytest.raises(ValueError, match="autolag must be one of"):
        adf_test(nile(), autolag="t-stat")
    with pytest.raises(ValueError, match="nlags=100 must be smaller"):
        kpss_test(nile(), nlags=100)
    with pytest.raises(TypeError, match="nlags must be an integer"):
        kpss_test(nile(), nlags=2.5)
    with pytest.raises(ValueError, match="alpha must be strictly between"):
        check_stationarity(nile(), alpha=1.5)
    with pytest.raises(ValueError, match="window=200 is longer"):
        rolling_stats(nile(), 200)
    with pytest.raises(ValueError, match="singular"):
        adf_test(np.arange(30.0), "ct")
    with pytest.raises(ValueError, match="exact straight line"):
        kpss_test(np.arange(30.0), "ct")
    with pytest.raises(ValueError, match="fits the series exactly"):
        adf_test(np.tile([1.0, 2.0], 20), maxlag=0, autolag=None)


def test_report_describes_rolling_stats():
    report = check_stationarity(airline())
    assert report.window == 12  # monthly index
    assert report.rolling.index.equals(airline().index)
    first = airline().iloc[:12]
    assert report.rolling["mean"].iloc[11] == pytest.approx(first.mean())
    assert f"Rolling mean over 12 values: {first.mean():.4g} in the first window" in str(report)
    assert check_stationarity(airline().to_numpy()).window == 14  # no index: n // 10
    assert check_stationarity(airline(), window=24).rolling["sd"].notna().sum() == 144 - 23


def test_no_constant_keeps_a_residual_degree_of_freedom():
    # Deliberate deviation: with regression="n" and an even n below ~30, statsmodels'
    # lag cap n//2 - 1 allows an exact fit (zero residual df; it reports statistic 0.0).
    # We cap maxlag so one residual degree of freedom is left; elsewhere the lags agree.
    x = np.cumsum(np.random.default_rng(1).standard_normal(20))
    ours = adf_test(x, "n")
    assert ours.maxlag == 8 and ours.nobs - (ours.lags + 1) >= 1
    assert np.isfinite(ours.statistic)
    _assert_adf_equal(adf_test(x[:19], "n"), _sm_adf(x[:19], "n", "AIC"))

"""acf, pacf and ljung_box against statsmodels on real series, plus independent checks.

Reference: statsmodels' ``acf(fft=False)``, ``pacf(method="ldb")`` (Durbin-Levinson on
the n-divisor autocovariances, which is also R's ``pacf``) and ``acorr_ljungbox``.
Tolerances: acf/pacf within 1e-12 absolute (observed <= 3e-15: same sums, different
order); Ljung-Box to 1e-14 relative (observed bit-identical: the same formula on the
same autocorrelations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

from seqlab.datasets import airline, nile
from seqlab.ts import acf, ljung_box, pacf

sm = pytest.importorskip("statsmodels.api")
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tsa.stattools import acf as sm_acf
from statsmodels.tsa.stattools import pacf as sm_pacf

AS_TYPES = {
    "series": lambda s: s,
    "ndarray": lambda s: s.to_numpy(),
    "list": lambda s: s.to_list(),
}


def _series() -> dict[str, pd.Series]:
    macro = sm.datasets.macrodata.load_pandas().data
    logair = np.log(airline())
    return {
        "dlog_airline": logair.diff().dropna(),
        "nile": nile(),
        "sunspots": sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"],
        "infl": macro["infl"],
    }


SERIES = _series()


@pytest.mark.parametrize("name", list(SERIES))
def test_acf_and_pacf_match_statsmodels(name):
    y = SERIES[name]
    for nlags in (None, 1, 12, 40):
        ref_acf = sm_acf(y.to_numpy(), nlags=nlags, alpha=0.05, fft=False, result_object=True)
        ref_pacf = sm_pacf(y.to_numpy(), nlags=nlags, method="ldb", alpha=0.1)
        for as_type in AS_TYPES.values():
            values, confint = acf(as_type(y), nlags, alpha=0.05)
            np.testing.assert_allclose(values, ref_acf.acf, rtol=0, atol=1e-12)
            np.testing.assert_allclose(confint, ref_acf.confint, rtol=0, atol=1e-12)
            np.testing.assert_allclose(acf(as_type(y), nlags), ref_acf.acf, rtol=0, atol=1e-12)
            values, confint = pacf(as_type(y), nlags, alpha=0.1)
            np.testing.assert_allclose(values, ref_pacf.pacf, rtol=0, atol=1e-12)
            np.testing.assert_allclose(confint, ref_pacf.confint, rtol=0, atol=1e-12)


def test_acf_on_m3_monthly(m3_monthly):
    for uid in sorted(m3_monthly)[::100]:
        train, _ = m3_monthly[uid]
        np.testing.assert_allclose(acf(train, 24), sm_acf(train, nlags=24, fft=False), atol=1e-12)
        np.testing.assert_allclose(
            pacf(train, 20), sm_pacf(train, nlags=20, method="ldb"), atol=1e-12
        )


def test_pacf_is_the_last_yule_walker_coefficient():
    # Independent of the Durbin-Levinson recursion: phi_kk is the last coefficient of the
    # order-k Yule-Walker system Gamma_k phi = gamma_(1..k) (Brockwell & Davis, 3.4).
    x = SERIES["sunspots"].to_numpy()
    n = x.size
    centred = x - x.mean()
    gamma = np.array([centred[k:] @ centred[: n - k] / n for k in range(16)])
    partial = pacf(x, 15)
    for k in range(1, 16):
        phi = scipy.linalg.solve_toeplitz(gamma[:k], gamma[1 : k + 1])
        assert partial[k] == pytest.approx(phi[-1], abs=1e-12)


@pytest.mark.parametrize("name", list(SERIES))
def test_ljung_box_matches_statsmodels(name):
    y = SERIES[name]
    cases = [(24, 0), (24, 2), (None, 0), ([1, 6, 12], 1)]
    for lags, fitdf in cases:
        ref = acorr_ljungbox(y.to_numpy(), lags=lags, model_df=fitdf)
        for as_type in AS_TYPES.values():
            res = ljung_box(as_type(y), lags, fitdf=fitdf)
            np.testing.assert_array_equal(res.lags, ref.index.to_numpy())
            np.testing.assert_allclose(res.statistic, ref["lb_stat"], rtol=1e-14)
            np.testing.assert_allclose(res.pvalue, ref["lb_pvalue"], rtol=1e-14, equal_nan=True)
            frame = res.to_frame()
            assert list(frame.columns) == ["lb_stat", "lb_pvalue"]
    # No degrees of freedom left: NaN p-values, as statsmodels and R.
    res = ljung_box(y, 3, fitdf=3)
    assert np.isnan(res.pvalue).all() and np.isfinite(res.statistic).all()


def test_ljung_box_detects_correlation_and_passes_noise():
    rng = np.random.default_rng(7)
    noise = rng.standard_normal(500)
    assert ljung_box(noise, 10).pvalue[-1] > 0.05
    ar = np.zeros(500)
    for t in range(1, 500):
        ar[t] = 0.6 * ar[t - 1] + noise[t]
    assert ljung_box(ar, 10).pvalue[-1] < 1e-10


BAD = [
    ([], "empty"),
    ([np.nan] * 10, "all NaN"),
    ([2.0] * 10, "constant"),
    ([1.0, np.inf, 2.0, 3.0], "inf"),
    ([1.0, np.nan, 2.0, 3.0], "NaN"),
    (np.ones((5, 2)), "1-D"),
    ([1.0], "at least 2"),
]


@pytest.mark.parametrize(("bad", "message"), BAD)
def test_bad_input(bad, message):
    for func in (acf, pacf, ljung_box):
        with pytest.raises(ValueError, match=message):
            func(bad, 1)


def test_bad_options():
    y = nile()
    with pytest.raises(ValueError, match="at most n - 1"):
        acf(y, 100)
    with pytest.raises(ValueError, match="n // 2 = 50"):
        pacf(y, 51)
    with pytest.raises(ValueError, match="alpha must be strictly between"):
        acf(y, 5, alpha=0.0)
    with pytest.raises(ValueError, match="smaller than len"):
        ljung_box(y, 100)
    with pytest.raises(ValueError, match="lags is empty"):
        ljung_box(y, [])
    with pytest.raises(ValueError, match="each lag must be >= 1"):
        ljung_box(y, [0, 2])
    with pytest.raises(TypeError, match="lags must be an int"):
        ljung_box(y, "12")
    with pytest.raises(ValueError, match="fitdf must be >= 0"):
        ljung_box(y, 5, fitdf=-1)

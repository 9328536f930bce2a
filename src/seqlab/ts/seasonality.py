"""How many differences a series needs: ``ndiffs``, ``nsdiffs``, the OCSB test, STL.

These are the order-of-integration steps of Hyndman & Khandakar (2008), as R's
``forecast::ndiffs`` / ``forecast::nsdiffs`` implement them:

- ``ndiffs``: difference while the KPSS level test rejects stationarity at ``alpha``
  (lag truncation ``floor(3 sqrt(n) / 13)``, as forecast >= 8.x passes to ``ur.kpss``).
- ``nsdiffs(test="seas")``: seasonally difference while the seasonal strength of an STL
  decomposition exceeds 0.64 (Wang, Smith & Hyndman 2006; forecast's ``seas.heuristic``).
- ``nsdiffs(test="ocsb")``: seasonally difference while the OCSB test (Osborn, Chui,
  Smith & Birchenhall 1988) fails to reject a seasonal unit root.

``stl`` is our own implementation of STL (Cleveland, Cleveland, McRae & Terpenning
1990, the Fortran ``stl.f`` of netlib, non-robust, all jumps 1; compiled, in
``ts/_core/stl.cpp``). It is checked against
``statsmodels.tsa.seasonal.STL`` with the same windows and degrees in the tests.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from seqlab._validation import as_float_series, check_int, ordered_series
from seqlab.ts import _kalman
from seqlab.ts.transforms import _difference_array

__all__ = [
    "SEASONAL_STRENGTH_THRESHOLD",
    "OCSBResult",
    "STLResult",
    "kpss_lags",
    "ndiffs",
    "nsdiffs",
    "ocsb_critical_value",
    "ocsb_test",
    "seasonal_strength",
    "stl",
]

logger = logging.getLogger(__name__)

# forecast::seas.heuristic: seasonal differencing when the strength exceeds this.
SEASONAL_STRENGTH_THRESHOLD = 0.64


# --------------------------------------------------------------------------- STL
@dataclass(frozen=True)
class STLResult:
    """STL components: ``observed = seasonal + trend + remainder``."""

    observed: np.ndarray
    seasonal: np.ndarray
    trend: np.ndarray
    remainder: np.ndarray


def _next_odd(value: int) -> int:
    return value if value % 2 == 1 else value + 1


def stl(
    y,
    period: int,
    seasonal: int = 11,
    trend: int | None = None,
    low_pass: int | None = None,
    seasonal_deg: int = 0,
    trend_deg: int = 1,
    low_pass_deg: int = 1,
    inner_iter: int = 2,
) -> STLResult:
    """Seasonal-trend decomposition by loess (Cleveland et al. 1990), non-robust.

    Defaults follow R's ``forecast::mstl`` for one seasonal period (``s.window = 11``,
    seasonal degree 0, two inner passes, no robustness iterations); ``trend`` defaults
    to the next odd integer >= ``1.5 period / (1 - 1.5 / seasonal)`` and ``low_pass`` to
    the next odd integer > ``period``, as in R's ``stl`` and statsmodels' ``STL``. The
    smoothers are evaluated at every point (no jumps), like statsmodels' defaults.
    Checked against ``statsmodels.tsa.seasonal.STL`` to 1e-8 in the tests.
    """
    values = as_float_series(ordered_series(y))
    period = check_int(period, "period", minimum=2)
    seasonal = check_int(seasonal, "seasonal", minimum=3)
    if seasonal % 2 == 0:
        raise ValueError(f"seasonal (the seasonal smoother span) must be odd, got {seasonal}.")
    if values.size < 2 * period:
        raise ValueError(
            f"STL needs at least two full periods: got {values.size} observations for "
            f"period {period}."
        )
    if trend is None:
        trend = _next_odd(math.ceil(1.5 * period / (1.0 - 1.5 / seasonal)))
    if low_pass is None:
        low_pass = _next_odd(period + 1)
    season, trend_values = _kalman.stl(
        values, period, seasonal, trend, low_pass, seasonal_deg, trend_deg, low_pass_deg, inner_iter
    )
    return STLResult(values, season, trend_values, values - season - trend_values)


def seasonal_strength(y, m: int) -> float:
    """Strength of seasonality ``max(0, min(1, 1 - var(R) / var(S + R)))`` from ``stl``.

    Wang, Smith & Hyndman (2006); computed on ``stl(y, m)`` with R ``mstl``'s defaults as
    forecast's ``seas.heuristic`` does. 0 means no seasonality, 1 a purely seasonal series.
    """
    decomposition = stl(y, m)
    remainder = decomposition.remainder
    total = np.var(remainder + decomposition.seasonal, ddof=1)
    if total <= 0.0:
        return 0.0
    return float(max(0.0, min(1.0, 1.0 - np.var(remainder, ddof=1) / total)))


# -------------------------------------------------------------------------- OCSB
@dataclass(frozen=True)
class OCSBResult:
    """Result of :func:`ocsb_test`. ``needs_differencing`` is ``statistic > critical_value``."""

    statistic: float
    critical_value: float
    lags: int
    m: int

    @property
    def needs_differencing(self) -> bool:
        return self.statistic > self.critical_value


def ocsb_critical_value(m: int) -> float:
    """5% critical value of the OCSB t-statistic for period ``m``.

    The smoothed simulation formula of forecast's ``ocsb.test`` (``calcOCSBCritVal``).
    """
    log_m = math.log(m)
    return (
        -0.2937411
        * math.exp(-0.2850853 * (log_m - 0.7656451) - 0.05983644 * (log_m - 0.7656451) ** 2)
        - 1.652202
    )


def _lagged(x: np.ndarray, lag: int) -> np.ndarray:
    """``x`` shifted ``lag`` steps later, NaN-filled at the start (same length)."""
    out = np.full(x.size, np.nan)
    if lag < x.size:
        out[lag:] = x[: x.size - lag]
    return out


def _ols(y: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Least squares without intercept: (coefficients, t-values, loglik, nobs)."""
    nobs, k = design.shape
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < k:
        raise np.linalg.LinAlgError("singular OCSB regression")
    resid = y - design @ coef
    rss = float(resid @ resid)
    sigma2 = rss / (nobs - k)
    cov = sigma2 * np.linalg.inv(design.T @ design)
    tvalues = coef / np.sqrt(np.diag(cov))
    loglik = -0.5 * nobs * (math.log(2 * math.pi * rss / nobs) + 1.0)
    return coef, tvalues, loglik, nobs


def _ocsb_regression(x: np.ndarray, m: int, lags: int, max_lag: int):
    """The OCSB regression with ``lags`` augmentation lags, on the sample of ``max_lag``.

    Osborn et al. (1988), as forecast's ``fitOCSB``: with ``w = (1-B)(1-B^m) x``,
    prewhiten ``(1-B^m) x`` and ``(1-B) x`` by an AR(``lags``) fitted to ``w``, then
    regress ``w_t`` on ``w_{t-1..t-lags}``, ``Z4_{t-1}`` and ``Z5_{t-m}`` (no intercept).
    All series are aligned on the time index of ``x`` (NaN where undefined).
    """
    n = x.size
    seasonal_diff = np.full(n, np.nan)
    seasonal_diff[m:] = _difference_array(x, D=1, m=m)
    first_diff = np.full(n, np.nan)
    first_diff[1:] = _difference_array(x, d=1)
    w = np.full(n, np.nan)
    w[1:] = seasonal_diff[1:] - seasonal_diff[:-1]
    # forecast's fitOCSB drops the first max_lag values of w for every lag choice, so
    # the information criteria compare fits on one sample.
    w_trim = w.copy()
    first_w = m + 1
    w_trim[: first_w + max_lag] = np.nan
    if lags > 0:
        w_lags = np.column_stack([_lagged(w, i) for i in range(1, lags + 1)])
        ok = ~np.isnan(w_trim) & ~np.isnan(w_lags).any(axis=1)
        ar_coef, *_ = _ols(w_trim[ok], w_lags[ok])

        def prewhiten(z: np.ndarray) -> np.ndarray:
            lagged = np.column_stack([_lagged(z, i) for i in range(1, lags + 1)])
            return z - lagged @ ar_coef

        z4 = prewhiten(seasonal_diff)
        z5 = prewhiten(first_diff)
    else:
        w_lags = np.empty((n, 0))
        z4 = seasonal_diff
        z5 = first_diff
    design = np.column_stack([w_lags, _lagged(z4, 1), _lagged(z5, m)])
    ok = ~np.isnan(w_trim) & ~np.isnan(design).any(axis=1)
    return _ols(w_trim[ok], design[ok])


def ocsb_test(y, m: int, lag_method: str = "fixed", max_lag: int = 0) -> OCSBResult:
    """Osborn-Chui-Smith-Birchenhall test for a seasonal unit root.

    The statistic is the t-value of the ``Z5`` coefficient in the OCSB regression (see
    ``_ocsb_regression``); a value above :func:`ocsb_critical_value` means the seasonal
    unit root is not rejected, so the series needs seasonal differencing. Defaults
    (``lag_method="fixed"``, ``max_lag=0``) are those R's ``nsdiffs`` uses. With
    ``lag_method`` in ``"aic"``, ``"bic"``, ``"aicc"`` the number of augmentation lags
    (1..``max_lag``) minimising the criterion is used. (forecast's ``ocsb.test`` then
    uses one lag fewer than the minimiser, ``which.min(icvals) - 1``; we use the
    minimiser itself.) Checked in the tests against an independent statsmodels OLS of
    the same regression.
    """
    x = as_float_series(ordered_series(y))
    m = check_int(m, "m", minimum=2)
    max_lag = check_int(max_lag, "max_lag", minimum=0)
    if lag_method not in ("fixed", "aic", "bic", "aicc"):
        raise ValueError(f"lag_method must be 'fixed', 'aic', 'bic' or 'aicc', got {lag_method!r}.")
    if x.size < 2 * m + max_lag + 4:
        raise ValueError(
            f"the OCSB test needs at least {2 * m + max_lag + 4} observations for m={m} "
            f"and max_lag={max_lag}; got {x.size}."
        )
    lags = max_lag
    if max_lag > 0 and lag_method != "fixed":
        best = math.inf
        for candidate in range(1, max_lag + 1):
            try:
                coef, _, loglik, nobs = _ocsb_regression(x, m, candidate, max_lag)
            except np.linalg.LinAlgError:
                continue
            k = coef.size + 1
            ic = {
                "aic": -2 * loglik + 2 * k,
                "bic": -2 * loglik + k * math.log(nobs),
                "aicc": -2 * loglik + 2 * k + 2 * k * (k + 1) / max(nobs - k - 1, 1),
            }[lag_method]
            if ic < best:
                best, lags = ic, candidate
    try:
        _, tvalues, _, _ = _ocsb_regression(x, m, lags, max_lag)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"the OCSB regression is singular for this series (m={m}, lags={lags}); "
            "use test='seas' or a longer series."
        ) from None
    return OCSBResult(float(tvalues[-1]), ocsb_critical_value(m), lags, m)


# ----------------------------------------------------------------- ndiffs/nsdiffs
def _is_constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))


def kpss_lags(n: int) -> int:
    """Lag truncation forecast's ``ndiffs`` passes to the KPSS test: floor(3 sqrt(n)/13)."""
    return math.floor(3.0 * math.sqrt(n) / 13.0)


def ndiffs(y, alpha: float = 0.05, test: str = "kpss", max_d: int = 2) -> int:
    """Number of first differences that make ``y`` stationary (Hyndman & Khandakar 2008).

    Repeats the KPSS level-stationarity test (``seqlab.ts.kpss_test``, regression "c",
    lags :func:`kpss_lags`) and differences while it rejects at ``alpha`` (p < alpha),
    up to ``max_d``, as R's ``forecast::ndiffs(test="kpss")``. A constant series needs 0.
    ``alpha`` is clipped to [0.01, 0.1], the range the KPSS table covers. NaN are dropped.
    Checked against the same sequence computed with statsmodels' ``kpss`` in the tests.
    """
    from seqlab.ts.stationarity import kpss_test

    if test != "kpss":
        raise ValueError(f"test must be 'kpss' (the only unit-root test used here), got {test!r}.")
    max_d = check_int(max_d, "max_d", minimum=0)
    x = as_float_series(ordered_series(y), allow_nan=True)
    x = x[~np.isnan(x)]
    alpha = float(min(max(alpha, 0.01), 0.1))
    d = 0
    while d < max_d and x.size > 2 and not _is_constant(x):
        result = kpss_test(x, regression="c", nlags=kpss_lags(x.size))
        if not result.pvalue < alpha:
            break
        d += 1
        x = np.diff(x)
    return d


def nsdiffs(y, m: int, test: str = "seas", max_D: int = 1) -> int:
    """Number of seasonal differences (lag ``m``) ``y`` needs, as R's ``forecast::nsdiffs``.

    ``test="seas"``: difference while :func:`seasonal_strength` > 0.64; ``test="ocsb"``:
    while :func:`ocsb_test` does not reject a seasonal unit root at 5%. Series shorter
    than two periods (or constant ones) need 0. NaN are dropped.
    """
    m = check_int(m, "m", minimum=1)
    max_D = check_int(max_D, "max_D", minimum=0)
    if test not in ("seas", "ocsb"):
        raise ValueError(f"test must be 'seas' or 'ocsb', got {test!r}.")
    x = as_float_series(ordered_series(y), allow_nan=True)
    x = x[~np.isnan(x)]
    if m == 1:
        raise ValueError("nsdiffs needs a seasonal period m >= 2; m=1 is non-seasonal data.")
    D = 0
    while D < max_D and x.size >= 2 * m and not _is_constant(x):
        if not _seasonal_unit_root(x, m, test):
            break
        D += 1
        x = _difference_array(x, D=1, m=m)
    return D


def _seasonal_unit_root(x: np.ndarray, m: int, test: str) -> bool:
    try:
        if test == "seas":
            return seasonal_strength(x, m) > SEASONAL_STRENGTH_THRESHOLD
        return ocsb_test(x, m).needs_differencing
    except (ValueError, np.linalg.LinAlgError) as exc:
        # R's nsdiffs: a failing test means no (further) seasonal difference, with a warning.
        logger.warning("seasonal test %r failed (%s); no seasonal difference taken", test, exc)
        return False

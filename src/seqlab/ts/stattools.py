"""Autocorrelation, partial autocorrelation and the Ljung-Box portmanteau test.

Conventions follow R's ``acf``/``pacf``/``Box.test`` and statsmodels (``acf``,
``pacf(method="ldb")``, ``acorr_ljungbox``), which agree with each other:

- sample autocovariances use the mean-corrected series and divide by ``n`` (not
  ``n - k``), which keeps the autocorrelation sequence positive definite;
- the partial autocorrelations come from those autocorrelations by the Durbin-Levinson
  recursion;
- the Ljung-Box statistic is ``Q(h) = n (n + 2) sum_{k<=h} r_k^2 / (n - k)``.

``tests/ts/test_stattools.py`` compares all three with statsmodels on real series.

Example
-------
>>> import numpy as np
>>> from seqlab.datasets import airline
>>> from seqlab.ts import acf, ljung_box
>>> r = acf(np.diff(np.log(airline())), nlags=12)
>>> round(float(r[12]), 3)
0.841
>>> lb = ljung_box(np.diff(np.log(airline())), lags=12)
>>> bool(lb.pvalue[-1] < 1e-10)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from seqlab._validation import as_float_series, check_alpha, check_int, ordered_series

__all__ = ["LjungBoxResult", "acf", "acovf", "ljung_box", "pacf"]


def _nonconstant(y: Any, name: str) -> np.ndarray:
    x = as_float_series(ordered_series(y, name), name)
    if x.size < 2:
        raise ValueError(f"{name} has {x.size} value; autocorrelations need at least 2.")
    if x.max() == x.min():
        raise ValueError(f"{name} is constant; its autocorrelations are undefined (zero variance).")
    return x


def acovf(y: Any, nlags: int) -> np.ndarray:
    """Sample autocovariances ``c_k = (1/n) sum_t (y_t - ybar)(y_{t+k} - ybar)``, k = 0..nlags.

    Divisor ``n`` at every lag (Brockwell & Davis 1991, eq. 7.2.1); direct sums, so it
    costs ``O(n nlags)``. Equal to statsmodels' ``acovf(y, adjusted=False, fft=False)``.
    """
    x = as_float_series(y, "y")
    nlags = check_int(nlags, "nlags", minimum=0)
    n = x.size
    if nlags > n - 1:
        raise ValueError(f"nlags={nlags} must be at most n - 1 = {n - 1}.")
    centred = x - x.mean()
    return np.array([centred[k:] @ centred[: n - k] for k in range(nlags + 1)]) / n


def acf(
    y: Any, nlags: int | None = None, alpha: float | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sample autocorrelations ``r_k = c_k / c_0`` for k = 0..nlags (``r_0 = 1``).

    Default ``nlags = min(floor(10 log10 n), n - 1)``, as statsmodels and R.

    With ``alpha`` also returns ``confint`` of shape ``(nlags + 1, 2)``: the interval
    ``r_k -+ z_{1-alpha/2} se_k`` with Bartlett's formula
    ``se_k^2 = (1 + 2 sum_{j<k} r_j^2) / n`` (Bartlett 1946; the band for testing
    ``r_k = 0`` under an MA(k-1) null; ``se_1^2 = 1/n``, ``se_0 = 0``), as statsmodels'
    ``acf(..., alpha=alpha)``. So ``acf(y, 20)`` is an array and ``r, ci = acf(y, 20,
    alpha=0.05)`` a pair, as in statsmodels.
    """
    x = _nonconstant(y, "y")
    n = x.size
    if nlags is None:
        nlags = min(int(10 * np.log10(n)), n - 1)
    nlags = check_int(nlags, "nlags", minimum=0)
    if nlags > n - 1:
        raise ValueError(f"nlags={nlags} must be at most n - 1 = {n - 1} for y of length {n}.")
    alpha = check_alpha(alpha, allow_none=True)
    cov = acovf(x, nlags)
    values = cov / cov[0]
    if alpha is None:
        return values
    var = np.empty_like(values)
    var[0] = 0.0
    var[1:] = (1.0 + 2.0 * np.concatenate(([0.0], np.cumsum(values[1:-1] ** 2)))[:nlags]) / n
    half = stats.norm.ppf(1.0 - alpha / 2.0) * np.sqrt(var)
    return values, np.column_stack([values - half, values + half])


def durbin_levinson(autocov: np.ndarray) -> np.ndarray:
    """Partial autocorrelations from autocovariances ``c_0..c_K`` by Durbin-Levinson.

    ``phi_kk = (c_k - sum_{j<k} phi_{k-1,j} c_{k-j}) / v_{k-1}``,
    ``phi_kj = phi_{k-1,j} - phi_kk phi_{k-1,k-j}``, ``v_k = v_{k-1} (1 - phi_kk^2)``
    (Durbin 1960; Brockwell & Davis 1991, Prop. 5.2.1). Returns ``[1, phi_11, ..., phi_KK]``.
    """
    order = autocov.size - 1
    out = np.ones(order + 1)
    if order == 0:
        return out
    phi = np.zeros(order + 1)
    phi[1] = autocov[1] / autocov[0]
    out[1] = phi[1]
    var = autocov[0] * (1.0 - phi[1] ** 2)
    for k in range(2, order + 1):
        kk = (autocov[k] - phi[1:k] @ autocov[k - 1 : 0 : -1]) / var
        phi[1:k] = phi[1:k] - kk * phi[k - 1 : 0 : -1]
        phi[k] = kk
        out[k] = kk
        var *= 1.0 - kk**2
    return out


def pacf(
    y: Any, nlags: int | None = None, alpha: float | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sample partial autocorrelations for k = 0..nlags (``[0] = 1``), by Durbin-Levinson.

    The recursion (:func:`durbin_levinson`) runs on the autocovariances of :func:`acovf`
    (divisor n), which is R's ``pacf`` and statsmodels' ``pacf(method="ldb")``. Default
    ``nlags = min(floor(10 log10 n), n // 2 - 1)``; at most ``n // 2`` (as statsmodels).

    With ``alpha`` also returns ``confint`` ``(nlags + 1, 2)``: ``pacf -+ z_{1-alpha/2} /
    sqrt(n)`` (Quenouille 1949: the large-sample sd of a partial autocorrelation beyond
    the true AR order), with the lag-0 interval ``[1, 1]``.
    """
    x = _nonconstant(y, "y")
    n = x.size
    if nlags is None:
        nlags = min(int(10 * np.log10(n)), n // 2 - 1)
        nlags = max(nlags, 1)
    nlags = check_int(nlags, "nlags", minimum=0)
    if nlags > n // 2:
        raise ValueError(
            f"nlags={nlags} is too large for {n} observations; partial autocorrelations "
            f"are only computed up to n // 2 = {n // 2}."
        )
    alpha = check_alpha(alpha, allow_none=True)
    values = durbin_levinson(acovf(x, nlags))
    if alpha is None:
        return values
    half = stats.norm.ppf(1.0 - alpha / 2.0) / np.sqrt(n)
    confint = np.column_stack([values - half, values + half])
    confint[0] = values[0]
    return values, confint


@dataclass(frozen=True)
class LjungBoxResult:
    """Ljung-Box statistics and p-values, one per lag in ``lags``.

    ``pvalue`` is NaN where ``lag - fitdf <= 0`` (no degrees of freedom left).
    ``to_frame()`` gives the table statsmodels' ``acorr_ljungbox`` returns.
    """

    lags: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    fitdf: int
    nobs: int

    def to_frame(self) -> pd.DataFrame:
        """DataFrame with columns ``lb_stat``, ``lb_pvalue`` indexed by lag."""
        return pd.DataFrame(
            {"lb_stat": self.statistic, "lb_pvalue": self.pvalue},
            index=pd.Index(self.lags, name="lag"),
        )


def ljung_box(resid: Any, lags: Any = None, fitdf: int = 0) -> LjungBoxResult:
    """Ljung-Box test that the first h autocorrelations of ``resid`` are all zero.

    ``Q(h) = n (n + 2) sum_{k=1..h} r_k^2 / (n - k)`` (Ljung & Box 1978) with ``r_k``
    from :func:`acf`; under the null ``Q(h) ~ chi^2(h - fitdf)``, ``fitdf`` being the
    number of estimated ARMA parameters (p + q) when ``resid`` are model residuals.

    ``lags``: an int h (tests every lag 1..h), a sequence of lags, or None for
    ``1..min(10, n // 5)`` (statsmodels' default). Equal to R's ``Box.test(type =
    "Ljung-Box", fitdf = fitdf)`` and statsmodels' ``acorr_ljungbox(resid, lags,
    model_df=fitdf)``.
    """
    x = _nonconstant(resid, "resid")
    n = x.size
    fitdf = check_int(fitdf, "fitdf", minimum=0)
    if lags is None:
        top = min(10, n // 5)
        if top < 1:
            raise ValueError(f"resid has {n} values; pass lags explicitly (1 <= lags < n).")
        lag_array = np.arange(1, top + 1)
    elif isinstance(lags, (int, np.integer)) and not isinstance(lags, bool):
        h = check_int(lags, "lags", minimum=1)
        if h >= n:
            raise ValueError(f"lags={h} must be smaller than len(resid) = {n}.")
        lag_array = np.arange(1, h + 1)
    else:
        try:
            lag_array = np.asarray([check_int(lag, "each lag", minimum=1) for lag in lags])
        except TypeError:
            raise TypeError(
                f"lags must be an int, a sequence of ints or None, got {lags!r}."
            ) from None
        if lag_array.size == 0:
            raise ValueError("lags is empty; give at least one lag.")
    top = int(lag_array.max())
    if top >= n:
        raise ValueError(f"the largest lag ({top}) must be smaller than len(resid) = {n}.")
    r = acf(x, nlags=top)
    terms = r[1:] ** 2 / (n - np.arange(1, top + 1))
    statistic = n * (n + 2) * np.cumsum(terms)[lag_array - 1]
    dof = lag_array - fitdf
    pvalue = np.full(statistic.shape, np.nan)
    ok = dof > 0
    pvalue[ok] = stats.chi2.sf(statistic[ok], dof[ok])
    return LjungBoxResult(lags=lag_array, statistic=statistic, pvalue=pvalue, fitdf=fitdf, nobs=n)

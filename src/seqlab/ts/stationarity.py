"""Is this series stationary? Unit-root (ADF) and stationarity (KPSS) tests, in plain words.

The two tests ask opposite questions, which is why :func:`check_stationarity` runs both:

- ADF (augmented Dickey-Fuller): the null hypothesis is a *unit root* (the series wanders
  like a random walk). A small p-value rejects it, which is evidence *for* stationarity.
- KPSS (Kwiatkowski-Phillips-Schmidt-Shin): the null hypothesis is *stationarity* (around
  a constant level, or around a linear trend). A small p-value is evidence *against*
  stationarity.

Both are checked against statsmodels (``adfuller``, ``kpss``) on real series in
``tests/ts/test_stationarity.py``: statistics within 1e-6, p-values within 1e-3 (in
practice they agree to rounding), and the same lag choices.

Example
-------
>>> from seqlab.datasets import nile
>>> from seqlab.ts import adf_test, check_stationarity
>>> res = adf_test(nile())
>>> round(res.statistic, 3), res.lags
(-4.049, 1)
>>> print(check_stationarity(nile()).verdict)
inconclusive
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from seqlab._validation import (
    as_float_series,
    check_alpha,
    check_choice,
    check_int,
    ordered_series,
)
from seqlab.ts import _mackinnon

__all__ = [
    "ADFResult",
    "KPSSResult",
    "StationarityReport",
    "adf_test",
    "check_stationarity",
    "kpss_test",
    "rolling_stats",
]

_ADF_WORDS = {"n": "no constant", "c": "constant", "ct": "constant and trend"}
_KPSS_WORDS = {"c": "level", "ct": "trend"}


def _series(y: Any) -> np.ndarray:
    x = as_float_series(ordered_series(y, "y"), "y")
    if x.max() == x.min():
        raise ValueError(
            f"y is constant (every value is {float(x[0])!r}); a unit-root or stationarity test "
            "needs a series that varies."
        )
    return x


def _triangular(exog: np.ndarray, endog: np.ndarray) -> np.ndarray:
    """R factor of the QR decomposition of ``[exog, endog]``, checking exog has full rank.

    With ``R`` of ``[X, y]`` (k regressors), for every prefix of j columns of X the
    residual sum of squares is ``sum(R[j:k, k]^2) + R[k, k]^2`` (no cancellation), and
    the t-ratio of the last regressor is ``sign(R[k-1, k-1]) R[k-1, k] / s`` with
    ``s^2 = R[k, k]^2 / (n - k)``. One factorisation serves a whole lag search.

    Raises ValueError when a regressor lies (numerically) in the span of the earlier
    ones: statsmodels would silently use a pseudo-inverse, but a singular test
    regression means the series is an exact deterministic pattern the test cannot judge.
    """
    r = np.linalg.qr(np.column_stack([exog, endog]), mode="r")
    k = exog.shape[1]
    norms = np.sqrt(np.sum(exog**2, axis=0))
    # |R_jj| / ||x_j|| is the sine of the angle between column j and the earlier ones.
    if np.any(np.abs(np.diag(r)[:k]) <= 1e-9 * norms):
        raise ValueError(
            "the test regression is singular: the series (or its differences) is an exact "
            "deterministic pattern, which these tests cannot judge."
        )
    if abs(r[k, k]) <= 1e-12 * np.sqrt(endog @ endog):
        raise ValueError(
            "the test regression fits the series exactly (zero residual variance): it is "
            "an exact deterministic pattern, which these tests cannot judge."
        )
    return r


def _deterministic(nobs: int, regression: str) -> np.ndarray:
    columns = []
    if regression in ("c", "ct"):
        columns.append(np.ones(nobs))
    if regression == "ct":
        columns.append(np.arange(1.0, nobs + 1.0))
    return np.column_stack(columns) if columns else np.empty((nobs, 0))


def mackinnon_pvalue(statistic: float, regression: str) -> float:
    """MacKinnon (1994) asymptotic p-value of a Dickey-Fuller tau statistic (N = 1).

    Equal to statsmodels' ``mackinnonp(statistic, regression, N=1)``; the coefficients
    and their sources are in :mod:`seqlab.ts._mackinnon`.
    """
    if statistic > _mackinnon.TAU_MAX[regression]:
        return 1.0
    if statistic < _mackinnon.TAU_MIN[regression]:
        return 0.0
    if statistic <= _mackinnon.TAU_STAR[regression]:
        coefs = _mackinnon.SMALL_P[regression]
    else:
        coefs = _mackinnon.LARGE_P[regression]
    return float(stats.norm.cdf(np.polynomial.polynomial.polyval(statistic, coefs)))


def mackinnon_critical_values(regression: str, nobs: float = math.inf) -> dict[str, float]:
    """MacKinnon (2010) critical values at 1 %, 5 %, 10 % for a regression with ``nobs`` rows.

    ``nobs=inf`` gives the asymptotic values. Equal to statsmodels' ``mackinnoncrit``.
    """
    out = {}
    for level, (tau_inf, b1, b2, b3) in _mackinnon.CRITICAL[regression].items():
        if math.isinf(nobs):
            out[level] = tau_inf
        else:
            inv = 1.0 / nobs
            out[level] = float(np.polynomial.polynomial.polyval(inv, (tau_inf, b1, b2, b3)))
    return out


@dataclass(frozen=True)
class ADFResult:
    """Augmented Dickey-Fuller test result.

    ``statistic`` is the t-ratio on the lagged level; ``pvalue`` MacKinnon's (1994)
    approximation; ``lags`` the number of lagged differences used; ``nobs`` the rows of
    the test regression; ``critical_values`` MacKinnon (2010) at 1 %, 5 %, 10 %;
    ``icbest`` the minimised information criterion (None with a fixed lag).
    """

    statistic: float
    pvalue: float
    lags: int
    nobs: int
    critical_values: dict[str, float]
    regression: str
    maxlag: int
    autolag: str | None
    icbest: float | None
    alpha: float = 0.05

    @property
    def rejects_unit_root(self) -> bool:
        """True when the p-value is below ``alpha``: evidence against a unit root."""
        return self.pvalue < self.alpha

    @property
    def conclusion(self) -> str:
        """One sentence saying what the test found, with its numbers."""
        head = (
            f"ADF ({_ADF_WORDS[self.regression]}, {self.lags} lag"
            f"{'' if self.lags == 1 else 's'}): statistic {self.statistic:.3f}, "
            f"p = {self.pvalue:.3f}"
        )
        if self.rejects_unit_root:
            return (
                f"{head}, below {self.alpha:g}: the unit root is rejected; the series looks "
                "stationary" + (" around a linear trend." if self.regression == "ct" else ".")
            )
        return (
            f"{head}, not below {self.alpha:g}: a unit root cannot be rejected; the series may "
            "wander like a random walk."
        )

    def __str__(self) -> str:
        return self.conclusion


def adf_test(
    y: Any,
    regression: str = "c",
    maxlag: int | None = None,
    autolag: str | None = "AIC",
    *,
    alpha: float = 0.05,
) -> ADFResult:
    """Augmented Dickey-Fuller unit-root test (Said & Dickey 1984), as statsmodels' adfuller.

    Regresses ``dy_t`` on ``y_{t-1}``, ``dy_{t-1..t-p}`` and the deterministic terms of
    ``regression`` ("n": none, "c": constant, "ct": constant and linear trend); the
    statistic is the t-ratio on ``y_{t-1}``. With ``autolag`` "AIC" or "BIC", every
    ``p`` in ``0..maxlag`` is fitted on the same sample (the last ``n - 1 - maxlag``
    differences) and the smallest criterion wins (ties to the smaller lag); the chosen
    regression is then refitted on all the rows it can use. ``autolag=None`` uses
    ``p = maxlag``. Default ``maxlag = ceil(12 (n/100)^(1/4))`` (Schwert 1989), capped
    at ``n//2 - ntrend - 1`` and, for "n", so that one residual degree of freedom is left
    (statsmodels would fit an exact regression there).

    p-value: MacKinnon (1994); critical values: MacKinnon (2010) for ``nobs`` rows.
    Checked against ``statsmodels.tsa.stattools.adfuller`` in the tests.

    y : 1-D numbers (list, ndarray, Series) without NaN or inf; not constant.
    """
    x = _series(y)
    regression = check_choice(regression, "regression", ("c", "ct", "n"), ignore_case=True)
    if autolag is not None:
        autolag = check_choice(autolag, "autolag", ("aic", "bic"), ignore_case=True).upper()
    alpha = check_alpha(alpha)
    n = x.size
    ntrend = len(regression) if regression != "n" else 0
    # Leave at least one residual degree of freedom in the largest regression.
    cap = min(n // 2 - ntrend - 1, (n - 3 - ntrend) // 2)
    if cap < 0:
        raise ValueError(
            f"y has {n} observations; the ADF test with regression={regression!r} needs at "
            f"least {2 * ntrend + 3 if regression == 'n' else 2 * (ntrend + 1)}."
        )
    if maxlag is None:
        maxlag = min(math.ceil(12.0 * (n / 100.0) ** 0.25), cap)
    else:
        maxlag = check_int(maxlag, "maxlag", minimum=0)
        if maxlag > cap:
            raise ValueError(
                f"maxlag={maxlag} is too large for {n} observations with "
                f"regression={regression!r}; use at most {cap}."
            )

    dx = np.diff(x)

    def design(lags: int, start: int, level_last: bool) -> tuple[np.ndarray, np.ndarray]:
        # Rows t = start..n-2 of dx: dx[t] on the deterministic terms, x[t] (the lagged
        # level) and dx[t-1..t-lags]; the level goes last when its t-ratio is wanted.
        rows = dx.size - start
        level = x[start : start + rows]
        lagged = [dx[start - j : start - j + rows] for j in range(1, lags + 1)]
        det = _deterministic(rows, regression)
        cols = [*lagged, level] if level_last else [level, *lagged]
        return dx[start:], np.column_stack([det, *cols])

    icbest = None
    used = maxlag
    if autolag is not None:
        # Every candidate (lags 0..maxlag) is a prefix of the maxlag design, fitted on
        # the same rows, so one factorisation gives all their residual sums of squares.
        endog, exog = design(maxlag, maxlag, level_last=False)
        r = _triangular(exog, endog)
        rows, total = exog.shape
        tail = r[:total, total] ** 2
        best = None
        for lags in range(maxlag + 1):
            k = ntrend + 1 + lags
            ssr = float(np.sum(tail[k:]) + r[total, total] ** 2)
            minus2llf = rows * (math.log(2 * math.pi) + math.log(ssr / rows) + 1.0)
            penalty = 2.0 * k if autolag == "AIC" else math.log(rows) * k
            crit = minus2llf + penalty
            if best is None or crit < best[0]:
                best = (crit, lags)
        icbest, used = best
    endog, exog = design(used, used, level_last=True)
    r = _triangular(exog, endog)
    nobs, k = exog.shape
    scale = abs(r[k, k]) / math.sqrt(nobs - k)
    statistic = float(math.copysign(1.0, r[k - 1, k - 1]) * r[k - 1, k] / scale)
    return ADFResult(
        statistic=statistic,
        pvalue=mackinnon_pvalue(statistic, regression),
        lags=used,
        nobs=nobs,
        critical_values=mackinnon_critical_values(regression, nobs),
        regression=regression,
        maxlag=maxlag,
        autolag=autolag,
        icbest=icbest,
        alpha=alpha,
    )


@dataclass(frozen=True)
class KPSSResult:
    """KPSS stationarity test result.

    ``pvalue`` is interpolated in the KPSS (1992) table, so it lies in [0.01, 0.10];
    ``pvalue_bound`` is "smaller" when the true p-value is below the reported 0.01,
    "greater" when it is above the reported 0.10, and None inside the table.
    ``critical_values`` are keyed "10%", "5%", "2.5%", "1%"; ``lags`` is the Bartlett
    bandwidth of the long-run variance; ``nobs`` the length of the series.
    """

    statistic: float
    pvalue: float
    lags: int
    nobs: int
    critical_values: dict[str, float]
    regression: str
    pvalue_bound: str | None
    alpha: float = 0.05

    @property
    def rejects_stationarity(self) -> bool:
        """True when the p-value is below ``alpha``: evidence against stationarity."""
        return self.pvalue < self.alpha

    @property
    def conclusion(self) -> str:
        """One sentence saying what the test found, with its numbers."""
        if self.pvalue_bound == "smaller":
            ptext = f"p < {self.pvalue:.2f}"
        elif self.pvalue_bound == "greater":
            ptext = f"p > {self.pvalue:.2f}"
        else:
            ptext = f"p = {self.pvalue:.3f}"
        kind = _KPSS_WORDS[self.regression]
        head = (
            f"KPSS ({kind}, {self.lags} lag{'' if self.lags == 1 else 's'}): "
            f"statistic {self.statistic:.3f}, {ptext}"
        )
        around = "a constant level" if kind == "level" else "a linear trend"
        if self.rejects_stationarity:
            return f"{head}, below {self.alpha:g}: stationarity around {around} is rejected."
        return f"{head}, not below {self.alpha:g}: stationarity around {around} cannot be rejected."

    def __str__(self) -> str:
        return self.conclusion


def _kpss_auto_lags(resid: np.ndarray) -> int:
    """Bandwidth of Hobijn, Franses & Ooms (1998), as statsmodels' ``nlags="auto"``.

    Newey & West (1994) with the Bartlett kernel: a pilot of ``floor(n^(2/9))``
    autocovariances gives ``s = s1/s0`` and the bandwidth
    ``floor(1.1447 (s^2)^(1/3) n^(1/3))``. Where the pilot's long-run variance ``s0`` is
    exactly zero the bandwidth is unbounded, and ``n - 1``, the largest lag, is returned.
    """
    n = resid.size
    pilot = int(n ** (2.0 / 9.0))
    s0 = float(resid @ resid) / n
    s1 = 0.0
    for i in range(1, pilot + 1):
        cov = float(resid[i:] @ resid[: n - i]) / (n / 2.0)
        s0 += cov
        s1 += i * cov
    if s0 == 0.0:
        return n - 1
    ratio = s1 / s0
    return int(1.1447 * (ratio * ratio) ** (1.0 / 3.0) * n ** (1.0 / 3.0))


def kpss_test(
    y: Any, regression: str = "c", nlags: str | int = "auto", *, alpha: float = 0.05
) -> KPSSResult:
    """KPSS test of stationarity (Kwiatkowski, Phillips, Schmidt & Shin 1992).

    ``regression="c"`` tests stationarity around a level (residuals ``y - mean``),
    ``"ct"`` around a linear trend (residuals of OLS on ``1, t``). The statistic is
    ``sum(S_t^2) / (n^2 s^2)`` (KPSS eq. 11) with ``S_t`` the partial sums of the
    residuals and ``s^2`` the Bartlett-weighted long-run variance with ``nlags`` lags
    (eq. 10). ``nlags``: "auto" (Hobijn et al. 1998, statsmodels' default), "legacy"
    (``ceil(12 (n/100)^(1/4))``, Schwert 1989) or an integer ``0 <= nlags < n``.

    The p-value is interpolated linearly in KPSS Table 1 and clipped to [0.01, 0.10],
    as statsmodels' ``kpss`` and R's ``tseries::kpss.test`` do (``pvalue_bound`` says when
    it was clipped). Checked against ``statsmodels.tsa.stattools.kpss`` in the tests.
    """
    x = _series(y)
    regression = check_choice(regression, "regression", ("c", "ct"), ignore_case=True)
    alpha = check_alpha(alpha)
    n = x.size
    minimum = 3 if regression == "c" else 4
    if n < minimum:
        raise ValueError(
            f"y has {n} observations; the KPSS test with regression={regression!r} "
            f"needs at least {minimum}."
        )
    if regression == "ct":
        # Residuals of OLS on (1, t), in closed form.
        t = np.arange(1.0, n + 1.0) - (n + 1.0) / 2.0
        centred = x - x.mean()
        resid = centred - (t @ centred) / (t @ t) * t
        if np.sqrt(resid @ resid) <= 1e-12 * np.sqrt(centred @ centred):
            raise ValueError(
                "y is an exact straight line; there is nothing left to test around the trend."
            )
    else:
        resid = x - x.mean()

    if isinstance(nlags, str):
        choice = check_choice(nlags, "nlags", ("auto", "legacy"), ignore_case=True)
        if choice == "auto":
            lags = min(_kpss_auto_lags(resid), n - 1)
        else:
            lags = min(math.ceil(12.0 * (n / 100.0) ** 0.25), n - 1)
    else:
        lags = check_int(nlags, "nlags", minimum=0)
        if lags >= n:
            raise ValueError(f"nlags={lags} must be smaller than the {n} observations.")

    eta = float(np.sum(np.cumsum(resid) ** 2)) / n**2
    long_run = float(resid @ resid)
    for i in range(1, lags + 1):
        long_run += 2.0 * float(resid[i:] @ resid[: n - i]) * (1.0 - i / (lags + 1.0))
    long_run /= n
    statistic = eta / long_run

    crit = _mackinnon.KPSS_CRITICAL[regression]
    levels = _mackinnon.KPSS_LEVELS
    pvalue = float(np.interp(statistic, crit, levels))
    bound = None
    if statistic > crit[-1]:
        bound = "smaller"
    elif statistic < crit[0]:
        bound = "greater"
    return KPSSResult(
        statistic=float(statistic),
        pvalue=pvalue,
        lags=lags,
        nobs=n,
        critical_values={"10%": crit[0], "5%": crit[1], "2.5%": crit[2], "1%": crit[3]},
        regression=regression,
        pvalue_bound=bound,
        alpha=alpha,
    )


def rolling_stats(y: Any, window: int) -> pd.DataFrame:
    """Trailing rolling mean and standard deviation (``ddof=1``) over ``window`` values.

    Returns a DataFrame with columns ``mean`` and ``sd``, indexed like ``y`` when ``y``
    is a pandas Series (else 0..n-1); the first ``window - 1`` rows are NaN, and so is
    any window holding a NaN. A stationary series has a roughly flat mean and sd.
    """
    y = ordered_series(y, "y")
    x = as_float_series(y, "y", allow_nan=True)
    window = check_int(window, "window", minimum=2)
    if window > x.size:
        raise ValueError(f"window={window} is longer than y ({x.size} values).")
    index = y.index if isinstance(y, (pd.Series, pd.DataFrame)) else None
    series = pd.Series(x, index=index)
    rolling = series.rolling(window)
    frame = pd.DataFrame({"mean": rolling.mean(), "sd": rolling.std(ddof=1)})
    if isinstance(y, pd.Series):
        frame.index.name = y.index.name
    return frame


@dataclass(frozen=True)
class StationarityReport:
    """What :func:`check_stationarity` found. ``str(report)`` is the plain-words report.

    ``verdict`` is one of "stationary", "trend-stationary", "difference-stationary",
    "inconclusive"; ``reasons`` the sentences behind it; ``advice`` what to do next;
    ``rolling`` the rolling mean and sd over ``window`` values (a DataFrame).
    """

    verdict: str
    reasons: tuple[str, ...]
    advice: str
    adf_level: ADFResult
    kpss_level: KPSSResult
    adf_trend: ADFResult
    kpss_trend: KPSSResult
    nobs: int
    alpha: float
    window: int
    rolling: pd.DataFrame = field(repr=False)
    name: str | None = field(default=None)

    def __str__(self) -> str:
        title = f"Stationarity check of {self.name}" if self.name else "Stationarity check"
        lines = [f"{title} ({self.nobs} observations, significance level {self.alpha:g})"]
        lines.append("")
        for result in (self.adf_level, self.kpss_level, self.adf_trend, self.kpss_trend):
            lines.append(f"  {result.conclusion}")
        first, last = self.rolling.iloc[self.window - 1], self.rolling.iloc[-1]
        lines.append(
            f"  Rolling mean over {self.window} values: {first['mean']:.4g} in the first "
            f"window, {last['mean']:.4g} in the last; rolling sd: {first['sd']:.4g} first, "
            f"{last['sd']:.4g} last."
        )
        lines.append("")
        lines.append(f"Verdict: {self.verdict}.")
        lines += [f"  {reason}" for reason in self.reasons]
        lines.append(f"Advice: {self.advice}")
        return "\n".join(lines)


def default_window(y: Any, n: int) -> int:
    """Rolling window for a first look: the season length (12 monthly, 4 quarterly, from a
    pandas index), else a tenth of the series (at least 2)."""
    from seqlab.ts.transforms import season_length

    m = season_length(y)
    return m if 1 < m <= n else max(2, n // 10)


def check_stationarity(
    y: Any, alpha: float = 0.05, window: int | None = None
) -> StationarityReport:
    """Run ADF and KPSS, each around a level and around a trend, and say what they mean.

    The tests have opposite nulls (ADF: unit root; KPSS: stationary), so a clear answer
    needs them to agree. The decision, at level ``alpha``:

    1. Around a level: ADF rejects the unit root and KPSS does not reject stationarity ->
       "stationary".
    2. Both level tests fail to reject their nulls -> "inconclusive" (the data cannot
       tell; typical of short or noisy series).
    3. KPSS rejects level stationarity: look at the trend versions.
       ADF-ct rejects and KPSS-ct does not -> "trend-stationary" (a deterministic trend
       plus stationary noise: remove the trend; differencing would over-difference).
       ADF-ct does not reject and KPSS-ct does -> "difference-stationary" (a unit root:
       difference once and check again). Neither rejects, with the level ADF not
       rejecting either -> "difference-stationary" (both level tests agree on a unit
       root; the trend tests cannot separate the two kinds, and a difference is the
       safe choice). Otherwise -> "inconclusive".

    The four tests use the defaults of :func:`adf_test` (AIC lag choice) and
    :func:`kpss_test` (automatic bandwidth). The report also describes the rolling mean
    and sd (:func:`rolling_stats`, ``window`` by default from :func:`default_window`) in
    the first and last windows; they illustrate, and do not enter the verdict.
    """
    alpha = check_alpha(alpha)
    y = ordered_series(y, "y")
    x = _series(y)
    name = getattr(y, "name", None)
    window = default_window(y, x.size) if window is None else window
    adf_c = adf_test(x, "c", alpha=alpha)
    kpss_c = kpss_test(x, "c", alpha=alpha)
    adf_ct = adf_test(x, "ct", alpha=alpha)
    kpss_ct = kpss_test(x, "ct", alpha=alpha)
    a_c, k_c = adf_c.rejects_unit_root, kpss_c.rejects_stationarity
    a_t, k_t = adf_ct.rejects_unit_root, kpss_ct.rejects_stationarity

    if a_c and not k_c:
        verdict = "stationary"
        reasons = (
            "Around a constant level both tests agree: ADF rejects a unit root and KPSS "
            "finds no evidence against stationarity.",
        )
        advice = "model the series as it is (no differencing needed)."
    elif not a_c and not k_c:
        verdict = "inconclusive"
        reasons = (
            "Neither level test rejects its null: ADF cannot rule out a unit root and "
            "KPSS cannot rule out stationarity, so the data do not decide between them "
            "(common for short or noisy series).",
        )
        advice = (
            "look at the plot and the rolling mean and sd; if the level drifts, difference "
            "once, otherwise model the series as it is."
        )
    elif a_t and not k_t:
        verdict = "trend-stationary"
        reasons = (
            "KPSS rejects stationarity around a constant level, but around a linear trend "
            "both tests agree the series is stationary: ADF (with trend) rejects a unit "
            "root and KPSS (trend) does not reject trend-stationarity.",
        )
        advice = (
            "remove the linear trend (or fit a model with a trend term); differencing "
            "would over-difference."
        )
    elif not a_t and (k_t or not a_c):
        verdict = "difference-stationary"
        if k_t:
            reasons = (
                "KPSS rejects stationarity around a level and around a trend, and ADF (with "
                "trend) cannot rule out a unit root: the series behaves like a random walk.",
            )
        else:
            reasons = (
                "Around a level, ADF cannot rule out a unit root and KPSS rejects "
                "stationarity, so both point to a unit root; the trend versions cannot "
                "tell a unit root from a trend here.",
            )
        advice = "difference once (d=1) and check the differenced series again."
    else:
        verdict = "inconclusive"
        reasons = (
            "The tests contradict each other: "
            + (
                "ADF rejects a unit root while KPSS rejects stationarity, "
                if a_t and k_t
                else "KPSS rejects level stationarity while ADF rejects a unit root around "
                "a level but not around a trend, "
            )
            + "which happens with structural breaks, outliers, changing variance or long "
            "memory.",
        )
        advice = (
            "look at the plot for breaks or changing variance; a Box-Cox transform or one "
            "difference are the usual remedies."
        )
    return StationarityReport(
        verdict=verdict,
        reasons=reasons,
        advice=advice,
        adf_level=adf_c,
        kpss_level=kpss_c,
        adf_trend=adf_ct,
        kpss_trend=kpss_ct,
        nobs=int(x.size),
        alpha=alpha,
        window=window,
        rolling=rolling_stats(y, window),
        name=None if name is None else str(name),
    )

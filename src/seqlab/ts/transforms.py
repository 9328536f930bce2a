"""Transforms that make a series easier to model, each with an exact inverse.

- :func:`difference` / :func:`undifference`: ordinary and seasonal differencing,
  ``(1 - B)^d (1 - B^m)^D y_t``, and its inverse given the values that precede.
- :func:`boxcox` / :func:`inv_boxcox` / :func:`boxcox_lambda`: the Box-Cox power
  transform (Box & Cox 1964) with lambda chosen by Guerrero (1993) or by the profile
  log-likelihood.

pandas in, pandas out: a Series keeps its index (trimmed by differencing) and name;
lists and arrays give ndarrays.

Example
-------
>>> import numpy as np
>>> from seqlab.datasets import airline
>>> from seqlab.ts import boxcox, inv_boxcox, difference, undifference
>>> y = airline()
>>> z, lam = boxcox(y)                      # Guerrero, period 12 from the monthly index
>>> round(lam, 4)
-0.2947
>>> w = difference(z, d=1, D=1, m=12)       # 144 - 13 = 131 values
>>> back = undifference(w, z.iloc[:13], d=1, D=1, m=12)
>>> bool(np.allclose(inv_boxcox(back, lam), y.iloc[13:]))
True
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, signal, special

from seqlab._validation import as_float_series, check_int, check_period, ordered_series

__all__ = [
    "BoxCoxResult",
    "boxcox",
    "boxcox_lambda",
    "difference",
    "inv_boxcox",
    "undifference",
]

logger = logging.getLogger(__name__)


def _wrap(values: np.ndarray, like: Any, index: Any = None) -> np.ndarray | pd.Series:
    """Return ``values`` as a Series shaped like ``like`` when that is pandas, else as is."""
    if isinstance(like, pd.DataFrame):
        like = like.iloc[:, 0]
    if isinstance(like, pd.Series):
        return pd.Series(values, index=like.index if index is None else index, name=like.name)
    return values


def _orders(d: Any, D: Any, m: Any) -> tuple[int, int, int]:
    d = check_int(d, "d", minimum=0)
    D = check_int(D, "D", minimum=0)
    m = check_period(m)
    if D > 0 and m < 2:
        raise ValueError(f"seasonal differencing (D={D}) needs a season length m >= 2, got m={m}.")
    return d, D, m


def difference_polynomial(d: int = 1, D: int = 0, m: int = 1) -> np.ndarray:
    """Coefficients of ``(1 - B)^d (1 - B^m)^D`` in increasing powers of the backshift B."""
    d, D, m = _orders(d, D, m)
    poly = np.array([1.0])
    for _ in range(d):
        poly = np.convolve(poly, [1.0, -1.0])
    seasonal = np.zeros(m + 1)
    seasonal[0], seasonal[m] = 1.0, -1.0
    for _ in range(D):
        poly = np.convolve(poly, seasonal)
    return poly


def difference(y: Any, d: int = 1, D: int = 0, m: int = 1) -> np.ndarray | pd.Series:
    """Apply ``(1 - B)^d (1 - B^m)^D``: D seasonal differences at lag m, then d ordinary.

    The result is ``d + D*m`` values shorter than ``y`` (the first ones have no
    predecessors); a Series keeps the matching tail of its index. NaN propagates to
    every difference that uses it. Equal to ``np.diff`` applied in turn, and to
    statsmodels' ``tsa.statespace.tools.diff``.

    To invert, keep the first ``d + D*m`` values of ``y`` and call :func:`undifference`.
    """
    d, D, m = _orders(d, D, m)
    y = ordered_series(y, "y")
    x = as_float_series(y, "y", allow_nan=True)
    lost = d + D * m
    if x.size <= lost:
        raise ValueError(
            f"y has {x.size} values; differencing with d={d}, D={D}, m={m} removes {lost}, "
            "leaving nothing."
        )
    x = _difference_array(x, d, D, m)
    if isinstance(y, (pd.Series, pd.DataFrame)):
        return _wrap(x, y, index=y.index[lost:])
    return x


def _difference_array(x: np.ndarray, d: int = 0, D: int = 0, m: int = 1) -> np.ndarray:
    """``(1 - B)^d (1 - B^m)^D x`` for a 1-D float array, ``d + D*m`` values shorter.

    The arithmetic of :func:`difference` without its checks: the caller guarantees
    valid orders and more than ``d + D*m`` values.
    """
    for _ in range(D):
        x = x[m:] - x[:-m]
    for _ in range(d):
        x = x[1:] - x[:-1]
    return x


def undifference(
    z: Any, initial: Any, d: int = 1, D: int = 0, m: int = 1
) -> np.ndarray | pd.Series:
    """Invert :func:`difference`: rebuild levels from differences and the values before them.

    ``initial`` holds the original series up to the point where ``z`` starts; its last
    ``d + D*m`` values are used. Writing ``(1 - B)^d (1 - B^m)^D = 1 + sum_k c_k B^k``,
    the levels follow the recursion ``y_t = z_t - sum_k c_k y_{t-k}`` started from those
    values (``scipy.signal.lfilter`` with ``lfiltic``). Two uses:

    - round trip: ``undifference(difference(y, d, D, m), y[:d + D*m], d, D, m)`` equals
      ``y[d + D*m:]`` (bit for bit on integer data; to rounding otherwise);
    - forecasts: with ``z`` the forecasts of the differenced series and ``initial`` the
      observed series, it gives the forecasts of the levels.

    The result is aligned with ``z`` (same length; a Series keeps ``z``'s index).
    """
    d, D, m = _orders(d, D, m)
    dz = as_float_series(z, "z", allow_nan=True)
    start = as_float_series(initial, "initial", allow_nan=True)
    lost = d + D * m
    if lost == 0:
        return _wrap(dz.copy(), z)
    if start.size < lost:
        raise ValueError(
            f"initial has {start.size} values; undoing d={d}, D={D}, m={m} needs the last "
            f"{lost} values before z starts."
        )
    poly = difference_polynomial(d, D, m)
    past = start[-lost:][::-1]
    state = signal.lfiltic([1.0], poly, past)
    levels, _ = signal.lfilter([1.0], poly, dz, zi=state)
    return _wrap(levels, z)


class BoxCoxResult(NamedTuple):
    """``values``: the transformed series (Series in, Series out); ``lmbda``: the lambda."""

    values: np.ndarray | pd.Series
    lmbda: float


def _positive(y: Any, name: str = "y") -> np.ndarray:
    x = as_float_series(y, name, allow_nan=True)
    bad = np.flatnonzero(x <= 0)
    if bad.size:
        raise ValueError(
            f"{name} must be strictly positive for Box-Cox; position {int(bad[0])} holds "
            f"{float(x[bad[0]])!r} ({bad.size} value(s) <= 0). Shift the series (y + c) or use "
            "a transform defined for zero and negatives."
        )
    return x


def _check_lambda(lmbda: Any) -> float:
    if isinstance(lmbda, bool) or not isinstance(lmbda, (int, float, np.floating, np.integer)):
        raise TypeError(f"lmbda must be a number, got {lmbda!r}.")
    if not math.isfinite(lmbda):
        raise ValueError(f"lmbda must be finite, got {lmbda}.")
    return float(lmbda)


def season_length(y: Any) -> int:
    """Season length implied by a pandas index: 12 for monthly, 4 for quarterly, else 1."""
    index = getattr(y, "index", None)
    freq = getattr(index, "freq", None)
    if freq is None and isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        inferred = pd.infer_freq(index)
        freq = pd.tseries.frequencies.to_offset(inferred) if inferred else None
    if freq is None or getattr(freq, "n", 0) != 1:
        return 1
    offsets = pd.offsets
    monthly = (offsets.MonthBegin, offsets.MonthEnd, offsets.BMonthBegin, offsets.BMonthEnd)
    quarterly = (
        offsets.QuarterBegin,
        offsets.QuarterEnd,
        offsets.BQuarterBegin,
        offsets.BQuarterEnd,
    )
    if isinstance(freq, monthly):
        return 12
    if isinstance(freq, quarterly):
        return 4
    return 1


def _guerrero_cv(lmbda: float, blocks: np.ndarray) -> float:
    """Guerrero's criterion: coefficient of variation of ``sd_h / mean_h^(1 - lambda)``."""
    with warnings.catch_warnings():
        # A block holding one non-NaN value has no sd; R drops it (na.rm), and so do we.
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(blocks, axis=1)
        sds = np.nanstd(blocks, axis=1, ddof=1)
    ratio = sds / means ** (1.0 - lmbda)
    ratio = ratio[np.isfinite(ratio)]
    return float(np.std(ratio, ddof=1) / np.mean(ratio))


def _boxcox_loglik(lmbda: float, logx: np.ndarray) -> float:
    """Profile log-likelihood of lambda for i.i.d. normal transformed data (Box & Cox 1964).

    ``(lambda - 1) sum(log y) - n/2 log(var(y^(lambda)))`` with the ML (ddof=0) variance,
    the same function as ``scipy.stats.boxcox_llf``. Away from 0 the variance of
    ``(y^lambda - 1)/lambda`` is computed as ``var(exp(lambda log y - c)) e^(2c) /
    lambda^2`` with ``c`` the mean of ``lambda log y``, which cannot overflow.
    """
    n = logx.size
    if abs(lmbda) < 1e-2:
        # Near 0 the transformed values are close to log y and cannot overflow, and
        # scipy.special.boxcox keeps full precision there (the scaled form below loses
        # digits to the -2 log|lambda| cancellation).
        log_var = math.log(np.var(special.boxcox(np.exp(logx), lmbda)))
    else:
        scaled = lmbda * logx
        shift = scaled.mean()
        log_var = math.log(np.var(np.exp(scaled - shift))) + 2.0 * shift
        log_var -= 2.0 * math.log(abs(lmbda))
    return float((lmbda - 1.0) * logx.sum() - 0.5 * n * log_var)


def boxcox_lambda(
    y: Any,
    method: str = "guerrero",
    m: int | None = None,
    lower: float = -1.0,
    upper: float = 2.0,
) -> float:
    """Choose the Box-Cox lambda in ``[lower, upper]``.

    ``method="guerrero"`` (Guerrero 1993, as R's ``forecast::BoxCox.lambda``): split the
    last ``floor(n/p) p`` values into consecutive blocks of ``p = max(2, m)`` and pick
    the lambda minimising the coefficient of variation of ``sd_h / mean_h^(1-lambda)``.
    The minimiser is Brent's bounded method at R ``optimize``'s tolerance
    (``eps^(1/4)``), so the result matches R to about 1e-4 (for the airline series,
    -0.2947156 in R; the test also checks the minimum by brute force on a fine grid).
    As in R, a series with ``n <= 2 m`` gets lambda = 1 (with a warning).

    ``method="loglik"``: maximise the profile log-likelihood of i.i.d. normal
    transformed data (:func:`_boxcox_loglik`), as ``scipy.stats.boxcox`` does; the
    tests compare with scipy's lambda and ``boxcox_llf``. (R's ``BoxCox.lambda(method =
    "loglik")`` differs: it profiles a regression on a trend and seasonal dummies, on a
    0.05 grid.)

    ``m``: season length; by default taken from a pandas index (12 monthly, 4
    quarterly), else 1. Data must be strictly positive; NaNs are ignored.
    """
    y = ordered_series(y, "y")
    x = _positive(y)
    if not isinstance(method, str) or method.lower() not in ("guerrero", "loglik"):
        raise ValueError(f"method must be 'guerrero' or 'loglik', got {method!r}.")
    method = method.lower()
    m = season_length(y) if m is None else check_int(m, "m", minimum=1)
    lower, upper = float(lower), float(upper)
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        raise ValueError(f"need finite lower < upper, got lower={lower}, upper={upper}.")
    finite = x[~np.isnan(x)]
    if np.ptp(finite) == 0:
        raise ValueError("y is constant; no Box-Cox lambda can be chosen for it.")
    if method == "loglik":
        logx = np.log(finite)
        if finite.size < 2:
            raise ValueError("the log-likelihood method needs at least 2 values.")
        res = optimize.minimize_scalar(
            lambda lam: -_boxcox_loglik(lam, logx),
            bounds=(lower, upper),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return float(res.x)

    period = max(2, m)
    if x.size <= 2 * m:
        warnings.warn(
            f"y has {x.size} values, not more than 2 seasons of m={m}; using lambda = 1 "
            "(no transform), as R's BoxCox.lambda does.",
            UserWarning,
            stacklevel=2,
        )
        return 1.0
    blocks_n = x.size // period
    blocks = x[x.size - blocks_n * period :].reshape(blocks_n, period)
    if np.sum(np.sum(~np.isnan(blocks), axis=1) >= 2) < 2:
        raise ValueError(
            "Guerrero's method needs at least 2 blocks of 2 or more non-missing values; "
            f"y has {x.size} values in blocks of {period}."
        )
    res = optimize.minimize_scalar(
        _guerrero_cv,
        bounds=(lower, upper),
        args=(blocks,),
        method="bounded",
        options={"xatol": np.finfo(float).eps ** 0.25},
    )
    return float(res.x)


def boxcox(
    y: Any,
    lmbda: float | None = None,
    method: str = "guerrero",
    m: int | None = None,
    lower: float = -1.0,
    upper: float = 2.0,
) -> BoxCoxResult:
    """Box-Cox transform ``(y^lambda - 1) / lambda`` (``log y`` at lambda = 0).

    With ``lmbda=None`` the lambda is chosen by :func:`boxcox_lambda` (``method``, ``m``,
    ``lower``, ``upper``). Always returns ``(values, lmbda)``, so ``z, lam = boxcox(y)``
    works either way; invert with ``inv_boxcox(z, lam)``. Computed with
    ``scipy.special.boxcox`` (accurate for lambda near 0). Data must be strictly positive;
    NaN stays NaN.
    """
    y = ordered_series(y, "y")
    x = _positive(y)
    lam = boxcox_lambda(y, method, m, lower, upper) if lmbda is None else _check_lambda(lmbda)
    logger.debug("Box-Cox lambda %.6g", lam)
    return BoxCoxResult(_wrap(special.boxcox(x, lam), y), lam)


def inv_boxcox(z: Any, lmbda: float, variance: Any = None) -> np.ndarray | pd.Series:
    """Inverse Box-Cox: ``(lambda z + 1)^(1/lambda)`` (``exp z`` at lambda = 0).

    Back-transforming a forecast mean gives the forecast *median* on the original scale.
    Pass ``variance`` (the forecast variance on the transformed scale, a scalar or one
    per value) to get the bias-adjusted *mean* instead: the second-order Taylor
    correction ``y (1 + variance (1 - lambda) / (2 y^(2 lambda)))`` (Hyndman &
    Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., sec. 5.6; R's
    ``forecast::InvBoxCox(biasadj = TRUE)``). The tests check it against
    ``g(z) + g''(z) variance / 2`` with ``g''`` by finite differences.

    Values outside the transform's range (``lambda z + 1 < 0``, or ``<= 0`` for
    lambda < 0; e.g. a far forecast bound) have no inverse: they become 0 for lambda > 0
    (the lower end of the original, positive, scale) and NaN for lambda < 0, with a
    warning. Uses ``scipy.special.inv_boxcox``.
    """
    lam = _check_lambda(lmbda)
    values = as_float_series(z, "z", allow_nan=True)
    out = special.inv_boxcox(values, lam)
    if lam != 0.0:
        base = lam * values + 1.0
        outside = base < 0.0 if lam > 0 else base <= 0.0
        if outside.any():
            out[outside] = 0.0 if lam > 0 else np.nan
            warnings.warn(
                f"{int(outside.sum())} value(s) of z lie outside the range of the Box-Cox "
                f"transform with lambda={lam:g} (lambda*z + 1 out of range); set to "
                f"{'0' if lam > 0 else 'NaN'}.",
                UserWarning,
                stacklevel=2,
            )
    if variance is not None:
        var = np.asarray(variance, dtype=float)
        if var.ndim > 1 or (var.ndim == 1 and var.size != values.size):
            raise ValueError(
                f"variance must be a scalar or have one value per z ({values.size}), got "
                f"shape {var.shape}."
            )
        if np.any(var < 0) or not np.all(np.isfinite(var)):
            raise ValueError("variance must be finite and non-negative.")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = out * (1.0 + 0.5 * var * (1.0 - lam) / out ** (2.0 * lam))
    return _wrap(out, z)

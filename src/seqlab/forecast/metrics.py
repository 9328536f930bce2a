"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE, MASE; interval coverage and width. Pure numpy.

This is the project's one metrics module for forecasts (the M3 benchmark imports it too),
so it depends on nothing but numpy. Definitions follow Hyndman & Koehler (2006),
"Another look at measures of forecast accuracy", and the M3 scoring used in
``../shared/data/README.md``:

- ``mae  = mean |y - f|``
- ``rmse = sqrt(mean (y - f)^2)``
- ``mape = 100 * mean |y - f| / |y|``
- ``smape = 200 * mean |y - f| / (|y| + |f|)`` (the M3 form, in percent, 0..200)
- ``mase = mae / mean_{t>m} |x_t - x_{t-m}|`` over the in-sample series ``x``
  (the in-sample seasonal naive MAE at lag ``m``; ``m = 1`` gives the naive scale).
- ``coverage = 100 * mean(lo <= y <= hi)`` (percent of actuals inside the interval)
- ``interval_width = mean(hi - lo)``

Each function takes the actuals and forecasts of one series (any matching shape) and
returns a float; the tests check each one against the formula written out directly.
"""

from __future__ import annotations

import numpy as np

from seqlab._validation import check_int
from seqlab.ts.transforms import _difference_array

__all__ = [
    "METRICS", "coverage", "interval_width", "mae", "mape", "mase", "mase_scale", "rmse", "smape",
]  # fmt: skip


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    if y.shape != f.shape:
        raise ValueError(
            f"actual and forecast must have the same shape, got {y.shape} and {f.shape}."
        )
    if y.size == 0:
        raise ValueError("actual and forecast are empty; there is nothing to score.")
    if np.isnan(y).any() or np.isnan(f).any():
        raise ValueError("actual and forecast must not contain NaN.")
    return y, f


def mae(actual, forecast) -> float:
    """Mean absolute error, ``mean |y - f|``."""
    y, f = _pair(actual, forecast)
    return float(np.mean(np.abs(y - f)))


def rmse(actual, forecast) -> float:
    """Root mean squared error, ``sqrt(mean (y - f)^2)``."""
    y, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def mape(actual, forecast) -> float:
    """Mean absolute percentage error in percent, ``100 * mean |y - f| / |y|``.

    Undefined when an actual is zero: returns inf then (the M3 series are positive).
    """
    y, f = _pair(actual, forecast)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(y - f) / np.abs(y)
    ratio = np.where((y == 0) & (f == 0), 0.0, ratio)
    return float(100.0 * np.mean(ratio))


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent, M3 form: ``200 * mean |y - f| / (|y| + |f|)``.

    A term with ``y = f = 0`` counts as 0 (a perfect forecast), not NaN.
    """
    y, f = _pair(actual, forecast)
    denominator = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denominator == 0, 0.0, np.abs(y - f) / denominator)
    return float(200.0 * np.mean(terms))


def mase_scale(insample, m: int = 1) -> float:
    """The MASE denominator: in-sample seasonal naive MAE, ``mean_{t>m} |x_t - x_{t-m}|``.

    Raises ValueError when the in-sample series has ``m`` or fewer values (no
    seasonal difference exists).
    """
    m = check_int(m, "m", minimum=1)
    x = np.asarray(insample, dtype=np.float64).reshape(-1)
    if x.size <= m:
        raise ValueError(f"MASE needs more than m={m} in-sample values to scale by, got {x.size}.")
    return float(np.mean(np.abs(_difference_array(x, D=1, m=m))))


def mase(actual, forecast, insample, m: int = 1) -> float:
    """Mean absolute scaled error: ``mae(actual, forecast) / mase_scale(insample, m)``.

    Hyndman & Koehler (2006), eq. for the seasonal case; inf when the in-sample series
    is constant at lag ``m`` (scale 0) and the forecast is not perfect.
    """
    error = mae(actual, forecast)
    scale = mase_scale(insample, m)
    if scale == 0:
        return 0.0 if error == 0 else float("inf")
    return error / scale


# Name -> function for tables; MASE takes (actual, forecast, insample, m), the rest (y, f).
METRICS = {"mae": mae, "rmse": rmse, "mape": mape, "smape": smape, "mase": mase}


def coverage(actual, lower, upper) -> float:
    """Empirical coverage in percent: ``100 * mean(lower <= y <= upper)``.

    Compare it with the interval's nominal level (80 for an 80 % interval).
    """
    y, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    if (lo > hi).any():
        i = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"lower exceeds upper at position {i}: {lo[i]:g} > {hi[i]:g}.")
    return float(100.0 * np.mean((lo <= y) & (y <= hi)))


def interval_width(lower, upper) -> float:
    """Mean interval width, ``mean(upper - lower)``, in the units of the series."""
    lo, hi = _pair(lower, upper)
    return float(np.mean(hi - lo))

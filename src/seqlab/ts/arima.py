"""ARIMA / SARIMA with exogenous regressors: CSS, exact maximum likelihood, forecasts.

The model is regression with (S)ARIMA errors, as statsmodels' ``ARIMA`` and R's
``arima(xreg=)``::

    y_t = x_t' beta + u_t,   phi(L) Phi(L^m) (1 - L)^d (1 - L^m)^D u_t = theta(L) Theta(L^m) eps_t

with ``eps_t ~ N(0, sigma2)``. The trend terms are columns of ``x_t``: ``"c"`` a column of
ones (``const``, the mean of a stationary series) and ``"t"`` the time index 1, 2, ...
(``drift``: with d = 1 it is the mean of the differenced series; statsmodels calls it
``x1``). Trend terms of lower order than ``d + D`` are refused, as statsmodels does,
because differencing removes them.

Estimation (``method``):

- ``"css"``: conditional sum of squares, the ARMA recursion on the differenced series
  started from zero residuals and conditioned on the first ``p + P*m`` values (R's
  ``arima(method="CSS")``). Cannot handle NaN.
- ``"mle"``: exact Gaussian likelihood by the Kalman filter (the compiled core,
  ``seqlab.ts._kalman``; C++ sources in ``ts/_core/``), maximised over parameters kept
  stationary and invertible by the partial-autocorrelation transform of Monahan (1984)
  and Jones (1980), by a compiled BFGS (``_kalman.Problem.minimize``). Its gradient is
  the exact gradient of the computed likelihood by reverse-mode differentiation
  (``ts/_core/adjoint.hpp``: one backward pass through the filter, the stationary
  initial covariance and the transforms). NaN are skipped by the filter, with
  finite-difference gradients.
- ``"css-mle"`` (default): ``"mle"`` started from the CSS estimate (R's default).

Notes
-----
ARMA likelihoods often have several local optima (near-cancelling AR and MA roots, MA
roots near the unit circle), so the search runs BFGS to convergence from several points
and keeps the best optimum: Hannan-Rissanen (statsmodels' start; else the CSS estimate,
else zero ARMA coefficients with the regression estimate of ``beta``) and the
``START_PATTERNS``, fixed partial autocorrelations of the AR and MA parts (a positive, a
negative, and an oscillating AR part with a pair of complex MA roots near the unit
circle), plus the ``FULL_ORDER_PATTERNS`` where the orders allow them. A run that comes
close to an optimum already found from an earlier start stops there
(``_kalman.JOIN_RADIUS``). ``fit(..., multistart=False)`` is R's single CSS start.
Models without ARMA terms need no search: least squares on the differenced series is
their MLE, polished by BFGS for the diffuse prior. ``benchmarks/arima_fit.py`` measures
how often the search reaches statsmodels' optimum on the M3 monthly series.

Which likelihood, and why it equals statsmodels': statsmodels' ARIMA keeps the
differencing inside the state space (``simple_differencing=False``) and starts the
integration states from an *approximate* diffuse prior (mean 0, variance 1e6), leaving
the first ``d + D*m`` observations out of the sum (``loglikelihood_burn``). R's
``arima`` also uses ``kappa = 1e6`` but in units of sigma2 (its filter runs at unit
innovation variance), so its prior is 1e6 * sigma2, not 1e6. An absolute prior is not
scale-free: for a series in the units it differs from the exact likelihood of the
differenced series, and rescaling the series changes the difference. seqlab follows
statsmodels, the reference its tests hold it to: the same state layout, the same
absolute prior and the same burn-in, so its log-likelihood equals statsmodels' to
rounding at equal parameters. The optimiser works on the series divided by a scale
``s`` (with the prior variance divided by ``s^2``), which is the same likelihood up to
the constant ``-n log s`` and keeps the search well conditioned.

Standard errors come from a central-difference Hessian of the log-likelihood in the
reported parameters (statsmodels' ``cov_type="approx"``), computed when first asked
for; the filter outputs behind ``resid``, ``fitted`` and forecasts likewise. Information
criteria follow statsmodels: ``k`` counts ``sigma2``; AICc and BIC use
``nobs - (d + D*m)``.

``ARIMA.filter(y, params)`` evaluates a model at given parameters without estimating
anything; tests use it to compare forecasts with statsmodels at statsmodels' estimates.

References
----------
Gardner, Harvey & Phillips (1980), Algorithm AS 154, Applied Statistics 29.
Jones (1980), Maximum likelihood fitting of ARMA models to time series with missing
observations, Technometrics 22.
Monahan (1984), A note on enforcing stationarity in autoregressive-moving average
models, Biometrika 71.
Nocedal & Wright (2006), Numerical Optimization, 2nd ed., ch. 6 (BFGS).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from seqlab._validation import (
    as_float_series,
    check_finite_estimates,
    check_horizon,
    check_int,
    check_levels,
    check_period,
    future_index,
    ordered_series,
)
from seqlab.ts import _kalman
from seqlab.ts._exog import as_exog, check_future_exog
from seqlab.ts._kalman import Objective, Status

logger = logging.getLogger(__name__)

#: Prior variance of the integration states (statsmodels' ``initial_variance``, R's kappa).
KAPPA = 1e6
#: Largest prior variance of the integration states in the end-of-sample filter, in
#: units of the scaled series (``KAPPA / scale**2`` passes it only for series with a
#: spread below ~1e-3). Much larger values leave rounding errors of order kappa * 1e-16
#: in the state, and overflow inside the filter for spreads below ~1e-75; this one changes
#: the state after the first ``d + D*m`` observations by a relative 1e-12 at most.
FILTER_KAPPA_MAX = 1e12
#: BFGS stops when the mean negative log-likelihood falls by less than this (relative)
#: twice in a row: for series of a few hundred values that is < 1e-6 in the log-likelihood.
FTOL = 1e-10
#: Extra starting points: (AR part, MA part). A part is a named start's values ("css",
#: "hr") or partial autocorrelations (the optimiser's layout, cut to the order; r2 = -0.99
#: puts a pair of complex MA roots near the unit circle, the basin of many cyclical
#: series). Chosen from full BFGS runs from 60 candidate starts on each of the 1,428 M3
#: monthly series for ARIMA(2,1,2): the three that, with Hannan-Rissanen, most often reach
#: statsmodels' optimum or better (none needs the CSS fit; see ``_Problem.fit_mle``).
START_PATTERNS: tuple[tuple[Any, Any], ...] = (
    ((0.5,), (0.9,)),
    ((-0.5,), (-0.5,)),
    ((0.9, -0.9), (0.99, -0.99)),
)
#: More patterns, used only when the model has at least as many AR and MA terms as the
#: pattern gives (they aim at pairs of complex MA roots near the unit circle); chosen, like
#: ``START_PATTERNS``, by how often the search then reaches statsmodels' optimum on M3
#: (``benchmarks/arima_fit.py``).
FULL_ORDER_PATTERNS: tuple[tuple[Any, Any], ...] = (
    ("hr", (0.7, -0.99)),
    ((0.0, 0.0), (0.0, 0.0)),
)
_METHODS = ("css-mle", "mle", "css")
_TRENDS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}
_TREND_NAMES = {0: "const", 1: "drift"}
_STATUS = {
    Status.GRADIENT_SMALL: "gradient below tolerance",
    Status.NO_PROGRESS: "no further improvement possible",
    Status.ITERATION_LIMIT: "iteration limit reached",
    Status.LINE_SEARCH_FAILED: "line search failed away from an optimum",
    Status.JOINED_KNOWN: "joined an optimum found from another start",
}
_CONVERGED = (Status.GRADIENT_SMALL, Status.NO_PROGRESS)


class CSSStartError(ValueError):
    """A css-mle fit's CSS starting estimate has a non-stationary AR part (R's ``arima``
    error "non-stationary AR part from CSS"); raised with ``css_ar_check="raise"``."""


@dataclass(frozen=True)
class _Spec:
    p: int
    d: int
    q: int
    P: int
    D: int
    Q: int
    m: int
    trend_powers: tuple[int, ...]

    @property
    def k_diff_states(self) -> int:
        return self.d + self.D * self.m

    @property
    def k_arma(self) -> int:
        return self.p + self.q + self.P + self.Q

    @property
    def r(self) -> int:
        return max(self.p + self.P * self.m, self.q + self.Q * self.m + 1)

    def label(self) -> str:
        text = f"ARIMA({self.p},{self.d},{self.q})"
        if self.P or self.D or self.Q:
            text += f"({self.P},{self.D},{self.Q},{self.m})"
        return text

    def arma_names(self) -> list[str]:
        return (
            [f"ar.L{i}" for i in range(1, self.p + 1)]
            + [f"ma.L{i}" for i in range(1, self.q + 1)]
            + [f"ar.S.L{i * self.m}" for i in range(1, self.P + 1)]
            + [f"ma.S.L{i * self.m}" for i in range(1, self.Q + 1)]
        )


@functools.lru_cache(maxsize=64)
def _system_base(spec: _Spec) -> tuple[np.ndarray, np.ndarray]:
    """Transition without ARMA coefficients, and the design vector (statsmodels' layout:
    ``SARIMAX.initial_transition`` / ``initial_design``)."""
    d, D, m, r = spec.d, spec.D, spec.m, spec.r
    kd = spec.k_diff_states
    k = kd + r
    T = np.zeros((k, k))
    for i in range(r - 1):
        T[kd + i, kd + i + 1] = 1.0
    seasonal_pick = np.zeros(m) if m else np.zeros(0)
    if D:
        seasonal_pick[-1] = 1.0
        for j in range(D):
            start = d + j * m
            end = start + m
            block = np.zeros((m, m))
            block[np.arange(1, m), np.arange(m - 1)] = 1.0
            block[0, m - 1] = 1.0
            T[start:end, start:end] = block
            if j < D - 1:
                T[start, end + m - 1] = 1.0
            T[start, kd] = 1.0
    if d:
        T[np.triu_indices(d)] = 1.0
        if D:
            T[:d, d:kd] = np.tile(seasonal_pick, D)
        T[:d, kd] = 1.0
    Z = np.concatenate([np.ones(d), np.tile(seasonal_pick, D), [1.0], np.zeros(r - 1)])
    return T, Z


@dataclass(frozen=True)
class ARIMAForecast:
    """Point forecasts with standard errors and central prediction intervals."""

    mean: Any
    se: Any
    lower: dict[int | float, Any]
    upper: dict[int | float, Any]

    def to_frame(self) -> pd.DataFrame:
        """DataFrame with columns mean, lower_80, upper_80, lower_95, upper_95, ..."""
        index = self.mean.index if isinstance(self.mean, pd.Series) else None
        columns = {"mean": np.asarray(self.mean)}
        for level in self.lower:
            label = f"{level:g}"
            columns[f"lower_{label}"] = np.asarray(self.lower[level])
            columns[f"upper_{label}"] = np.asarray(self.upper[level])
        return pd.DataFrame(columns, index=index)


@dataclass(frozen=True)
class _Data:
    values: np.ndarray
    index: pd.Index | None
    name: str
    X: np.ndarray
    x_names: list[str]
    k_exog: int


class ARIMA:
    """(Seasonal) ARIMA with optional regressors, fitted by CSS or exact likelihood.

    Parameters
    ----------
    order : (p, d, q)
        AR order, differences, MA order.
    seasonal_order : (P, D, Q, m)
        Seasonal AR order, seasonal differences, seasonal MA order, period ``m`` (>= 2 when
        any of P, D, Q is positive).
    trend : None, "n", "c", "t" or "ct"
        Deterministic terms as regressors: ``"c"`` constant (mean), ``"t"`` linear time
        trend (``drift`` after one difference). None means ``"c"`` without differencing
        and ``"n"`` with it (statsmodels' default).
    method : "css-mle", "mle" or "css"
        See the module docstring.
    include_mean : None or bool
        R-style alternative to ``trend``: True means ``"c"``, False means ``"n"``.

    Notes
    -----
    ``__init__`` only stores its arguments; they are checked by ``fit``.
    """

    def __init__(
        self,
        order: Sequence[int] = (0, 0, 0),
        seasonal_order: Sequence[int] = (0, 0, 0, 0),
        trend: str | None = None,
        method: str = "css-mle",
        include_mean: bool | None = None,
    ) -> None:
        self.order = order
        self.seasonal_order = seasonal_order
        self.trend = trend
        self.method = method
        self.include_mean = include_mean

    def __repr__(self) -> str:
        return (
            f"ARIMA(order={tuple(self.order)}, seasonal_order={tuple(self.seasonal_order)}, "
            f"trend={self.trend!r}, method={self.method!r})"
        )

    # ----------------------------------------------------------------- checks
    def _spec(self) -> _Spec:
        order = self.order
        if not isinstance(order, Sequence) or isinstance(order, str) or len(order) != 3:
            raise ValueError(f"order must be (p, d, q), three integers; got {order!r}.")
        p, d, q = (check_int(v, f"order[{i}]", minimum=0) for i, v in enumerate(order))
        seasonal = self.seasonal_order
        if not isinstance(seasonal, Sequence) or isinstance(seasonal, str) or len(seasonal) != 4:
            raise ValueError(
                f"seasonal_order must be (P, D, Q, m), four integers; got {seasonal!r}."
            )
        P, D, Q, m = (
            check_int(v, f"seasonal_order[{i}]", minimum=0) for i, v in enumerate(seasonal)
        )
        if d > 3 or D > 2:
            raise ValueError(
                f"at most d=3 and D=2 differences are supported; got d={d}, D={D}. "
                "Series rarely need more than d=2; check the series (e.g. with "
                "seqlab.ts.check_stationarity)."
            )
        if (P or D or Q) and m < 2:
            raise ValueError(
                f"seasonal_order={tuple(seasonal)} has seasonal terms but period m={m}; "
                "m must be >= 2 (e.g. 12 for monthly data)."
            )
        if not (P or D or Q):
            m = 0
        else:
            check_period(m, "seasonal_order[3] (m)")
        if p > 100 or q > 100 or P > 10 or Q > 10:
            raise ValueError(
                f"orders out of range: p={p}, q={q}, P={P}, Q={Q}; use p, q <= 100 and P, Q <= 10."
            )
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}.")
        trend = self.trend
        if self.include_mean is not None:
            if trend is not None:
                raise ValueError("give trend or include_mean, not both.")
            trend = "c" if self.include_mean else "n"
        if trend is None:
            trend = "c" if d + D == 0 else "n"
        if trend not in _TRENDS:
            raise ValueError(f"trend must be None, 'n', 'c', 't' or 'ct'; got {trend!r}.")
        powers = _TRENDS[trend]
        if powers and min(powers) < d + D:
            raise ValueError(
                f"trend={trend!r} includes a term that differencing (d={d}, D={D}) removes. "
                "A constant cannot be estimated in a differenced model; use trend='t' "
                "(drift) with d + D = 1, or trend='n'."
            )
        return _Spec(p, d, q, P, D, Q, m, powers)

    def _prepare(self, spec: _Spec, y: Any, exog: Any, method: str) -> _Data:
        y, exog = _in_date_order(y, exog)
        values = as_float_series(y, "y", allow_nan=True)
        if method == "css" and np.isnan(values).any():
            pos = int(np.flatnonzero(np.isnan(values))[0])
            raise ValueError(
                f"y contains NaN (first at position {pos}); method='css' cannot handle "
                "missing values. Use method='mle' (the Kalman filter skips them) or fill them."
            )
        index = y.index if isinstance(y, pd.Series) else None
        name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
        n = values.shape[0]
        observed = values[~np.isnan(values)]
        if np.ptp(observed) == 0:
            raise ValueError(
                f"y is constant (every observed value is {observed[0]:g}); there is "
                "nothing for an ARIMA model to fit."
            )
        columns = [
            np.ones(n) if power == 0 else np.arange(1.0, n + 1.0) for power in spec.trend_powers
        ]
        x_names = [_TREND_NAMES[power] for power in spec.trend_powers]
        k_exog = 0
        if exog is not None:
            ex, ex_names = as_exog(exog, n, "exog")
            k_exog = ex.shape[1]
            columns.extend(ex.T)
            x_names.extend(ex_names)
        X = np.column_stack(columns) if columns else np.zeros((n, 0))
        reserved = set(spec.arma_names()) | {"sigma2"}
        clash = sorted(set(x_names) & reserved)
        if clash or len(set(x_names)) != len(x_names):
            raise ValueError(
                f"exog column names must be unique and differ from {sorted(reserved)}; "
                f"got {x_names}."
            )
        n_params = X.shape[1] + spec.k_arma + 1
        n_valid = observed.shape[0]
        usable = n_valid - spec.k_diff_states
        if method != "mle":
            usable -= spec.p + spec.P * spec.m
        if usable <= n_params:
            raise ValueError(
                f"y has {n_valid} observed values, too short for {spec.label()} with "
                f"{n_params} parameters by method={method!r}: after differencing"
                f"{' and conditioning' if method != 'mle' else ''} {max(usable, 0)} remain, "
                f"and at least {n_params + 1} are needed. Use a lower order or a longer series."
            )
        if X.shape[1] == 0 and not np.isnan(values).any():
            w = _kalman.difference(values, spec.d, spec.D, spec.m)
            if np.ptp(w) == 0:
                raise ValueError(
                    f"y is constant after differencing (d={spec.d}, D={spec.D}); the "
                    "series is deterministic and has no noise to model."
                )
        return _Data(values, index, name, X, x_names, k_exog)

    # ---------------------------------------------------------------- fitting
    def fit(
        self,
        y: Any,
        exog: Any = None,
        *,
        start_params: Any = None,
        maxiter: int = 500,
        multistart: bool = True,
        css_ar_check: str = "restart",
    ) -> ARIMAResult:
        """Estimate the model on ``y`` (list, ndarray or pandas Series; NaN allowed for the
        likelihood methods) with optional regressors ``exog`` (n rows, one column per
        regressor). ``start_params`` (in ``params`` order, sigma2 last) replaces the CSS /
        regression starting values. ``multistart=False`` runs the likelihood search from
        one start only (the CSS estimate for css-mle, as R's ``arima``): about three times
        faster, but it stops in a worse local optimum more often (see the module docstring).
        ``css_ar_check``: what a css-mle fit from one start does when the converged CSS
        estimate has a non-stationary AR part: ``"restart"`` that part from zero, or
        ``"raise"`` :class:`CSSStartError`, as R's ``arima`` stops (``auto_arima`` uses
        this to skip such candidates, as R's ``auto.arima`` does).
        Returns an :class:`ARIMAResult`.

        A Series indexed by dates out of order is sorted first (with a ``logging``
        warning; ``exog`` as pandas with the same index is sorted with it). Raises
        ValueError for repeated dates, values beyond ``seqlab._validation.MAX_ABS_VALUE``
        in magnitude, and a fit whose estimates or log-likelihood are not finite (never
        returned as a result)."""
        spec = self._spec()
        method = self.method
        data = self._prepare(spec, y, exog, method)
        maxiter = check_int(maxiter, "maxiter", minimum=1)
        if css_ar_check not in ("restart", "raise"):
            raise ValueError(f"css_ar_check must be 'restart' or 'raise', got {css_ar_check!r}.")
        problem = _Problem(spec, data)
        if method == "css":
            raw, converged, message, iterations = problem.fit_css(start_params, maxiter)
            return _checked(
                _css_result(self, spec, data, problem, raw, converged, message, iterations)
            )
        if start_params is not None:
            starts = {"user": problem.check_params(start_params, "start_params")}
        elif spec.k_arma == 0:
            # White-noise errors: least squares on the differenced series is the MLE
            # (up to the diffuse prior's ~1e-6 tilt, which the short polish below removes).
            starts = {"zero": problem.regression_start()}
        else:
            # Hannan-Rissanen and the START_PATTERNS with multistart; the CSS estimate (R's
            # start) only where that is the one start, or where Hannan-Rissanen has none.
            starts = {}
            hr = problem.hannan_rissanen_start() if multistart else None
            if hr is not None:
                starts["hr"] = hr
            elif method == "css-mle":
                raw, css_converged, *_ = problem.fit_css(None, maxiter)
                if css_ar_check == "raise" and css_converged:
                    problem.check_css_ar(raw)
                starts["css"] = problem.css_to_params(raw)
            if multistart or not starts:
                starts["zero"] = problem.regression_start()
        params, converged, message, iterations = problem.fit_mle(
            starts, maxiter, screen=start_params is None and multistart
        )
        return _checked(
            _mle_result(self, spec, data, problem, params, method, converged, message, iterations)
        )

    def filter(self, y: Any, params: Any, exog: Any = None) -> ARIMAResult:
        """The model evaluated at given ``params`` (a Series/dict by name, or an array in
        ``params`` order with sigma2 last): log-likelihood, residuals, forecasts, without
        any estimation (statsmodels' ``model.filter(params)``)."""
        spec = self._spec()
        data = self._prepare(spec, y, exog, "mle")
        problem = _Problem(spec, data)
        params = problem.check_params(params, "params")
        return _mle_result(
            self, spec, data, problem, params, "fixed", True, "parameters given, not estimated", 0
        )


def _in_date_order(y: Any, exog: Any) -> tuple[Any, Any]:
    """``y`` (and ``exog``'s rows with it) sorted by date; see ``ordered_series``."""
    ordered = ordered_series(y, "y")
    if ordered is y or exog is None:
        return ordered, exog
    if isinstance(exog, (pd.Series, pd.DataFrame)) and exog.index.equals(y.index):
        return ordered, exog.loc[ordered.index]
    raise ValueError(
        "y's dates are not in increasing order and exog cannot be sorted with it (give "
        "exog as pandas with y's index, or sort both first)."
    )


def _checked(result: ARIMAResult) -> ARIMAResult:
    """``result``, unless its estimates or log-likelihood are not finite."""
    check_finite_estimates(
        [*result.params.to_numpy(), result.loglik],
        [*result.params.index, "loglik"],
        f"{result.label} fit",
    )
    return result


def AR(p: int, **kwargs: Any) -> ARIMA:
    """AR(p): ``ARIMA(order=(p, 0, 0), **kwargs)``."""
    return ARIMA(order=(p, 0, 0), **kwargs)


def MA(q: int, **kwargs: Any) -> ARIMA:
    """MA(q): ``ARIMA(order=(0, 0, q), **kwargs)``."""
    return ARIMA(order=(0, 0, q), **kwargs)


def ARMA(p: int, q: int, **kwargs: Any) -> ARIMA:
    """ARMA(p, q): ``ARIMA(order=(p, 0, q), **kwargs)``."""
    return ARIMA(order=(p, 0, q), **kwargs)


class _Problem:
    """One estimation problem: the scaled data and the compiled objective's arguments."""

    def __init__(self, spec: _Spec, data: _Data) -> None:
        self.spec = spec
        self.data = data
        y = data.values
        w = _kalman.difference(y, spec.d, spec.D, spec.m)
        scale = float(np.nanstd(w)) if np.isfinite(w).sum() > 1 else 0.0
        if not scale > 0:
            scale = float(np.nanstd(y)) or 1.0
        self.scale = scale
        X = data.X
        col_scale = np.ones(X.shape[1])
        for j in range(X.shape[1]):
            dx = _kalman.difference(X[:, j], spec.d, spec.D, spec.m)
            sd = float(np.std(dx)) if dx.size > 1 else 0.0
            col_scale[j] = sd if sd > 0 else max(float(np.max(np.abs(dx))) if dx.size else 0, 1.0)
        self.col_scale = col_scale
        self.y = y / scale
        self.X = np.ascontiguousarray(X / col_scale)
        self.T_base, self.Z = _system_base(spec)
        self.kappa = KAPPA / scale**2
        # Rounding against a large diffuse variance makes the likelihood noisy at ~1e-16
        # kappa; forward differences would amplify that, so use central ones there.
        self.central = spec.k_diff_states > 0 and self.kappa > 1e4
        self.k_x = X.shape[1]
        self.core_spec = _kalman.Spec(
            p=spec.p, q=spec.q, P=spec.P, Q=spec.Q, m=spec.m, d=spec.d, D=spec.D,
            k_exog=self.k_x, kappa=self.kappa,
        )  # fmt: skip
        #: The compiled objectives and optimiser on the scaled series (buffers reused).
        self.core = _kalman.Problem(self.core_spec, self.y, self.X, self.T_base, self.Z)
        self.names = [*data.x_names, *spec.arma_names(), "sigma2"]
        self.optima: list[np.ndarray] = []
        self._regression_start: np.ndarray | None = None

    # params (reported units) <-> scaled pieces
    def split(self, params: np.ndarray) -> tuple[np.ndarray, ...]:
        s = self.spec
        o = self.k_x
        beta = params[:o]
        ar = params[o : o + s.p]
        o += s.p
        ma = params[o : o + s.q]
        o += s.q
        sar = params[o : o + s.P]
        o += s.P
        sma = params[o : o + s.Q]
        return beta, ar, ma, sar, sma, params[-1]

    def to_scaled(self, params: np.ndarray) -> np.ndarray:
        out = np.array(params, dtype=float)
        out[: self.k_x] = out[: self.k_x] * self.col_scale / self.scale
        out[-1] = out[-1] / self.scale**2
        return out

    def from_scaled(self, scaled: np.ndarray) -> np.ndarray:
        out = np.array(scaled, dtype=float)
        out[: self.k_x] = out[: self.k_x] * self.scale / self.col_scale
        out[-1] = out[-1] * self.scale**2
        return out

    def check_params(self, params: Any, what: str) -> np.ndarray:
        if isinstance(params, (pd.Series, Mapping)):
            given = dict(params)
            missing = [n for n in self.names if n not in given]
            extra = [n for n in given if n not in self.names]
            if missing or extra:
                raise ValueError(
                    f"{what} must name exactly {self.names}; missing {missing}, unknown {extra}."
                )
            values = np.array([given[n] for n in self.names], dtype=float)
        else:
            values = np.asarray(params, dtype=float).reshape(-1)
            if values.shape[0] != len(self.names):
                raise ValueError(
                    f"{what} needs {len(self.names)} values ({self.names}), got {values.shape[0]}."
                )
        if not np.isfinite(values).all() or not values[-1] > 0:
            raise ValueError(f"{what} must be finite with sigma2 > 0; got {values}.")
        return values

    def _loglik_count(self, scaled: np.ndarray) -> tuple[float, int]:
        """Exact log-likelihood of the scaled series at scaled parameters, and how many
        observations it sums over."""
        c = np.ascontiguousarray
        beta, ar, ma, sar, sma, sigma2 = self.split(scaled)
        ll, n_used, _ = self.core.loglik(c(beta), c(ar), c(ma), c(sar), c(sma), float(sigma2))
        return float(ll), int(n_used)

    def loglik_scaled(self, scaled: np.ndarray) -> float:
        return self._loglik_count(scaled)[0]

    def loglik(self, params: np.ndarray) -> float:
        """Exact log-likelihood at reported ``params`` (computed on the scaled series)."""
        ll, n_used = self._loglik_count(self.to_scaled(params))
        return ll - n_used * math.log(self.scale)

    def regression_start(self) -> np.ndarray:
        """beta by least squares on the differenced data, ARMA 0, sigma2 the residual variance."""
        if self._regression_start is None:
            self._regression_start = self._compute_regression_start()
        return self._regression_start.copy()

    def _compute_regression_start(self) -> np.ndarray:
        s = self.spec
        w = _kalman.difference(self.y, s.d, s.D, s.m)
        beta = np.zeros(self.k_x)
        if self.k_x:
            dX = np.column_stack(
                [_kalman.difference(self.X[:, j], s.d, s.D, s.m) for j in range(self.k_x)]
            )
            ok = ~np.isnan(w)
            beta = np.linalg.lstsq(dX[ok], w[ok], rcond=None)[0]
            w = w - dX @ beta
        # Mean square, not variance: with no constant among the regressors, the
        # white-noise MLE of sigma2 does not remove the mean.
        sigma2 = float(np.nanmean(w**2)) or 1.0
        scaled = np.concatenate([beta, np.zeros(s.k_arma), [sigma2]])
        return self.from_scaled(scaled)

    def hannan_rissanen_start(self) -> np.ndarray | None:
        """Hannan & Rissanen (1982) starting values, as statsmodels' SARIMAX computes them.

        A long AR(2q) by least squares gives residuals; then ``w_t`` is regressed on its
        own lags and lagged residuals (seasonal lags included via the expanded
        polynomials' non-zero positions). Returns None where the series is too short or
        the model has no ARMA terms.
        """
        s = self.spec
        if not s.k_arma:
            return None
        w = _kalman.difference(self.y, s.d, s.D, s.m)
        if self.k_x:
            w = (
                w
                - np.column_stack(
                    [_kalman.difference(self.X[:, j], s.d, s.D, s.m) for j in range(self.k_x)]
                )
                @ self.to_scaled(self.regression_start())[: self.k_x]
            )
        if np.isnan(w).any():
            return None
        ar_lags = [i for i in range(1, s.p + 1)] + [i * s.m for i in range(1, s.P + 1)]
        ma_lags = [j for j in range(1, s.q + 1)] + [j * s.m for j in range(1, s.Q + 1)]
        k_ma = max(ma_lags, default=0)
        k = 2 * k_ma
        r = max(k + k_ma, max(ar_lags, default=0))
        if w.shape[0] - r <= len(ar_lags) + len(ma_lags) + 2:
            return None
        resid = None
        if k_ma:
            lagged = np.column_stack([w[k - i : w.shape[0] - i] for i in range(1, k + 1)])
            coefs = np.linalg.lstsq(lagged, w[k:], rcond=None)[0]
            resid = np.concatenate([np.zeros(k), w[k:] - lagged @ coefs])
        cols = [w[r - i : w.shape[0] - i] for i in ar_lags]
        cols += [resid[r - j : w.shape[0] - j] for j in ma_lags]
        design = np.column_stack(cols)
        coefs, *_ = np.linalg.lstsq(design, w[r:], rcond=None)
        sigma2 = float(np.mean((w[r:] - design @ coefs) ** 2))
        ar, ma = coefs[: len(ar_lags)], coefs[len(ar_lags) :]
        # Seasonal coefficients sit at lags m, 2m, ...: take them as the seasonal factor's.
        parts = [ar[: s.p], ma[: s.q], ar[s.p :], ma[s.q :]]
        scaled = np.concatenate(
            [self.to_scaled(self.regression_start())[: self.k_x], *parts, [max(sigma2, 1e-8)]]
        )
        return self.from_scaled(scaled)

    # ------------------------------------------------------------------- CSS
    def fit_css(self, start_params: Any, maxiter: int) -> tuple[np.ndarray, bool, str, int]:
        """Minimise the conditional sum of squares; returns raw scaled (beta, ARMA)."""
        if start_params is not None:
            u0 = self.to_scaled(self.check_params(start_params, "start_params"))[:-1]
        else:
            u0 = self.regression_start()
            u0 = self.to_scaled(u0)[:-1]
        y = self.y
        if np.isnan(y).any():
            # CSS only supplies starting values here (css-mle); bridge gaps linearly.
            t = np.arange(y.shape[0])
            ok = ~np.isnan(y)
            y = np.interp(t, t[ok], y[ok])
        if u0.shape[0] == 0:
            return u0, True, "nothing to estimate", 0
        u, _, iterations, status = self._minimize(Objective.CSS, u0, y, maxiter, 1e-8, False)
        return u, status in _CONVERGED, _STATUS[status], int(iterations)

    def check_css_ar(self, raw: np.ndarray) -> None:
        """R's ``arima(method="CSS-ML")`` check of a converged CSS estimate: raises
        :class:`CSSStartError` when its AR or seasonal AR polynomial has a root on or
        inside the unit circle. Series with NaN are not checked (R's CSS cannot take them;
        the CSS start here bridges the gaps)."""
        if np.isnan(self.y).any():
            return
        _, ar, _, sar, _, _ = self.split(np.concatenate([raw, [1.0]]))
        for coefs, what in ((ar, "AR"), (sar, "seasonal AR")):
            if not len(coefs):
                continue
            poly = np.concatenate([[1.0], -np.asarray(coefs, dtype=float)])
            modulus = float(_kalman.min_root_modulus(poly))
            if modulus <= 1.0:
                raise CSSStartError(
                    f"non-stationary {what} part from CSS (root modulus {modulus:.4f})"
                )

    def css_to_params(self, raw: np.ndarray) -> np.ndarray:
        """Turn a CSS estimate into MLE starting values (stationary, invertible)."""
        s = self.spec
        scaled = np.concatenate([raw, [1.0]])
        beta, ar, ma, sar, sma, _ = self.split(scaled)
        parts = [np.array(beta)]
        for coefs, is_ma in ((ar, False), (ma, True), (sar, False), (sma, True)):
            coefs = np.array(coefs, dtype=float)
            x = _kalman.coefs_to_pacf(-coefs if is_ma else coefs) if coefs.size else coefs
            if coefs.size and not np.isfinite(x).all():
                coefs = np.zeros_like(coefs)
            parts.append(coefs)
        scaled = np.concatenate([*parts, [1.0]])
        phi, theta = _kalman.expand_polys(
            *[np.ascontiguousarray(a) for a in self.split(scaled)[1:5]], s.m
        )
        w = _kalman.difference(
            _kalman.remove_regression(np.nan_to_num(self.y), self.X, scaled[: self.k_x]),
            s.d,
            s.D,
            s.m,
        )
        e = _kalman.css_residuals(w, phi, theta)[phi.shape[0] :]
        scaled[-1] = max(float(np.mean(e**2)), 1e-8)
        return self.from_scaled(scaled)

    def css_sigma2_loglik(self, raw: np.ndarray) -> tuple[float, float, int, np.ndarray]:
        """sigma2 (reported units), CSS log-likelihood, n used, and residuals of y."""
        s = self.spec
        scaled = np.concatenate([raw, [1.0]])
        beta, ar, ma, sar, sma, _ = self.split(scaled)
        phi, theta = _kalman.expand_polys(
            *[np.ascontiguousarray(a) for a in (ar, ma, sar, sma)], s.m
        )
        w = _kalman.difference(
            _kalman.remove_regression(self.y, self.X, np.ascontiguousarray(beta)), s.d, s.D, s.m
        )
        e = _kalman.css_residuals(w, phi, theta)
        ncond = phi.shape[0]
        used = e[ncond:]
        nu = used.shape[0]
        sigma2 = float(np.mean(used**2)) * self.scale**2
        loglik = -0.5 * nu * (math.log(2 * math.pi * sigma2) + 1.0)
        resid = np.full(self.y.shape[0], np.nan)
        resid[s.k_diff_states + ncond :] = used * self.scale
        return sigma2, loglik, nu, resid

    # ------------------------------------------------------------------- MLE
    def _minimize(
        self,
        objective: Objective,
        u0: np.ndarray,
        y: np.ndarray,
        maxiter: int,
        gtol: float,
        central: bool,
        known: list[tuple[np.ndarray, float]] | None = None,
    ) -> tuple[np.ndarray, float, int, Status]:
        core = self.core
        if y is not self.y:
            core = _kalman.Problem(self.core_spec, y, self.X, self.T_base, self.Z)
        u, f, iterations, status = core.minimize(
            objective,
            u0,
            maxiter,
            gtol,
            FTOL,
            central,
            np.array([u for u, _ in known or []]).reshape(-1, u0.shape[0]),
            np.array([f for _, f in known or []], dtype=float),
        )
        return u, float(f), int(iterations), status

    def _unconstrain(self, params: np.ndarray) -> np.ndarray:
        """Reported parameters -> the optimiser's vector (``_kalman.unpack`` inverts it)."""
        scaled = self.to_scaled(params)
        beta, ar, ma, sar, sma, sigma2 = self.split(scaled)
        u0 = [np.asarray(beta, dtype=float)]
        for coefs, is_ma in ((ar, False), (ma, True), (sar, False), (sma, True)):
            coefs = np.asarray(coefs, dtype=float)
            x = _kalman.coefs_to_pacf(-coefs if is_ma else coefs) if coefs.size else coefs
            if not np.isfinite(x).all():
                logger.info("non-stationary or non-invertible start; that part starts at 0")
                x = np.zeros_like(coefs)
            u0.append(x)
        u0.append([math.log(sigma2)])
        return np.concatenate(u0)

    def _pattern_start(
        self, bases: dict[str, np.ndarray], ar_part: Any, ma_part: Any
    ) -> np.ndarray | None:
        """One ``START_PATTERNS`` entry in the optimiser's layout, or None where it needs a
        start that this fit does not have. Regression, seasonal and sigma2 parts come from
        the Hannan-Rissanen start (else the regression one)."""
        s = self.spec
        base = bases.get("hr", bases.get("zero"))
        if base is None:
            return None
        u = base.copy()
        for part, offset, size in ((ar_part, self.k_x, s.p), (ma_part, self.k_x + s.p, s.q)):
            if not size:
                continue
            if isinstance(part, str):
                if part not in bases:
                    return None
                u[offset : offset + size] = bases[part][offset : offset + size]
            else:
                u[offset : offset + size] = 0.0
                for j, r in enumerate(part[:size]):
                    u[offset + j] = r / math.sqrt(1.0 - r * r)
        return u

    def fit_mle(
        self, starts: dict[str, np.ndarray], maxiter: int, screen: bool = True
    ) -> tuple[np.ndarray, bool, str, int]:
        """Maximise the exact likelihood from ``starts`` (named: "css", "zero", "hr" or
        "user"); keep the best optimum.

        With ``screen`` (no user start), the first of "hr", "css", "zero" and the
        ``START_PATTERNS`` are the starting points: near-duplicates are dropped, sigma2 is
        profiled out at each (``_kalman.Problem.screen_starts``) and each runs to convergence
        (see the module docstring for why several starts are needed).
        """
        s = self.spec
        gtol = 1e-6 if self.central else 1e-5
        bases = {name: self._unconstrain(start) for name, start in starts.items()}
        if not (screen and s.k_arma):
            U = np.array(list(bases.values()))
        else:
            first = next(name for name in ("hr", "css", "zero") if name in bases)
            rows = [bases[first]]
            patterns = list(START_PATTERNS)
            for ar_part, ma_part in FULL_ORDER_PATTERNS:
                if (isinstance(ar_part, str) or s.p >= len(ar_part)) and (
                    isinstance(ma_part, str) or s.q >= len(ma_part)
                ):
                    patterns.append((ar_part, ma_part))
            for ar_part, ma_part in patterns:
                if (isinstance(ar_part, tuple) and not s.p) or (
                    isinstance(ma_part, tuple) and not s.q
                ):
                    continue
                u = self._pattern_start(bases, ar_part, ma_part)
                if u is not None and all(np.max(np.abs(u[:-1] - row[:-1])) > 0.05 for row in rows):
                    rows.append(u)
            U = np.array(rows)
            # sigma2 profiled out at each start (the patterns carry none of their own).
            _, log_s2 = self.core.screen_starts(U)
            U[np.isfinite(log_s2), -1] = log_s2[np.isfinite(log_s2)]
        # A run that reaches the neighbourhood of an optimum found from an earlier start is
        # stopped there (``_kalman.JOIN_RADIUS``): it would only converge to the same point.
        best = None
        optima: list[tuple[np.ndarray, float]] = []
        for u0 in U:
            u, f, iterations, status = self._minimize(
                Objective.MLE, u0, self.y, maxiter, gtol, self.central, optima
            )
            if status != Status.JOINED_KNOWN:
                optima.append((u, f))
            if best is None or f < best[1]:
                best = (u, f, iterations, status)
        # Every distinct optimum, best first, in reported units (auto_arima looks past the
        # best one when its roots are too close to the unit circle).
        self.optima = [self._reported(u) for u, _ in sorted(optima, key=lambda o: o[1])]
        u, f, iterations, status = best
        converged = status in _CONVERGED and f < 1e9
        return self._reported(u), converged, _STATUS[status], int(iterations)

    def _reported(self, u: np.ndarray) -> np.ndarray:
        """The optimiser's vector -> parameters in reported units."""
        s = self.spec
        beta, ar, ma, sar, sma, sigma2 = _kalman.unpack(u, self.k_x, s.p, s.q, s.P, s.Q)
        return self.from_scaled(np.concatenate([beta, ar, ma, sar, sma, [sigma2]]))

    def run_filter(self, params: np.ndarray) -> dict[str, Any]:
        """Loglik, one-step predictions and end state in reported units, from a filter run
        on the scaled series (the same model, since the prior variance is scaled too; in
        the units, the products of variances overflow or underflow float64 for series
        near the magnitude bounds)."""
        s = self.spec
        scale = self.scale
        beta, ar, ma, sar, sma, sigma2 = self.split(params)
        phi, theta = _kalman.expand_polys(
            *[np.ascontiguousarray(a, dtype=float) for a in (ar, ma, sar, sma)], s.m
        )
        T, R = _kalman.build_system(phi, theta, self.T_base, s.k_diff_states)
        unit_sigma2 = float(sigma2) / scale**2
        kappa = min(self.kappa, FILTER_KAPPA_MAX)
        P0 = _kalman.initial_cov(phi, theta, T.shape[0], s.k_diff_states, unit_sigma2, kappa)
        reg = self.data.X @ np.asarray(beta, dtype=float)
        w = (self.data.values - reg) / scale
        ll, n_used, pred, pred_var, a, P = _kalman.kalman_run(
            w, T, self.Z, R, unit_sigma2, P0, s.k_diff_states
        )
        return {
            "loglik": float(ll) - int(n_used) * math.log(scale),
            "n_used": int(n_used),
            "fitted": pred * scale + reg,
            "pred_var": pred_var * scale**2,
            "a": a * scale,
            "P": P * scale**2,
            "T": T,
            "R": R,
            "beta": beta,
            "sigma2": float(sigma2),
            "phi": phi,
            "theta": theta,
        }

    def hessian_cov(
        self, params: np.ndarray, loglik_fn: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of minus the central-difference Hessian in the scaled parameters, and
        each parameter's unit (reported = scaled * unit), kept apart because the product
        overflows for series beyond ~1e77 (sigma2's variance scales as ``scale**4``)."""
        scaled = self.to_scaled(params)
        f = loglik_fn or self.loglik_scaled
        k = scaled.shape[0]
        # The approximate diffuse prior makes the log-likelihood noisy at ~1e-8 (rounding
        # against kappa/sigma2 ~ 1e9 on seasonal models); a 2e-3 relative step keeps that
        # noise out of the second differences (checked against statsmodels' cov_type='approx').
        h = 2e-3 * np.maximum(np.abs(scaled), 0.05)
        H = np.empty((k, k))
        f0 = f(scaled)
        for i in range(k):
            for j in range(i, k):
                if i == j:
                    up = scaled.copy()
                    up[i] += h[i]
                    dn = scaled.copy()
                    dn[i] -= h[i]
                    H[i, i] = (f(up) - 2 * f0 + f(dn)) / h[i] ** 2
                    continue
                vals = []
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    x = scaled.copy()
                    x[i] += si * h[i]
                    x[j] += sj * h[j]
                    vals.append(f(x))
                H[i, j] = H[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (4 * h[i] * h[j])
        unit = np.ones(k)
        unit[: self.k_x] = self.scale / self.col_scale
        unit[-1] = self.scale**2
        with np.errstate(all="ignore"):
            try:
                cov = np.linalg.inv(-H) if np.isfinite(H).all() else np.full((k, k), np.nan)
            except np.linalg.LinAlgError:
                cov = np.full((k, k), np.nan)
        return cov, unit


def _wrap(values: np.ndarray, index: pd.Index | None, name: str) -> Any:
    if index is None:
        return values
    return pd.Series(values, index=index, name=name)


_FREQ_HINT = (
    "give the series' index a frequency (pd.DatetimeIndex(y.index, freq=...), e.g. a "
    "pandas CustomBusinessDay with the holidays for trading days) or fit its values alone"
)


def _future_index(index: pd.Index | None, h: int) -> pd.Index | None:
    return future_index(index, h, hint=_FREQ_HINT)


def _summary_scalar(value: float) -> str:
    return f"{value:.3f}" if np.isfinite(value) else "nan"


@dataclass(frozen=True, eq=False)
class ARIMAResult:
    """A fitted (or filtered) ARIMA model. Immutable; build it with ``ARIMA.fit``."""

    model: ARIMA
    params: pd.Series
    loglik: float
    sigma2: float
    nobs: int
    nobs_effective: int
    converged: bool
    message: str
    iterations: int
    method: str
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    trend: str
    _spec: _Spec = field(repr=False)
    _problem: _Problem = field(repr=False)
    _state_fn: Callable[[], dict[str, Any] | None] = field(repr=False)
    _cov_fn: Callable[[], tuple[np.ndarray, np.ndarray]] = field(repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def fitted(self) -> Any:
        """One-step-ahead predictions (Kalman filter; CSS: ``y - resid``)."""
        if "fitted" not in self._cache:
            data = self._problem.data
            if "resid" in self._cache:
                values = data.values - np.asarray(self._cache["resid"])
            else:
                values = self._filtered()["fitted"]
            self._cache["fitted"] = _wrap(values, data.index, data.name)
        return self._cache["fitted"]

    @property
    def resid(self) -> Any:
        """Residuals ``y - fitted`` (one-step prediction errors; CSS: its residuals)."""
        if "resid" not in self._cache:
            data = self._problem.data
            values = data.values - np.asarray(self.fitted)
            self._cache["resid"] = _wrap(values, data.index, data.name)
        return self._cache["resid"]

    def _scaled_cov(self) -> tuple[np.ndarray, np.ndarray]:
        if "scaled_cov" not in self._cache:
            self._cache["scaled_cov"] = self._cov_fn()
        return self._cache["scaled_cov"]

    @property
    def cov_params(self) -> pd.DataFrame:
        """Covariance of the estimates: the inverse of minus the numerical Hessian of the
        log-likelihood (computed on first use, then kept). Entries that overflow float64
        (sigma2's variance, for series beyond ~1e77 in magnitude) are inf; ``bse`` stays
        finite there."""
        if "cov" not in self._cache:
            names = list(self.params.index)
            cov, unit = self._scaled_cov()
            with np.errstate(over="ignore"):
                reported = cov * np.outer(unit, unit)
            self._cache["cov"] = pd.DataFrame(reported, index=names, columns=names)
        return self._cache["cov"]

    @property
    def bse(self) -> pd.Series:
        """Standard errors (NaN where the Hessian is not negative definite)."""
        cov, unit = self._scaled_cov()
        diag = np.diag(cov)
        return pd.Series(
            np.sqrt(np.where(diag > 0, diag, np.nan)) * unit, index=self.params.index, name="bse"
        )

    @property
    def k_params(self) -> int:
        """Number of estimated parameters, sigma2 included (statsmodels' ``df_model``)."""
        return int(self.params.shape[0])

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.k_params

    @property
    def aicc(self) -> float:
        k, n = self.k_params, self.nobs_effective
        if n - k - 1 <= 0:
            return math.inf
        return self.aic + 2.0 * k * (k + 1) / (n - k - 1)

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.k_params * math.log(self.nobs_effective)

    @property
    def label(self) -> str:
        return self._spec.label()

    def _future_exog(self, exog: Any, h: int, what: str = "exog") -> np.ndarray:
        data = self._problem.data
        n = data.values.shape[0]
        cols = [
            np.ones(h) if power == 0 else np.arange(n + 1.0, n + h + 1.0)
            for power in self._spec.trend_powers
        ]
        if data.k_exog:
            names = data.x_names[-data.k_exog :]
            cols.extend(check_future_exog(exog, h, data.k_exog, names, what).T)
        elif exog is not None:
            raise ValueError(f"this model was fitted without regressors; {what} must be None.")
        return np.column_stack(cols) if cols else np.zeros((h, 0))

    def _filtered(self) -> dict[str, Any]:
        """The full Kalman filter pass at ``params`` (run on first use, then kept)."""
        if "state" not in self._cache:
            self._cache["state"] = self._state_fn()
        if self._cache["state"] is None:
            raise ValueError(
                "this result has no state-space filter (the CSS AR part is not "
                "stationary), so it cannot forecast; refit with method='mle'."
            )
        return self._cache["state"]

    def forecast(
        self, h: int, level: Sequence[float] = (80, 95), exog: Any = None
    ) -> ARIMAForecast:
        """Forecasts for steps 1..h after the sample, with central prediction intervals.

        Kalman-filter prediction from the end-of-sample state (mean ``Z a``, variance
        ``Z P Z'``), as statsmodels' ``get_forecast``; checked against it in the tests.
        ``exog`` must give h future rows of the regressors when the model has any.
        ``h`` is at most ``seqlab._validation.MAX_HORIZON``; ``level`` holds percentages
        in [1, 100) (0.95 is refused with a hint that 95 was meant).
        """
        h = check_horizon(h)
        levels = check_levels(level)
        Xf = self._future_exog(exog, h)
        state = self._filtered()
        T, R, Z = state["T"], state["R"], self._problem.Z
        a, P = state["a"].copy(), state["P"].copy()
        Q = state["sigma2"] * np.outer(R, R)
        mean = np.empty(h)
        var = np.empty(h)
        for j in range(h):
            mean[j] = Z @ a
            var[j] = Z @ P @ Z
            a = T @ a
            P = T @ P @ T.T + Q
        mean += Xf @ np.asarray(state["beta"], dtype=float)
        if not np.isfinite(mean).all():
            raise ValueError(
                f"{self.label}: the forecast is not finite (it overflows within {h} steps); "
                "use a shorter horizon."
            )
        se = np.sqrt(np.maximum(var, 0.0))
        index = _future_index(self._problem.data.index, h)
        name = self._problem.data.name
        lower, upper = {}, {}
        for lv in levels:
            z = stats.norm.ppf(0.5 + lv / 200.0)
            lower[lv] = _wrap(mean - z * se, index, name)
            upper[lv] = _wrap(mean + z * se, index, name)
        return ARIMAForecast(_wrap(mean, index, name), _wrap(se, index, name), lower, upper)

    def save(self, path: str | os.PathLike) -> Path:
        """Write this result to the run folder ``path`` (JSON and safetensors, no pickle).

        The folder holds the orders, trend, parameters, sigma2, the fit's figures and
        the series (with its regressors and dates) that forecasting needs; see
        :mod:`seqlab.ts.runs`. Returns the folder.
        """
        from seqlab.ts.runs import save_arima

        return save_arima(self, path)

    @staticmethod
    def load(path: str | os.PathLike) -> ARIMAResult:
        """The result saved in the run folder ``path``; its forecasts equal the original's.

        A damaged or edited folder, or one holding an auto ARIMA result, is a
        ValueError naming the file and the value.
        """
        from seqlab.ts.runs import load_arima

        result = load_arima(path)
        if not isinstance(result, ARIMAResult):
            raise ValueError(
                f"{path}: holds an auto ARIMA result; load it with AutoARIMAResult.load "
                "or seqlab.ts.runs.load_arima."
            )
        return result

    def apply(self, y: Any, exog: Any = None) -> ARIMAResult:
        """This model with its parameters kept, on the series ``y`` (and regressors
        ``exog``, n rows): the Kalman filter runs on ``y`` and nothing is estimated
        (statsmodels' ``results.apply``). Its forecasts continue from the end of ``y``;
        on the fitted series they equal this result's."""
        return self.model.filter(y, self.params, exog)

    def simulate(self, n: int, seed: int | None = 0, exog: Any = None) -> Any:
        """One sample path of the next ``n`` values given the data (state drawn from its
        filtered distribution, then the state equation with Gaussian shocks)."""
        n = check_horizon(n, "n")
        Xf = self._future_exog(exog, n)
        state = self._filtered()
        rng = np.random.default_rng(seed)
        T, R, Z = state["T"], state["R"], self._problem.Z
        vals, vecs = np.linalg.eigh((state["P"] + state["P"].T) / 2)
        alpha = state["a"] + vecs @ (
            np.sqrt(np.clip(vals, 0, None)) * rng.standard_normal(vals.shape[0])
        )
        shocks = rng.standard_normal(n) * math.sqrt(state["sigma2"])
        out = np.empty(n)
        for t in range(n):
            out[t] = Z @ alpha
            alpha = T @ alpha + R * shocks[t]
        out += Xf @ np.asarray(state["beta"], dtype=float)
        return _wrap(out, _future_index(self._problem.data.index, n), self._problem.data.name)

    def summary(self) -> str:
        """A text table in the manner of statsmodels' ``summary()``."""
        width = 78
        method = {
            "css-mle": "CSS, then exact ML",
            "mle": "exact ML (Kalman filter)",
            "css": "conditional sum of squares",
            "fixed": "fixed parameters",
        }
        left = [
            ("Dep. variable:", self._problem.data.name),
            ("Model:", self.label),
            ("Trend:", self.trend),
            ("Method:", method.get(self.method, self.method)),
            ("Converged:", "yes" if self.converged else "NO"),
        ]
        right = [
            ("No. observations:", str(self.nobs)),
            ("Log likelihood:", _summary_scalar(self.loglik)),
            ("AIC:", _summary_scalar(self.aic)),
            ("AICc:", _summary_scalar(self.aicc)),
            ("BIC:", _summary_scalar(self.bic)),
        ]
        lines = [f"{'ARIMA results':^{width}}", "=" * width]
        for (lk, lv), (rk, rv) in zip(left, right, strict=True):
            lines.append(f"{lk:<16}{lv:>22}  {rk:<20}{rv:>18}")
        lines.append("=" * width)
        lines.append(
            f"{'':<12}{'coef':>11}{'std err':>11}{'z':>9}{'P>|z|':>9}{'[0.025':>13}{'0.975]':>13}"
        )
        lines.append("-" * width)
        zcrit = stats.norm.ppf(0.975)
        for name, coef in self.params.items():
            se = float(self.bse[name])
            z = coef / se if se > 0 else float("nan")
            pval = 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else float("nan")
            lines.append(
                f"{name:<12}{coef:>11.4g}{se:>11.4g}{z:>9.3f}{pval:>9.3f}"
                f"{coef - zcrit * se:>13.4g}{coef + zcrit * se:>13.4g}"
            )
        lines.append("=" * width)
        if not self.converged:
            lines.append(
                f"Warning: the optimiser did NOT converge ({self.message}, "
                f"{self.iterations} iterations); estimates and std errors may be unreliable."
            )
        if not np.isfinite(self.bse.to_numpy()).all():
            lines.append(
                "Warning: the Hessian is not negative definite here; some std errors "
                "are undefined (nan)."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# The result's deferred computations are module-level callables, not closures, so that
# a result pickles (for process, Dask and Ray workers).
@dataclass(frozen=True, eq=False)
class _StateFn:
    """The full Kalman filter pass at ``params``; None where the AR part is not
    stationary (a CSS estimate), which leaves the result without a forecast."""

    problem: _Problem
    params: np.ndarray
    stationary: bool = True

    def __call__(self) -> dict[str, Any] | None:
        return self.problem.run_filter(self.params) if self.stationary else None


@dataclass(frozen=True, eq=False)
class _CSSLoglik:
    """The conditional-sum-of-squares log-likelihood at scaled parameters (sigma2 last)."""

    problem: _Problem
    nu: int

    def __call__(self, scaled_params: np.ndarray) -> float:
        u = np.ascontiguousarray(scaled_params[:-1])
        mean_ssq = self.problem.core.value(Objective.CSS, u)
        s2 = scaled_params[-1]
        return -0.5 * self.nu * math.log(2 * math.pi * s2) - 0.5 * self.nu * mean_ssq / s2


@dataclass(frozen=True, eq=False)
class _CovFn:
    """The Hessian covariance at ``params`` (of ``loglik``, default the exact one)."""

    problem: _Problem
    params: np.ndarray
    loglik: _CSSLoglik | None = None

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        return self.problem.hessian_cov(self.params, self.loglik)


def _rebuilt(
    model: ARIMA, y: Any, exog: Any, params: pd.Series, fields: dict[str, Any]
) -> ARIMAResult:
    """A saved result back from its model, data, parameters and the fit's bookkeeping
    (``fields``: loglik, sigma2, nobs, nobs_effective, converged, message, iterations,
    method); the filter is rebuilt from the data, nothing is estimated."""
    spec = model._spec()
    method = fields["method"]
    data = model._prepare(spec, y, exog, "mle" if method == "fixed" else method)
    problem = _Problem(spec, data)
    if list(params.index) != problem.names:
        raise ValueError(
            f"the parameters are named {list(params.index)}, but {spec.label()} with "
            f"regressors {data.x_names} has {problem.names}."
        )
    values = params.to_numpy(dtype=np.float64)
    if not values[-1] > 0:
        raise ValueError(f"sigma2 must be positive, got {values[-1]}.")
    if method == "css":
        _, ar, _, sar, _, _ = problem.split(values)
        stationary = all(
            not c.size or np.isfinite(_kalman.coefs_to_pacf(np.asarray(c, dtype=float))).all()
            for c in (ar, sar)
        )
        raw = problem.to_scaled(values)[:-1]
        _, _, nu, resid = problem.css_sigma2_loglik(raw)
        state_fn = _StateFn(problem, values, stationary)
        cov_fn = _CovFn(problem, values, _CSSLoglik(problem, nu))
        cache = {"resid": _wrap(resid, data.index, data.name)}
    else:
        state_fn, cov_fn, cache = _StateFn(problem, values), _CovFn(problem, values), {}
    return _checked(
        ARIMAResult(
            params=pd.Series(values, index=problem.names, name="params"),
            _problem=problem,
            _state_fn=state_fn,
            _cov_fn=cov_fn,
            _cache=cache,
            **fields,
            **_common(model, spec),
        )
    )


def _trend_label(spec: _Spec) -> str:
    return {(): "n", (0,): "c", (1,): "t", (0, 1): "ct"}[spec.trend_powers]


def _common(model: ARIMA, spec: _Spec) -> dict[str, Any]:
    return {
        "model": model,
        "order": (spec.p, spec.d, spec.q),
        "seasonal_order": (spec.P, spec.D, spec.Q, spec.m),
        "trend": _trend_label(spec),
        "_spec": spec,
    }


def _mle_result(
    model: ARIMA,
    spec: _Spec,
    data: _Data,
    problem: _Problem,
    params: np.ndarray,
    method: str,
    converged: bool,
    message: str,
    iterations: int,
) -> ARIMAResult:
    names = problem.names
    if not converged:
        warnings.warn(
            f"{spec.label()}: the likelihood optimiser did not converge ({message}); "
            "see result.summary().",
            RuntimeWarning,
            stacklevel=3,
        )
    return ARIMAResult(
        params=pd.Series(params, index=names, name="params"),
        loglik=problem.loglik(params),
        sigma2=float(params[-1]),
        nobs=int(data.values.shape[0]),
        nobs_effective=int(data.values.shape[0] - spec.k_diff_states),
        converged=converged,
        message=message,
        iterations=iterations,
        method=method,
        _problem=problem,
        _state_fn=_StateFn(problem, params),
        _cov_fn=_CovFn(problem, params),
        **_common(model, spec),
    )


def _css_result(
    model: ARIMA,
    spec: _Spec,
    data: _Data,
    problem: _Problem,
    raw: np.ndarray,
    converged: bool,
    message: str,
    iterations: int,
) -> ARIMAResult:
    sigma2, loglik, nu, resid = problem.css_sigma2_loglik(raw)
    scaled = np.concatenate([raw, [sigma2 / problem.scale**2]])
    params = problem.from_scaled(scaled)
    _, ar, _, sar, _, _ = problem.split(params)
    stationary = all(
        not c.size or np.isfinite(_kalman.coefs_to_pacf(np.asarray(c, dtype=float))).all()
        for c in (ar, sar)
    )
    if not stationary:
        logger.warning("%s: the CSS estimate of the AR part is not stationary", spec.label())
    if not converged:
        warnings.warn(
            f"{spec.label()}: the CSS optimiser did not converge ({message}).",
            RuntimeWarning,
            stacklevel=3,
        )
    names = problem.names
    return ARIMAResult(
        params=pd.Series(params, index=names, name="params"),
        loglik=loglik,
        sigma2=sigma2,
        nobs=int(data.values.shape[0]),
        nobs_effective=nu,
        converged=converged,
        message=message,
        iterations=iterations,
        method="css",
        _problem=problem,
        _state_fn=_StateFn(problem, params, stationary),
        _cov_fn=_CovFn(problem, params, _CSSLoglik(problem, nu)),
        _cache={"resid": _wrap(resid, data.index, data.name)},
        **_common(model, spec),
    )

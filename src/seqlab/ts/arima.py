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

This module holds the model (:class:`ARIMA` and its order checks); the estimation
problem (starting values, the CSS and likelihood searches on the compiled core) is
``seqlab.ts._estimation``, and :class:`ARIMAResult` and :class:`ARIMAForecast` (fitted
models, forecasts, summaries) are defined in ``seqlab.ts._results`` and importable from
here.

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

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from seqlab._validation import (
    as_float_series,
    check_int,
    check_period,
    ordered_series,
)
from seqlab.ts import _kalman
from seqlab.ts._estimation import (
    FILTER_KAPPA_MAX,
    FTOL,
    FULL_ORDER_PATTERNS,
    KAPPA,
    START_PATTERNS,
    CSSStartError,
    _Data,
    _Problem,
    _Spec,
)
from seqlab.ts._exog import as_exog
from seqlab.ts._results import (
    ARIMAForecast,
    ARIMAResult,
    _checked,
    _css_result,
    _mle_result,
)

# seqlab.ts.runs rebuilds saved results through it, imported from here.
from seqlab.ts._results import _rebuilt as _rebuilt

__all__ = [
    "AR",
    "ARIMA",
    "ARMA",
    "FILTER_KAPPA_MAX",
    "FTOL",
    "FULL_ORDER_PATTERNS",
    "KAPPA",
    "MA",
    "START_PATTERNS",
    "ARIMAForecast",
    "ARIMAResult",
    "CSSStartError",
]

_METHODS = ("css-mle", "mle", "css")
_TRENDS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}
_TREND_NAMES = {0: "const", 1: "drift"}


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


def AR(p: int, **kwargs: Any) -> ARIMA:
    """AR(p): ``ARIMA(order=(p, 0, 0), **kwargs)``."""
    return ARIMA(order=(p, 0, 0), **kwargs)


def MA(q: int, **kwargs: Any) -> ARIMA:
    """MA(q): ``ARIMA(order=(0, 0, q), **kwargs)``."""
    return ARIMA(order=(0, 0, q), **kwargs)


def ARMA(p: int, q: int, **kwargs: Any) -> ARIMA:
    """ARMA(p, q): ``ARIMA(order=(p, 0, q), **kwargs)``."""
    return ARIMA(order=(p, 0, q), **kwargs)

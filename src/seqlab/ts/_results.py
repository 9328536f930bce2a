"""Fitted ARIMA models: :class:`ARIMAResult` (estimates, criteria, residuals, forecasts,
simulation, summary, run folders) and :class:`ARIMAForecast`, and how a result is built
from an estimation (``_mle_result``, ``_css_result``) or from a saved run (``_rebuilt``).

Both classes are public as ``seqlab.ts.arima.ARIMAResult`` and
``seqlab.ts.arima.ARIMAForecast`` (and from ``seqlab.ts``).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from seqlab._validation import (
    check_finite_estimates,
    check_horizon,
    check_levels,
    future_index,
)
from seqlab.ts import _kalman
from seqlab.ts._estimation import _Data, _Problem, _Spec
from seqlab.ts._exog import check_future_exog
from seqlab.ts._kalman import Objective

if TYPE_CHECKING:
    from seqlab.ts.arima import ARIMA

# The model's logger: one name for users (and auto_arima, which quiets it) to configure.
logger = logging.getLogger("seqlab.ts.arima")


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


def _checked(result: ARIMAResult) -> ARIMAResult:
    """``result``, unless its estimates or log-likelihood are not finite."""
    check_finite_estimates(
        [*result.params.to_numpy(), result.loglik],
        [*result.params.index, "loglik"],
        f"{result.label} fit",
    )
    return result


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

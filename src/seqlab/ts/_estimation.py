"""The ARIMA estimation problem: the model's structure, its data, and the optimiser's setup.

:class:`_Problem` holds one series scaled for the optimiser with the compiled core's
objectives on it (``seqlab.ts._kalman``, C++ sources in ``ts/_core/``): starting values
(least squares, Hannan-Rissanen, CSS, the start patterns), the CSS and exact-likelihood
searches, the end-of-sample filter and the Hessian covariance. The algorithm and its
reasons are in :mod:`seqlab.ts.arima`'s module docstring; the user-facing model is
:class:`seqlab.ts.arima.ARIMA`, and its results are built in ``seqlab.ts._results``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqlab.ts import _kalman
from seqlab.ts._kalman import Objective, Status

# The model's logger: one name for users (and auto_arima, which quiets it) to configure.
logger = logging.getLogger("seqlab.ts.arima")

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
class _Data:
    values: np.ndarray
    index: pd.Index | None
    name: str
    X: np.ndarray
    x_names: list[str]
    k_exog: int


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

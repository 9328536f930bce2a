"""Numba kernels for ARIMA estimation: the state-space Kalman filter and the CSS recursion.

State-space form (Harvey 1989, section 3.3; the layout of statsmodels' SARIMAX with
``simple_differencing=False``, so both give the same likelihood): the state is

    alpha_t = [integration states (d + D*m) | ARMA states (r = max(p + P*m, q + Q*m + 1))]

with ``y_t - x_t' beta = Z alpha_t`` (no measurement noise),
``alpha_{t+1} = T alpha_t + R eps_t``, ``eps_t ~ N(0, sigma2)``. The ARMA block of ``T`` is
a companion matrix with the expanded AR polynomial in its first column and ``R`` holds
``[1, theta_1, ..., theta_{r-1}]`` (expanded MA polynomial). The integration states start
from an approximate diffuse prior (mean 0, variance ``kappa`` = 1e6, as statsmodels and R's
``arima``); the ARMA block from its stationary covariance, which solves
``V = T V T' + R R'`` (found here by the doubling algorithm, Anderson & Moore 1979, equal to
the direct Lyapunov solve to rounding). The first ``burn = d + D*m`` observations, which
mostly pin down the diffuse states, are left out of the log-likelihood (statsmodels'
``loglikelihood_burn``). Missing values (NaN) skip the update step and add nothing.

Everything here is checked in ``tests/ts/test_arima.py`` against statsmodels' ARIMA
log-likelihood, forecasts and intervals at the same parameters.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOG_2PI = float(np.log(2.0 * np.pi))


@njit(cache=True)
def pacf_to_coefs(x):
    """Monahan (1984) / Jones (1980): unconstrained reals -> stationary AR coefficients.

    ``r_k = x_k / sqrt(1 + x_k^2)`` lies in (-1, 1) and is read as the k-th partial
    autocorrelation; the Durbin-Levinson recursion turns the partial autocorrelations into
    coefficients ``phi`` of ``1 - phi_1 L - ... - phi_p L^p``, whose roots are then outside
    the unit circle. Tested by a round trip with ``coefs_to_pacf``.
    """
    p = x.shape[0]
    phi = np.zeros(p)
    prev = np.zeros(p)
    for k in range(p):
        r = x[k] / np.sqrt(1.0 + x[k] * x[k])
        for i in range(k):
            prev[i] = phi[i]
        for i in range(k):
            phi[i] = prev[i] - r * prev[k - 1 - i]
        phi[k] = r
    return phi


@njit(cache=True)
def coefs_to_pacf(phi):
    """Inverse of ``pacf_to_coefs``: returns ``x`` or NaNs when ``phi`` is not stationary."""
    p = phi.shape[0]
    cur = phi.copy()
    x = np.empty(p)
    for k in range(p - 1, -1, -1):
        r = cur[k]
        if not abs(r) < 1.0:
            x[:] = np.nan
            return x
        x[k] = r / np.sqrt(1.0 - r * r)
        prev = np.empty(k)
        for i in range(k):
            prev[i] = (cur[i] + r * cur[k - 1 - i]) / (1.0 - r * r)
        cur = prev
    return x


@njit(cache=True)
def expand_polys(ar, ma, sar, sma, m):
    """Multiply out ``(1 - phi(L))(1 - Phi(L^m))`` and ``(1 + theta(L))(1 + Theta(L^m))``.

    Returns ``(phi_full, theta_full)`` with ``1 - sum phi_full[i] L^(i+1)`` and
    ``1 + sum theta_full[j] L^(j+1)``.
    """
    p, q, sp, sq = ar.shape[0], ma.shape[0], sar.shape[0], sma.shape[0]
    n_ar = p + sp * m
    n_ma = q + sq * m
    a = np.zeros(n_ar + 1)
    a[0] = 1.0
    for i in range(p):
        a[i + 1] = -ar[i]
    phi_full = np.zeros(n_ar)
    if sp > 0:
        seas = np.zeros(sp * m + 1)
        seas[0] = 1.0
        for i in range(sp):
            seas[(i + 1) * m] = -sar[i]
        prod = np.zeros(n_ar + 1)
        for i in range(p + 1):
            for j in range(sp * m + 1):
                prod[i + j] += a[i] * seas[j]
        a = prod
    for i in range(n_ar):
        phi_full[i] = -a[i + 1]
    b = np.zeros(n_ma + 1)
    b[0] = 1.0
    for i in range(q):
        b[i + 1] = ma[i]
    if sq > 0:
        seas = np.zeros(sq * m + 1)
        seas[0] = 1.0
        for i in range(sq):
            seas[(i + 1) * m] = sma[i]
        prod = np.zeros(n_ma + 1)
        for i in range(q + 1):
            for j in range(sq * m + 1):
                prod[i + j] += b[i] * seas[j]
        b = prod
    theta_full = np.zeros(n_ma)
    for i in range(n_ma):
        theta_full[i] = b[i + 1]
    return phi_full, theta_full


@njit(cache=True)
def stationary_cov(phi_full, theta_full, r):
    """Solve ``V = T V T' + R R'`` for the ARMA block by doubling: V = sum_j T^j RR' T'^j.

    Each pass squares ``A = T^(2^k)`` and adds ``A V A'``, so after k passes the sum holds
    2^k terms; it stops when ``A`` has vanished (|A| < 1e-16) or after 80 passes.
    """
    T = np.zeros((r, r))
    for i in range(phi_full.shape[0]):
        T[i, 0] = phi_full[i]
    for i in range(r - 1):
        T[i, i + 1] = 1.0
    R = np.zeros(r)
    R[0] = 1.0
    for j in range(theta_full.shape[0]):
        R[j + 1] = theta_full[j]
    V = np.outer(R, R)
    A = T
    for _ in range(80):
        V = V + A @ V @ A.T
        A = A @ A
        if np.max(np.abs(A)) < 1e-16:
            break
    return V


@njit(cache=True)
def build_system(phi_full, theta_full, T_base, k_diff_states):
    """Fill the ARMA parts of the transition ``T`` and selection ``R`` (see module doc)."""
    T = T_base.copy()
    k = T.shape[0]
    R = np.zeros(k)
    R[k_diff_states] = 1.0
    for i in range(phi_full.shape[0]):
        T[k_diff_states + i, k_diff_states] = phi_full[i]
    for j in range(theta_full.shape[0]):
        R[k_diff_states + 1 + j] = theta_full[j]
    return T, R


@njit(cache=True)
def initial_cov(phi_full, theta_full, k, k_diff_states, sigma2, kappa):
    r = k - k_diff_states
    P = np.zeros((k, k))
    for i in range(k_diff_states):
        P[i, i] = kappa
    V = stationary_cov(phi_full, theta_full, r)
    for i in range(r):
        for j in range(r):
            P[k_diff_states + i, k_diff_states + j] = sigma2 * V[i, j]
    return P


@njit(cache=True)
def kalman_loglik(w, T, Z, R, sigma2, P0, burn):
    """Gaussian log-likelihood of ``w = y - X beta`` by the Kalman filter (prior mean 0).

    Returns ``(loglik, n_used)``; observations before ``burn`` and NaNs are not counted.
    """
    k = T.shape[0]
    a = np.zeros(k)
    P = P0.copy()
    Q = sigma2 * np.outer(R, R)
    loglik = 0.0
    n_used = 0
    PZ = np.empty(k)
    for t in range(w.shape[0]):
        if not np.isnan(w[t]):
            v = w[t]
            for i in range(k):
                v -= Z[i] * a[i]
            F = 0.0
            for i in range(k):
                s = 0.0
                for j in range(k):
                    s += P[i, j] * Z[j]
                PZ[i] = s
                F += Z[i] * s
            if F <= 0.0:
                return -np.inf, n_used
            if t >= burn:
                loglik += -0.5 * (LOG_2PI + np.log(F) + v * v / F)
                n_used += 1
            for i in range(k):
                a[i] += PZ[i] * v / F
            for i in range(k):
                for j in range(k):
                    P[i, j] -= PZ[i] * PZ[j] / F
        a = T @ a
        P = T @ P @ T.T + Q
    return loglik, n_used


@njit(cache=True)
def kalman_run(w, T, Z, R, sigma2, P0, burn):
    """The full filter: log-likelihood, one-step predictions of ``w``, their variances,
    and the predicted state mean/covariance for the first period after the sample."""
    n = w.shape[0]
    k = T.shape[0]
    a = np.zeros(k)
    P = P0.copy()
    Q = sigma2 * np.outer(R, R)
    pred = np.empty(n)
    pred_var = np.empty(n)
    loglik = 0.0
    n_used = 0
    PZ = np.empty(k)
    for t in range(n):
        mean = 0.0
        for i in range(k):
            mean += Z[i] * a[i]
        F = 0.0
        for i in range(k):
            s = 0.0
            for j in range(k):
                s += P[i, j] * Z[j]
            PZ[i] = s
            F += Z[i] * s
        pred[t] = mean
        pred_var[t] = F
        if not np.isnan(w[t]) and F > 0.0:
            v = w[t] - mean
            if t >= burn:
                loglik += -0.5 * (LOG_2PI + np.log(F) + v * v / F)
                n_used += 1
            for i in range(k):
                a[i] += PZ[i] * v / F
            for i in range(k):
                for j in range(k):
                    P[i, j] -= PZ[i] * PZ[j] / F
        a = T @ a
        P = T @ P @ T.T + Q
    return loglik, n_used, pred, pred_var, a, P


@njit(cache=True)
def unpack(u, k_x, p, q, sp, sq):
    """Split an unconstrained vector into beta, AR, MA, seasonal AR, seasonal MA, sigma2.

    AR parts go through ``pacf_to_coefs``; MA parts through its negative (invertibility of
    ``1 + theta(L)`` is stationarity of ``1 - (-theta)(L)``); sigma2 is ``exp(u[-1])``.
    """
    o = 0
    beta = u[o : o + k_x].copy()
    o += k_x
    ar = pacf_to_coefs(u[o : o + p])
    o += p
    ma = -pacf_to_coefs(u[o : o + q])
    o += q
    sar = pacf_to_coefs(u[o : o + sp])
    o += sp
    sma = -pacf_to_coefs(u[o : o + sq])
    o += sq
    sigma2 = np.exp(u[o])
    return beta, ar, ma, sar, sma, sigma2


@njit(cache=True)
def remove_regression(y, X, beta):
    """``y - X beta`` by loops (numba's matmul rejects a zero-column ``X``)."""
    w = y.copy()
    for j in range(X.shape[1]):
        for t in range(y.shape[0]):
            w[t] -= X[t, j] * beta[j]
    return w


@njit(cache=True)
def loglik_params(beta, ar, ma, sar, sma, sigma2, y, X, m, T_base, Z, k_diff_states, kappa):
    """Exact log-likelihood at constrained parameters; returns ``(loglik, n_used)``."""
    phi_full, theta_full = expand_polys(ar, ma, sar, sma, m)
    T, R = build_system(phi_full, theta_full, T_base, k_diff_states)
    P0 = initial_cov(phi_full, theta_full, T.shape[0], k_diff_states, sigma2, kappa)
    w = remove_regression(y, X, beta)
    return kalman_loglik(w, T, Z, R, sigma2, P0, k_diff_states)


@njit(cache=True)
def _mle_value(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa):
    beta, ar, ma, sar, sma, sigma2 = unpack(u, X.shape[1], p, q, sp, sq)
    ll, n_used = loglik_params(
        beta, ar, ma, sar, sma, sigma2, y, X, m, T_base, Z, k_diff_states, kappa
    )
    if not np.isfinite(ll):
        return 1e10
    return -ll / max(n_used, 1)


@njit(cache=True)
def mle_objective(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa):
    """Mean negative log-likelihood over the unconstrained vector ``u`` and its gradient.

    The gradient is by central differences (step 1e-6 |u|-relative): 2 len(u) + 1 filter
    passes in one compiled call, which is cheaper than a Python round trip per pass.
    """
    f = _mle_value(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa)
    g = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        h = 1e-6 * max(abs(u[i]), 1.0)
        up = u.copy()
        up[i] += h
        dn = u.copy()
        dn[i] -= h
        fp = _mle_value(up, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa)
        fm = _mle_value(dn, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa)
        g[i] = (fp - fm) / (2.0 * h)
    return f, g


@njit(cache=True)
def difference(x, d, D, m):
    """Apply ``(1 - L)^d (1 - L^m)^D``; the output is ``d + D*m`` shorter."""
    out = x.copy()
    for _ in range(D):
        out = out[m:] - out[:-m]
    for _ in range(d):
        out = out[1:] - out[:-1]
    return out


@njit(cache=True)
def css_residuals(w, phi_full, theta_full):
    """Conditional residuals of the ARMA recursion on the differenced series ``w``.

    ``e_t = w_t - sum phi_i w_{t-i} - sum theta_j e_{t-j}`` for t >= len(phi_full), with
    earlier residuals taken as 0 (R's ``arima`` CSS, ``ARIMA_CSS`` in its C code).
    Returns residuals with the first ``len(phi_full)`` set to 0.
    """
    n = w.shape[0]
    ncond = phi_full.shape[0]
    e = np.zeros(n)
    for t in range(ncond, n):
        s = w[t]
        for i in range(phi_full.shape[0]):
            s -= phi_full[i] * w[t - 1 - i]
        for j in range(min(theta_full.shape[0], t - ncond)):
            s -= theta_full[j] * e[t - 1 - j]
        e[t] = s
    return e


@njit(cache=True)
def _css_value(u, y, X, p, q, sp, sq, m, d, D):
    k_x = X.shape[1]
    beta = u[:k_x]
    o = k_x
    ar = u[o : o + p]
    o += p
    ma = u[o : o + q]
    o += q
    sar = u[o : o + sp]
    o += sp
    sma = u[o : o + sq]
    phi_full, theta_full = expand_polys(ar, ma, sar, sma, m)
    w = difference(remove_regression(y, X, beta), d, D, m)
    e = css_residuals(w, phi_full, theta_full)
    ncond = phi_full.shape[0]
    ssq = 0.0
    for t in range(ncond, e.shape[0]):
        ssq += e[t] * e[t]
    if not np.isfinite(ssq):
        return 1e10
    return ssq / max(e.shape[0] - ncond, 1)


@njit(cache=True)
def css_objective(u, y, X, p, q, sp, sq, m, d, D):
    """Mean conditional sum of squares over raw coefficients ``u`` and its gradient
    (central differences, as ``mle_objective``)."""
    f = _css_value(u, y, X, p, q, sp, sq, m, d, D)
    g = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        h = 1e-6 * max(abs(u[i]), 1.0)
        up = u.copy()
        up[i] += h
        dn = u.copy()
        dn[i] -= h
        g[i] = (
            _css_value(up, y, X, p, q, sp, sq, m, d, D)
            - _css_value(dn, y, X, p, q, sp, sq, m, d, D)
        ) / (2.0 * h)
    return f, g

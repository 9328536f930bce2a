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
    A = T.copy()
    AV = np.empty((r, r))
    A2 = np.empty((r, r))
    for _ in range(80):
        # V <- V + A V A'; A <- A A (loops: BLAS calls cost more than these tiny products)
        for i in range(r):
            for j in range(r):
                acc = 0.0
                for c in range(r):
                    acc += A[i, c] * V[c, j]
                AV[i, j] = acc
        for i in range(r):
            for j in range(i, r):
                acc = 0.0
                for c in range(r):
                    acc += AV[i, c] * A[j, c]
                V[i, j] += acc
                if j != i:
                    V[j, i] += acc
        big = 0.0
        for i in range(r):
            for j in range(r):
                acc = 0.0
                for c in range(r):
                    acc += A[i, c] * A[c, j]
                A2[i, j] = acc
                big = max(big, abs(acc))
        for i in range(r):
            for j in range(r):
                A[i, j] = A2[i, j]
        if big < 1e-16:
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
def _sparse(T):
    """Row starts, column indices and values of T's non-zeros (CSR). ARIMA transitions
    have about 2k non-zeros of k^2, so the products below cost O(k^2), not O(k^3)."""
    k = T.shape[0]
    starts = np.zeros(k + 1, dtype=np.int64)
    cols = np.empty(k * k, dtype=np.int64)
    vals = np.empty(k * k)
    nnz = 0
    for i in range(k):
        for j in range(k):
            if T[i, j] != 0.0:
                cols[nnz] = j
                vals[nnz] = T[i, j]
                nnz += 1
        starts[i + 1] = nnz
    return starts, cols, vals


@njit(cache=True)
def _predict(a, P, starts, cols, vals, R, sigma2, a_tmp, TP):
    """In place: ``a <- T a``, ``P <- T P T' + sigma2 R R'`` with T in CSR form."""
    k = a.shape[0]
    for i in range(k):
        acc = 0.0
        for e in range(starts[i], starts[i + 1]):
            acc += vals[e] * a[cols[e]]
        a_tmp[i] = acc
    for i in range(k):
        a[i] = a_tmp[i]
    for i in range(k):
        for j in range(k):
            acc = 0.0
            for e in range(starts[i], starts[i + 1]):
                acc += vals[e] * P[cols[e], j]
            TP[i, j] = acc
    for i in range(k):
        for j in range(i, k):
            acc = 0.0
            for e in range(starts[j], starts[j + 1]):
                acc += TP[i, cols[e]] * vals[e]
            acc += sigma2 * R[i] * R[j]
            P[i, j] = acc
            P[j, i] = acc


@njit(cache=True)
def kalman_loglik(w, T, Z, R, sigma2, P0, burn):
    """Gaussian log-likelihood of ``w = y - X beta`` by the Kalman filter (prior mean 0).

    Returns ``(loglik, n_used, ssq)`` with ``ssq = sum v_t^2 / F_t``; observations before
    ``burn`` and NaNs are not counted. Same recursion as ``kalman_run`` (a test holds
    them equal), without per-step outputs, and with a steady-state shortcut: for a
    time-invariant model without missing values the predicted covariance converges
    (Harvey 1989, 3.3.4); once an update changes it by less than 1e-10 of its size, the
    gain and F are frozen and only the mean is filtered.
    """
    k = T.shape[0]
    n = w.shape[0]
    starts, cols, vals = _sparse(T)
    a = np.zeros(k)
    a_tmp = np.empty(k)
    TP = np.empty((k, k))
    P = P0.copy()
    P_prev = np.empty((k, k))
    loglik = 0.0
    n_used = 0
    PZ = np.empty(k)
    ssq = 0.0
    steady = False
    any_nan = False
    for t in range(n):
        if np.isnan(w[t]):
            any_nan = True
            break
    F = 1.0
    log_F = 0.0
    for t in range(n):
        if np.isnan(w[t]):
            _predict(a, P, starts, cols, vals, R, sigma2, a_tmp, TP)
            continue
        v = w[t]
        for i in range(k):
            v -= Z[i] * a[i]
        if not steady:
            F = 0.0
            for i in range(k):
                acc = 0.0
                for j in range(k):
                    acc += P[i, j] * Z[j]
                PZ[i] = acc
                F += Z[i] * acc
            if not F > 0.0:
                return -np.inf, n_used, np.inf
            log_F = np.log(F)
        if t >= burn:
            loglik += -0.5 * (LOG_2PI + log_F + v * v / F)
            ssq += v * v / F
            n_used += 1
        for i in range(k):
            a[i] += PZ[i] * v / F
        if steady:
            for i in range(k):
                acc = 0.0
                for e in range(starts[i], starts[i + 1]):
                    acc += vals[e] * a[cols[e]]
                a_tmp[i] = acc
            for i in range(k):
                a[i] = a_tmp[i]
            continue
        check = not any_nan and t > burn
        if check:
            for i in range(k):
                for j in range(k):
                    P_prev[i, j] = P[i, j]
        for i in range(k):
            for j in range(k):
                P[i, j] -= PZ[i] * PZ[j] / F
        _predict(a, P, starts, cols, vals, R, sigma2, a_tmp, TP)
        if check:
            diff = 0.0
            size = 0.0
            for i in range(k):
                for j in range(k):
                    diff = max(diff, abs(P[i, j] - P_prev[i, j]))
                    size = max(size, abs(P[i, j]))
            # Converging at rate rho, what is left to change is < 1e-10 / (1 - rho) relative:
            # < 1e-8 per observation in log F even for an MA root at 0.99.
            if diff <= 1e-10 * size:
                steady = True
    return loglik, n_used, ssq


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
    """Exact log-likelihood at constrained parameters: ``(loglik, n_used, ssq)``."""
    phi_full, theta_full = expand_polys(ar, ma, sar, sma, m)
    T, R = build_system(phi_full, theta_full, T_base, k_diff_states)
    P0 = initial_cov(phi_full, theta_full, T.shape[0], k_diff_states, sigma2, kappa)
    w = remove_regression(y, X, beta)
    return kalman_loglik(w, T, Z, R, sigma2, P0, k_diff_states)


@njit(cache=True)
def _mle_value(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa):
    beta, ar, ma, sar, sma, sigma2 = unpack(u, X.shape[1], p, q, sp, sq)
    ll, n_used, _ = loglik_params(
        beta, ar, ma, sar, sma, sigma2, y, X, m, T_base, Z, k_diff_states, kappa
    )
    if not np.isfinite(ll):
        return 1e10
    return -ll / max(n_used, 1)


@njit(cache=True)
def screen_starts(U, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa):
    """Profile log-likelihood at each candidate row of ``U`` (``unpack`` layout).

    With the prediction variances proportional to sigma2 (exact but for the fixed diffuse
    variance), ``loglik(s2) = ll0 - n/2 log(s2/s0) - ssq/2 (s0/s2 - 1)`` is maximised at
    ``s2 = s0 ssq / n``. Returns ``(profile loglik, log s2)`` per row: a cheap screen for
    starting values, not an estimate.
    """
    n_cand = U.shape[0]
    ll_out = np.full(n_cand, -np.inf)
    log_s2 = np.zeros(n_cand)
    for c in range(n_cand):
        beta, ar, ma, sar, sma, s0 = unpack(U[c], X.shape[1], p, q, sp, sq)
        ll, n_used, ssq = loglik_params(
            beta, ar, ma, sar, sma, s0, y, X, m, T_base, Z, k_diff_states, kappa
        )
        if np.isfinite(ll) and n_used > 0 and ssq > 0:
            ll_out[c] = ll - 0.5 * n_used * np.log(ssq / n_used) - 0.5 * (n_used - ssq)
            log_s2[c] = np.log(s0 * ssq / n_used)
    return ll_out, log_s2


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
def objective(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa):
    """kind 0: mean negative exact log-likelihood over the unconstrained vector ``u``
    (``unpack`` layout); kind 1: mean conditional sum of squares over raw coefficients."""
    if kind == 0:
        return _mle_value(u, y, X, p, q, sp, sq, m, T_base, Z, d + D * m, kappa)
    return _css_value(u, y, X, p, q, sp, sq, m, d, D)


@njit(cache=True)
def objective_grad(kind, u, f0, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central):
    """Finite-difference gradient of ``objective`` at ``u`` (where it equals ``f0``).

    Forward differences (step 1e-7 |u|-relative; error ~1e-7) where the likelihood is
    smooth to rounding, central ones (step 1e-5; error ~1e-10) where the approximate
    diffuse prior makes it noisy (kappa / sigma2 large: ``arima._Problem.central``)."""
    g = np.empty(u.shape[0])
    x = u.copy()
    for i in range(u.shape[0]):
        if central:
            h = 1e-5 * max(abs(u[i]), 1.0)
            x[i] = u[i] + h
            fp = objective(kind, x, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa)
            x[i] = u[i] - h
            fm = objective(kind, x, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa)
            g[i] = (fp - fm) / (2.0 * h)
        else:
            h = 1e-7 * max(abs(u[i]), 1.0)
            x[i] = u[i] + h
            fp = objective(kind, x, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa)
            g[i] = (fp - f0) / h
        x[i] = u[i]
    return g


@njit(cache=True)
def minimize_bfgs(
    kind, u0, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, maxiter, gtol, ftol, central
):
    """Minimise ``objective`` by BFGS with a backtracking (Armijo) line search.

    Nocedal & Wright (2006), Algorithm 6.1 with the initial inverse-Hessian scaling of
    eq. (6.20); the update is skipped when the curvature ``s'y`` is not positive. Running
    the whole search in one compiled call removes the per-iteration Python overhead that
    dominates for these small problems. Returns ``(u, f, iterations, status)``, status 0:
    gradient below ``gtol``; 1: the objective fell by less than ``ftol`` (relative) in two
    successive iterations, or no decrease was possible at a near-zero gradient;
    2: ``maxiter`` reached; 3: line search failed away from an optimum.
    """
    n = u0.shape[0]
    u = u0.copy()
    f = objective(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa)
    g = objective_grad(kind, u, f, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central)
    H = np.eye(n)
    first = True
    small = 0
    for it in range(maxiter):
        if np.max(np.abs(g)) < gtol:
            return u, f, it, 0
        direction = -(H @ g)
        slope = direction @ g
        if not slope < 0.0:
            H = np.eye(n)
            direction = -g.copy()
            slope = -(g @ g)
        step = 1.0
        if first:
            step = min(1.0, 1.0 / max(np.sqrt(g @ g), 1e-12))
        accepted = False
        for _ in range(60):
            trial = u + step * direction
            f_trial = objective(kind, trial, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa)
            if f_trial <= f + 1e-4 * step * slope:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            if not first:
                H = np.eye(n)
                first = True
                continue
            status = 1 if np.max(np.abs(g)) < 1e3 * gtol else 3
            return u, f, it, status
        g_trial = objective_grad(
            kind, trial, f_trial, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central
        )
        s = trial - u
        yv = g_trial - g
        sy = s @ yv
        if f - f_trial <= ftol * max(abs(f), 1.0):
            small += 1
        else:
            small = 0
        u = trial
        g = g_trial
        f_prev = f
        f = f_trial
        if small >= 2:
            return u, f, it + 1, 1
        if sy > 1e-12 * np.sqrt(s @ s) * np.sqrt(yv @ yv):
            if first:
                H = np.eye(n) * (sy / (yv @ yv))
                first = False
            rho = 1.0 / sy
            Hy = H @ yv
            yHy = yv @ Hy
            H = (
                H
                + ((sy + yHy) * rho * rho) * np.outer(s, s)
                - rho * (np.outer(Hy, s) + np.outer(s, Hy))
            )
        elif f_prev - f <= 0.0:
            H = np.eye(n)
            first = True
    return u, f, maxiter, 2

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
``V = T V T' + R R'`` (found here from the process's autocovariances, a small linear
system, then entry-wise recursions: ``stationary_cov_into``; equal to the direct Lyapunov
solve to rounding). The first ``burn = d + D*m`` observations, which
mostly pin down the diffuse states, are left out of the log-likelihood (statsmodels'
``loglikelihood_burn``). Missing values (NaN) skip the update step and add nothing.

Everything here is checked in ``tests/ts/test_arima.py`` against statsmodels' ARIMA
log-likelihood, forecasts and intervals at the same parameters.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqlab.ts._adjoint import (
    arma_filter_backward,
    difference_zero_start_adjoint,
    expand_polys_adjoint,
    pacf_to_coefs_adjoint,
    stationary_cov_adjoint,
)

LOG_2PI = float(np.log(2.0 * np.pi))
#: ``minimize_bfgs`` stops a run this close (max-norm, optimiser's scale) to a known optimum.
JOIN_RADIUS = 1e-2
#: Largest tape (numbers) of the adjoint gradient; beyond it, finite differences.
MAX_TAPE = 4_000_000


@njit(cache=True)
def pacf_to_coefs_into(x, phi, prev):
    """Monahan (1984) / Jones (1980): unconstrained reals -> stationary AR coefficients.

    ``r_k = x_k / sqrt(1 + x_k^2)`` lies in (-1, 1) and is read as the k-th partial
    autocorrelation; the Durbin-Levinson recursion turns the partial autocorrelations into
    coefficients ``phi`` of ``1 - phi_1 L - ... - phi_p L^p``, whose roots are then outside
    the unit circle. Writes ``phi`` (length p) using ``prev`` (length >= p) as scratch.
    Tested by a round trip with ``coefs_to_pacf``.
    """
    p = x.shape[0]
    for k in range(p):
        r = x[k] / np.sqrt(1.0 + x[k] * x[k])
        for i in range(k):
            prev[i] = phi[i]
        for i in range(k):
            phi[i] = prev[i] - r * prev[k - 1 - i]
        phi[k] = r


@njit(cache=True)
def pacf_to_coefs(x):
    """``pacf_to_coefs_into`` into new arrays."""
    phi = np.zeros(x.shape[0])
    pacf_to_coefs_into(x, phi, np.zeros(x.shape[0]))
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
def expand_polys_into(ar, ma, sar, sma, m, phi_full, theta_full):
    """Multiply out ``(1 - phi(L))(1 - Phi(L^m))`` and ``(1 + theta(L))(1 + Theta(L^m))``.

    Writes ``phi_full`` (length p + P*m) and ``theta_full`` (length q + Q*m) with
    ``1 - sum phi_full[i] L^(i+1)`` and ``1 + sum theta_full[j] L^(j+1)``: the product's
    coefficient at lag ``i + j*m`` collects ``a_i s_j`` of the two factors.
    """
    phi_full[:] = 0.0
    for i in range(ar.shape[0] + 1):
        a_i = 1.0 if i == 0 else -ar[i - 1]
        for j in range(sar.shape[0] + 1):
            s_j = 1.0 if j == 0 else -sar[j - 1]
            lag = i + j * m
            if lag > 0:
                phi_full[lag - 1] -= a_i * s_j
    theta_full[:] = 0.0
    for i in range(ma.shape[0] + 1):
        b_i = 1.0 if i == 0 else ma[i - 1]
        for j in range(sma.shape[0] + 1):
            s_j = 1.0 if j == 0 else sma[j - 1]
            lag = i + j * m
            if lag > 0:
                theta_full[lag - 1] += b_i * s_j


@njit(cache=True)
def expand_polys(ar, ma, sar, sma, m):
    """``expand_polys_into`` into new arrays: returns ``(phi_full, theta_full)``."""
    phi_full = np.zeros(ar.shape[0] + sar.shape[0] * m)
    theta_full = np.zeros(ma.shape[0] + sma.shape[0] * m)
    expand_polys_into(ar, ma, sar, sma, m, phi_full, theta_full)
    return phi_full, theta_full


@njit(cache=True)
def min_root_modulus(poly):
    """Smallest modulus of the roots of ``poly[0] + poly[1] z + ...`` (lowest power first,
    ``poly[0]`` non-zero), ignoring trailing coefficients below 1e-8; inf when none is
    left. The roots' reciprocals are the eigenvalues of the companion matrix of the
    reversed polynomial, so this is 1 / its spectral radius (compiled: ``np.roots`` costs
    ~100 us of Python per call, and ``auto_arima`` checks two polynomials per candidate)."""
    n = 0
    for i in range(1, poly.shape[0]):
        if abs(poly[i]) > 1e-8:
            n = i
    if n == 0:
        return np.inf
    C = np.zeros((n, n), dtype=np.complex128)
    for j in range(n):
        C[0, j] = -poly[j + 1] / poly[0]
    for i in range(1, n):
        C[i, i - 1] = 1.0
    radius = 0.0
    for lam in np.linalg.eigvals(C):
        radius = max(radius, abs(lam))
    return 1.0 / radius if radius > 0.0 else np.inf


@njit(cache=True)
def lu_factor_into(G, piv):
    """LU factorisation with partial pivoting of the square ``G`` in place (L unit lower,
    U upper; LAPACK's layout: row ``k`` was swapped with row ``piv[k]`` at step k).
    Returns False when a pivot vanishes (to the matrix's scale)."""
    n = G.shape[0]
    scale = 0.0
    for i in range(n):
        for j in range(n):
            scale = max(scale, abs(G[i, j]))
    for k in range(n):
        best = k
        for i in range(k + 1, n):
            if abs(G[i, k]) > abs(G[best, k]):
                best = i
        piv[k] = best
        if not abs(G[best, k]) > 1e-14 * scale:
            return False
        if best != k:
            for j in range(n):
                G[k, j], G[best, j] = G[best, j], G[k, j]
        inv = 1.0 / G[k, k]
        for i in range(k + 1, n):
            G[i, k] *= inv
            f = G[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    G[i, j] -= f * G[k, j]
    return True


@njit(cache=True)
def lu_solve_into(G, piv, x):
    """Solve ``G_original x = b`` in place (``x`` holds b) from ``lu_factor_into``."""
    n = G.shape[0]
    for k in range(n):
        x[k], x[piv[k]] = x[piv[k]], x[k]
    for i in range(n):
        acc = x[i]
        for j in range(i):
            acc -= G[i, j] * x[j]
        x[i] = acc
    for i in range(n - 1, -1, -1):
        acc = x[i]
        for j in range(i + 1, n):
            acc -= G[i, j] * x[j]
        x[i] = acc / G[i, i]


@njit(cache=True)
def stationary_cov_into(phi_full, theta_full, V, G, piv, vec, R):
    """Solve ``V = T V T' + R R'`` for the ARMA block (T the companion matrix with
    ``phi_full`` in its first column, ``R = [1, theta_full]``, both padded to r).

    In O(r^3 / 3) for one small linear solve plus O(r^2), where the Lyapunov equation
    itself is an r^2-unknown system (doubling costs several dense r x r products):
    1. the psi weights of the MA(infinity) form, psi_0..psi_{r-1};
    2. the autocovariances gamma_0..gamma_r of the ARMA process (unit noise variance) from
       the (r + 1)-equation system ``gamma_k - sum_j phi_j gamma_|k-j| = sum_{j>=k}
       theta_j psi_{j-k}`` (Brockwell & Davis 1991, sec. 3.3), LU with partial pivoting;
    3. the first row: state i is ``sum_j (phi_{i+j} y_{t-1-j} + theta_{i+j} e_{t-j})``, so
       ``V[0, k] = sum_j (phi_{k+j} gamma_{j+1} + theta_{k+j} psi_j)``;
    4. the other rows from the Lyapunov equation read entry by entry, ``V[i, k] = phi_i
       phi_k V[0, 0] + phi_i V[0, k+1] + phi_k V[0, i+1] + V[i+1, k+1] + R_i R_k``, from the
       bottom-right corner up.
    ``V`` (r x r) receives the result. Scratch: ``G`` ((r+1) square; keeps the LU factors),
    ``piv`` (r+1 ints), ``vec`` ((4, r+1): gamma, psi, right-hand side, spare) and ``R`` (r; keeps
    ``[1, theta]``); ``_adjoint.stationary_cov_adjoint`` reuses G, piv, vec and R. Returns
    False when the system is singular (an AR root on the unit circle). Equal to scipy's
    Lyapunov solve to rounding (``tests/ts/test_arima.py``).
    """
    r = V.shape[0]
    n_phi = phi_full.shape[0]
    gamma, psi, rhs = vec[0], vec[1], vec[2]
    R[:] = 0.0
    R[0] = 1.0
    for j in range(theta_full.shape[0]):
        R[j + 1] = theta_full[j]
    psi[0] = 1.0
    for j in range(1, r):
        acc = R[j]
        for k in range(1, min(j, n_phi) + 1):
            acc += phi_full[k - 1] * psi[j - k]
        psi[j] = acc
    for k in range(r + 1):
        acc = 0.0
        for j in range(k, r):
            acc += R[j] * psi[j - k]
        rhs[k] = acc
        for j in range(r + 1):
            G[k, j] = 0.0
    for k in range(r + 1):
        G[k, k] += 1.0
        for j in range(1, n_phi + 1):
            G[k, abs(k - j)] -= phi_full[j - 1]
    if not lu_factor_into(G, piv):
        return False
    for k in range(r + 1):
        gamma[k] = rhs[k]
    lu_solve_into(G, piv, gamma)
    for k in range(r):
        acc = 0.0
        for j in range(r - k):
            acc += R[k + j] * psi[j]
            if k + j < n_phi:
                acc += phi_full[k + j] * gamma[j + 1]
        V[0, k] = acc
    for i in range(r - 1, 0, -1):
        ph_i = phi_full[i] if i < n_phi else 0.0
        v_i = V[0, i + 1] if i + 1 < r else 0.0
        for k in range(r - 1, i - 1, -1):
            ph_k = phi_full[k] if k < n_phi else 0.0
            acc = ph_i * ph_k * V[0, 0] + ph_k * v_i + R[i] * R[k]
            if k + 1 < r:
                acc += ph_i * V[0, k + 1] + V[i + 1, k + 1]
            V[i, k] = acc
    for i in range(r):
        for k in range(i):
            V[i, k] = V[k, i]
    ok = True
    for i in range(r):
        if not (np.isfinite(V[i, i]) and V[i, i] >= 0.0):
            ok = False
    return ok


@njit(cache=True)
def build_system_into(phi_full, theta_full, T_base, k_diff_states, T, R):
    """Fill the transition ``T`` and selection ``R`` (see module doc) in place."""
    k = T.shape[0]
    for i in range(k):
        for j in range(k):
            T[i, j] = T_base[i, j]
    R[:] = 0.0
    R[k_diff_states] = 1.0
    for i in range(phi_full.shape[0]):
        T[k_diff_states + i, k_diff_states] = phi_full[i]
    for j in range(theta_full.shape[0]):
        R[k_diff_states + 1 + j] = theta_full[j]


@njit(cache=True)
def build_system(phi_full, theta_full, T_base, k_diff_states):
    """``build_system_into`` into new arrays: returns ``(T, R)``."""
    k = T_base.shape[0]
    T = np.empty((k, k))
    R = np.empty(k)
    build_system_into(phi_full, theta_full, T_base, k_diff_states, T, R)
    return T, R


@njit(cache=True)
def initial_cov_into(phi_full, theta_full, k_diff_states, sigma2, kappa, P, V, G, piv, vec, Rv):
    """Prior state covariance into ``P`` (k x k): ``kappa`` on the integration states,
    ``sigma2`` times the stationary ARMA covariance (``stationary_cov_into``, with ``V``,
    ``G``, ``piv``, ``vec``, ``Rv`` its buffers) on the ARMA block; NaN there when the AR
    part is not stationary."""
    k = P.shape[0]
    r = k - k_diff_states
    P[:, :] = 0.0
    for i in range(k_diff_states):
        P[i, i] = kappa
    if not stationary_cov_into(phi_full, theta_full, V, G, piv, vec, Rv):
        V[:, :] = np.nan
    for i in range(r):
        for j in range(r):
            P[k_diff_states + i, k_diff_states + j] = sigma2 * V[i, j]


@njit(cache=True)
def initial_cov(phi_full, theta_full, k, k_diff_states, sigma2, kappa):
    """``initial_cov_into`` into a new ``k x k`` array."""
    r = k - k_diff_states
    P = np.empty((k, k))
    initial_cov_into(
        phi_full,
        theta_full,
        k_diff_states,
        sigma2,
        kappa,
        P,
        np.empty((r, r)),
        np.empty((r + 1, r + 1)),
        np.empty(r + 1, dtype=np.int64),
        np.empty((4, r + 1)),
        np.empty(r),
    )
    return P


@njit(cache=True)
def _sparse_into(T, starts, cols, vals):
    """Row starts, column indices and values of T's non-zeros (CSR) into the given arrays
    (k + 1, k*k, k*k long). ARIMA transitions have about 2k non-zeros of k^2, so the
    products below cost O(k^2), not O(k^3)."""
    k = T.shape[0]
    starts[0] = 0
    nnz = 0
    for i in range(k):
        for j in range(k):
            if T[i, j] != 0.0:
                cols[nnz] = j
                vals[nnz] = T[i, j]
                nnz += 1
        starts[i + 1] = nnz


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
def filter_loglik(w, T, Z, R, sigma2, P, burn, starts, cols, vals, a, a_tmp, TP, PZ, TPZ):
    """Gaussian log-likelihood of ``w = y - X beta`` by the Kalman filter (prior mean 0).

    Returns ``(loglik, n_used, ssq)`` with ``ssq = sum v_t^2 / F_t``; observations before
    ``burn`` and NaNs are not counted. Same recursion as ``kalman_run`` (a test holds
    them equal), without per-step outputs, and with a steady-state shortcut: for a
    time-invariant model without missing values the predicted covariance converges
    (Harvey 1989, 3.3.4); once a step changes it by less than 1e-10 of its size, the
    gain and F are frozen and only the mean is filtered. ``P`` holds the prior covariance
    on entry and is overwritten; the other arrays are buffers (``make_workspace``).
    """
    k = T.shape[0]
    n = w.shape[0]
    _sparse_into(T, starts, cols, vals)
    a[:] = 0.0
    loglik = 0.0
    n_used = 0
    ssq = 0.0
    steady = False
    any_nan = False
    for t in range(n):
        if np.isnan(w[t]):
            any_nan = True
            break
    F = 1.0
    inv_F = 1.0
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
            inv_F = 1.0 / F
        if t >= burn:
            loglik += -0.5 * (LOG_2PI + log_F + v * v * inv_F)
            ssq += v * v * inv_F
            n_used += 1
        for i in range(k):
            a[i] += PZ[i] * v * inv_F
        if steady:
            for i in range(k):
                acc = 0.0
                for e in range(starts[i], starts[i + 1]):
                    acc += vals[e] * a[cols[e]]
                a_tmp[i] = acc
            for i in range(k):
                a[i] = a_tmp[i]
            continue
        # Predict in one pass over P: with TP = T (P - PZ PZ'/F) = T P - (T PZ) PZ'/F,
        # the next P is TP T' + sigma2 R R', written over P while its change is measured.
        for i in range(k):
            acc = 0.0
            acc_pz = 0.0
            for e in range(starts[i], starts[i + 1]):
                acc += vals[e] * a[cols[e]]
                acc_pz += vals[e] * PZ[cols[e]]
            a_tmp[i] = acc
            TPZ[i] = acc_pz * inv_F
        for i in range(k):
            a[i] = a_tmp[i]
        for i in range(k):
            for j in range(k):
                acc = 0.0
                for e in range(starts[i], starts[i + 1]):
                    acc += vals[e] * P[cols[e], j]
                TP[i, j] = acc - TPZ[i] * PZ[j]
        diff = 0.0
        size = 0.0
        for i in range(k):
            for j in range(i, k):
                acc = sigma2 * R[i] * R[j]
                for e in range(starts[j], starts[j + 1]):
                    acc += TP[i, cols[e]] * vals[e]
                diff = max(diff, abs(acc - P[i, j]))
                size = max(size, abs(acc))
                P[i, j] = acc
                P[j, i] = acc
        # Converging at rate rho, what is left to change is < 1e-10 / (1 - rho) relative:
        # < 1e-8 per observation in log F even for an MA root at 0.99.
        if not any_nan and t > burn and diff <= 1e-10 * size:
            steady = True
    return loglik, n_used, ssq


@njit(cache=True)
def diffuse_loadings(T_base, Z, d, D, m):
    """How the integration states' prior reaches the differenced series.

    Differencing ``y`` with zero pre-sample values (``difference_zero_start``) gives
    ``w_t = u_t + E_t x_0``: ``u`` the ARMA process, ``x_0`` the prior integration states
    (variance ``kappa`` each), and ``E_t`` zero from ``t = d + D*m`` on, because the
    differencing annihilates the integration states' homogeneous part. Returns ``E``
    (``d + D*m`` rows, one column per integration state): the rows of ``Z' T^t`` restricted
    to the integration states, differenced the same way. ``tests/ts/test_arima.py`` holds
    the filter built on this equal to the full state-space filter.
    """
    kd = d + D * m
    C = np.zeros((kd, kd))
    M = np.eye(kd)
    T_diff = np.ascontiguousarray(T_base[:kd, :kd])
    for t in range(kd):
        for j in range(kd):
            acc = 0.0
            for i in range(kd):
                acc += Z[i] * M[i, j]
            C[t, j] = acc
        M = T_diff @ M
    for j in range(kd):
        difference_zero_start(C[:, j], d, D, m)
    return C


@njit(cache=True)
def difference_zero_start(x, d, D, m):
    """Apply ``(1 - L)^d (1 - L^m)^D`` to ``x`` in place, taking values before the sample as
    zero (so the length is kept and the map has determinant 1)."""
    n = x.shape[0]
    for _ in range(D):
        for t in range(n - 1, m - 1, -1):
            x[t] -= x[t - m]
    for _ in range(d):
        for t in range(n - 1, 0, -1):
            x[t] -= x[t - 1]


@njit(cache=True)
def arma_filter_loglik(
    w, phi, R, sigma2, V, E, kappa, P, Pn, a, a_new, PZ, tape_P, tape_PZ, tape_s
):
    """The exact log-likelihood of ``filter_loglik``, computed on the differenced series.

    ``w`` is ``y - X beta`` differenced with zero pre-sample values, so ``w_t = u_t + E_t
    x_0`` (``diffuse_loadings``). The state is the ARMA block (``r`` states, companion
    transition with ``phi`` (length r, zero-padded) in its first column and ``R`` =
    ``[1, theta...]``), augmented by ``x_0`` (prior variance ``kappa``, constant) only while
    ``E_t`` is non-zero, i.e. the first ``burn = len(E)`` observations; after them ``x_0`` no
    longer reaches the data and is dropped. This is the same Gaussian model as statsmodels'
    state-space differencing with an approximate diffuse prior, so the log-likelihood is the
    same, but each step costs O(r^2) with no sparse indexing instead of O((r + d + D*m)^2):
    2-3x less for the orders ``auto_arima`` visits. Same steady-state shortcut as
    ``filter_loglik``. ``P``, ``Pn`` are (r + d + D*m + 1) square buffers, ``a``, ``a_new``,
    ``PZ`` that long. Returns ``(loglik, n_used, ssq, t_steady)``, ``t_steady`` the
    step after which the steady-state shortcut took over (-1: never); ``w`` must have no NaN.

    When ``tape_s`` has rows, the pass records what ``_adjoint.arma_filter_backward`` needs
    to differentiate it: ``P`` before each step that updates it (``tape_P[t]``, where the
    pass keeps its covariance instead of in ``P``, ``Pn``), ``PZ`` of the first ``burn``
    steps (``tape_PZ[t]``), and ``(v, F, a0)`` of every step (``tape_s[t]``; ``a0`` the
    updated first state, which the companion column multiplies). After the burn-in only
    the upper triangle of ``P`` is kept, and read.
    """
    record = tape_s.shape[0] > 0
    r = V.shape[0]
    burn = E.shape[0]
    kd = E.shape[1]
    dim = r + kd if burn > 0 else r
    n = w.shape[0]
    # Recording, each step writes its covariance straight into the next tape slot, so the
    # tape costs no copies; otherwise P and Pn alternate. ``spare`` takes the update after
    # the last recorded step.
    spare = Pn
    if record and n > 0:
        P = tape_P[0]
    for i in range(dim):
        a[i] = 0.0
        for j in range(dim):
            P[i, j] = 0.0
    for i in range(r):
        for j in range(r):
            P[i, j] = sigma2 * V[i, j]
    for j in range(kd):
        P[r + j, r + j] = kappa
    for t in range(min(burn, n)):
        # The first ``burn`` observations (not in the log-likelihood) with x_0 in the state.
        v = w[t] - a[0]
        for j in range(kd):
            v -= E[t, j] * a[r + j]
        for i in range(dim):
            acc = P[i, 0]
            for j in range(kd):
                acc += P[i, r + j] * E[t, j]
            PZ[i] = acc
        F = PZ[0]
        for j in range(kd):
            F += E[t, j] * PZ[r + j]
        if not F > 0.0:
            return -np.inf, 0, np.inf, -1
        inv_F = 1.0 / F
        for i in range(dim):
            a[i] += PZ[i] * v * inv_F
        if record:
            Pn = tape_P[t + 1] if t + 1 < n else spare
            tape_PZ[t, :dim] = PZ[:dim]
            tape_s[t, 0] = v
            tape_s[t, 1] = F
            tape_s[t, 2] = a[0]
        # a <- T a: companion on the ARMA block, x_0 constant.
        for i in range(r):
            a_new[i] = phi[i] * a[0] + (a[i + 1] if i + 1 < r else 0.0)
        for i in range(r):
            a[i] = a_new[i]
        # P_next = T (P - PZ PZ'/F) T' + sigma2 R R', written to Pn from the updated
        # entries U[i, j] = P[i, j] - PZ[i] PZ[j] / F. With T's companion block,
        # (T U T')[i, j] = phi_i phi_j U00 + phi_i U[0, j+1] + phi_j U[i+1, 0] + U[i+1, j+1].
        u00 = P[0, 0] - PZ[0] * PZ[0] * inv_F
        for i in range(r):
            u_i0 = P[i + 1, 0] - PZ[i + 1] * PZ[0] * inv_F if i + 1 < r else 0.0
            for j in range(i, r):
                acc = phi[i] * phi[j] * u00 + sigma2 * R[i] * R[j]
                if j + 1 < r:
                    acc += phi[i] * (P[0, j + 1] - PZ[0] * PZ[j + 1] * inv_F)
                    if i + 1 < r:
                        acc += P[i + 1, j + 1] - PZ[i + 1] * PZ[j + 1] * inv_F
                acc += phi[j] * u_i0
                Pn[i, j] = acc
                Pn[j, i] = acc
        for c in range(r, dim):
            # Cross terms with x_0 (T acts on the ARMA side only) and x_0's own block.
            u0c = P[0, c] - PZ[0] * PZ[c] * inv_F
            for i in range(r):
                acc = phi[i] * u0c
                if i + 1 < r:
                    acc += P[i + 1, c] - PZ[i + 1] * PZ[c] * inv_F
                Pn[i, c] = acc
                Pn[c, i] = acc
            for c2 in range(r, dim):
                Pn[c, c2] = P[c, c2] - PZ[c] * PZ[c2] * inv_F
        P, Pn = Pn, P
        if record:
            Pn = spare
    # From here on x_0 no longer reaches the data and is dropped. Row and column r become a
    # zero pad (as do a[r] and PZ[r]), so the loops below need no bounds tests.
    for i in range(r + 1):
        P[r, i] = 0.0
        P[i, r] = 0.0
        Pn[r, i] = 0.0
        Pn[i, r] = 0.0
    a[r] = 0.0
    PZ[r] = 0.0
    loglik = 0.0
    n_used = 0
    ssq = 0.0
    steady = False
    t_steady = -1
    F = 1.0
    inv_F = 1.0
    log_F = 0.0
    for t in range(burn, n):
        v = w[t] - a[0]
        if not steady:
            for i in range(r):
                PZ[i] = P[0, i]
            F = PZ[0]
            if not F > 0.0:
                return -np.inf, n_used, np.inf, -1
            log_F = np.log(F)
            inv_F = 1.0 / F
        loglik += -0.5 * (LOG_2PI + log_F + v * v * inv_F)
        ssq += v * v * inv_F
        n_used += 1
        # a <- T (a + PZ v / F)
        gain_v = v * inv_F
        a0 = a[0] + PZ[0] * gain_v
        if record:
            tape_s[t, 0] = v
            tape_s[t, 1] = F
            tape_s[t, 2] = a0
        for i in range(r):
            a_new[i] = phi[i] * a0 + a[i + 1] + PZ[i + 1] * gain_v
        for i in range(r):
            a[i] = a_new[i]
        if steady or t == n - 1:
            continue
        if record:
            Pn = tape_P[t + 1]
        # As above, with U = P - PZ PZ' / F. Here Z = e_0, so PZ = P[:, 0] and F = P[0, 0]:
        # U's first row and column vanish (state 0 has just been observed exactly) and the
        # AR column of T drops out: P_next[i, j] = U[i + 1, j + 1] + sigma2 R_i R_j. Only
        # the upper triangle is kept (and read, PZ from the first row).
        diff = 0.0
        size = 0.0
        for i in range(r):
            g_i = PZ[i + 1] * inv_F
            s_r = sigma2 * R[i]
            for j in range(i, r):
                acc = P[i + 1, j + 1] - g_i * PZ[j + 1] + s_r * R[j]
                Pn[i, j] = acc
                diff = max(diff, abs(acc - P[i, j]))
                size = max(size, abs(acc))
        for i in range(r + 1):
            # the zero pad (a tape slot may hold x_0's terms from an earlier pass)
            Pn[i, r] = 0.0
        P, Pn = Pn, P
        # As in filter_loglik: the change left is < 1e-8 per observation in log F.
        if diff <= 1e-10 * size:
            steady = True
            t_steady = t
    return loglik, n_used, ssq, t_steady


@njit(cache=True)
def kalman_loglik(w, T, Z, R, sigma2, P0, burn):
    """``filter_loglik`` with its own buffers, leaving ``P0`` untouched."""
    k = T.shape[0]
    return filter_loglik(
        w,
        T,
        Z,
        R,
        sigma2,
        P0.copy(),
        burn,
        np.empty(k + 1, dtype=np.int64),
        np.empty(k * k, dtype=np.int64),
        np.empty(k * k),
        np.empty(k),
        np.empty(k),
        np.empty((k, k)),
        np.empty(k),
        np.empty(k),
    )


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
def remove_regression_into(y, X, beta, w):
    """``w = y - X beta`` by loops (numba's matmul rejects a zero-column ``X``)."""
    for t in range(y.shape[0]):
        w[t] = y[t]
    for j in range(X.shape[1]):
        for t in range(y.shape[0]):
            w[t] -= X[t, j] * beta[j]


@njit(cache=True)
def remove_regression(y, X, beta):
    """``remove_regression_into`` into a new array."""
    w = np.empty(y.shape[0])
    remove_regression_into(y, X, beta, w)
    return w


@njit(cache=True)
def loglik_params(beta, ar, ma, sar, sma, sigma2, y, X, m, T_base, Z, d, D, kappa):
    """Exact log-likelihood at constrained parameters: ``(loglik, n_used, ssq)``. A series
    without NaN goes through the optimiser's filter on the differenced series
    (``arma_filter_loglik``, a fraction of the cost), others through the full state-space
    filter; both compute the same likelihood."""
    phi_full, theta_full = expand_polys(ar, ma, sar, sma, m)
    k_diff_states = d + D * m
    if not _has_nan(y):
        k = T_base.shape[0]
        r = k - k_diff_states
        V = np.empty((r, r))
        Rv = np.empty(r)
        ok = stationary_cov_into(
            phi_full, theta_full, V, np.empty((r + 1, r + 1)), np.empty(r + 1, dtype=np.int64),
            np.empty((4, r + 1)), Rv,
        )  # fmt: skip
        if not ok:
            return -np.inf, 0, np.inf
        phi_padded = np.zeros(r)
        phi_padded[: phi_full.shape[0]] = phi_full
        w = remove_regression(y, X, beta)
        difference_zero_start(w, d, D, m)
        E = diffuse_loadings(T_base, Z, d, D, m)
        ll, n_used, ssq, _ = arma_filter_loglik(
            w, phi_padded, Rv, sigma2, V, E, kappa, np.empty((k + 1, k + 1)),
            np.empty((k + 1, k + 1)), np.empty(k + 1), np.empty(k + 1), np.empty(k + 1),
            np.empty((0, k + 1, k + 1)), np.empty((0, k + 1)), np.empty((0, 3)),
        )  # fmt: skip
        return ll, n_used, ssq
    T, R = build_system(phi_full, theta_full, T_base, k_diff_states)
    P0 = initial_cov(phi_full, theta_full, T.shape[0], k_diff_states, sigma2, kappa)
    w = remove_regression(y, X, beta)
    return kalman_loglik(w, T, Z, R, sigma2, P0, k_diff_states)


@njit(cache=True)
def make_workspace(n, T_base, Z, d, D, p, q, sp, sq, m, tape):
    """Every buffer one likelihood or CSS evaluation needs, allocated once per optimisation.

    An evaluation of a short series costs a few microseconds; allocating its ~30 small
    arrays each time took about half of that (measured on M3 monthly series), so the
    optimiser and the start screen pass one workspace to every evaluation instead.
    Unpacked (in this order) by ``_mle_value_ws`` and ``_css_value_ws``. With ``tape``,
    also the tape and buffers of the adjoint gradient (``_mle_value_grad_ws``), unless the
    tape would exceed ``MAX_TAPE`` numbers (then the gradient is by finite differences).
    """
    k = T_base.shape[0]
    r = k - d - D * m
    n_coef = p + q + sp + sq
    phi_padded = np.zeros(r)
    n_tape = n if tape and n * (k + 1) * (k + 1) <= MAX_TAPE else 0
    pm = max(p, q, sp, sq, 1)
    return (
        np.empty(n),  # w: y - X beta (differenced in place for CSS)
        np.empty(n_coef),  # ar, ma, sar, sma coefficients
        np.empty(max(n_coef, 1)),  # scratch of pacf_to_coefs_into
        np.empty(p + sp * m),  # phi_full
        np.empty(q + sq * m),  # theta_full
        np.empty((k, k)),  # T
        np.empty(k),  # R
        np.empty((k, k)),  # P
        np.empty((r, r)),  # V, G, piv, vec of stationary_cov_into
        np.empty((r + 1, r + 1)),
        np.empty(r + 1, dtype=np.int64),
        np.empty((4, r + 1)),
        np.empty(r),  # its R
        np.empty(k + 1, dtype=np.int64),  # CSR form of T
        np.empty(k * k, dtype=np.int64),
        np.empty(k * k),
        np.empty(k),  # a, a_tmp, PZ, TPZ, TP of filter_loglik
        np.empty(k),
        np.empty(k),
        np.empty(k),
        np.empty((k, k)),
        np.empty(n),  # CSS residuals
        diffuse_loadings(T_base, Z, d, D, m),  # E of arma_filter_loglik
        phi_padded,  # phi_full padded to r
        np.array([d, D]),
        np.empty((k + 1, k + 1)),  # P, Pn, a, a_new, PZ of arma_filter_loglik
        np.empty((k + 1, k + 1)),
        np.empty(k + 1),
        np.empty(k + 1),
        np.empty(k + 1),
        np.empty((n_tape, k + 1, k + 1)),  # tape_P, tape_PZ, tape_s of arma_filter_loglik
        np.empty((min(n_tape, d + D * m), k + 1)),
        np.empty((n_tape, 3)),
        np.empty((k + 1, k + 1)),  # S, Pbar, Ubar of arma_filter_backward
        np.empty((k + 1, k + 1)),
        np.empty((k + 1, k + 1)),
        np.empty(k + 1),  # abar, ap, PZbar, acc_PZ
        np.empty(k + 1),
        np.empty(k + 1),
        np.empty(k + 1),
        np.empty((r, r)),  # V_bar, W
        np.empty((r, r)),
        np.empty(r),  # phi_bar, R_bar
        np.empty(r),
        np.empty(n),  # w_bar
        np.empty(max(n_coef, 1)),  # coef_bar, x_bar, pacf stages
        np.empty(max(n_coef, 1)),
        np.empty((pm, pm)),
        np.empty(p + sp * m),  # phi_full_bar, theta_full_bar
        np.empty(q + sq * m),
        np.empty(n),  # e_bar of _css_value_grad_ws
        np.zeros(4),  # what _mle_backward_ws needs of the last recorded evaluation
    )


@njit(cache=True)
def _unpack_ws(u, k_x, p, q, sp, sq, coefs, scratch):
    """``unpack`` into the workspace: returns views (ar, ma, sar, sma) of ``coefs``, sigma2."""
    o = k_x
    ar = coefs[0:p]
    pacf_to_coefs_into(u[o : o + p], ar, scratch)
    o += p
    ma = coefs[p : p + q]
    pacf_to_coefs_into(u[o : o + q], ma, scratch)
    for i in range(q):
        ma[i] = -ma[i]
    o += q
    sar = coefs[p + q : p + q + sp]
    pacf_to_coefs_into(u[o : o + sp], sar, scratch)
    o += sp
    sma = coefs[p + q + sp : p + q + sp + sq]
    pacf_to_coefs_into(u[o : o + sq], sma, scratch)
    for i in range(sq):
        sma[i] = -sma[i]
    o += sq
    return ar, ma, sar, sma, np.exp(u[o])


@njit(cache=True)
def _has_nan(y):
    for t in range(y.shape[0]):
        if np.isnan(y[t]):
            return True
    return False


@njit(cache=True)
def _loglik_ws(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa, ws, record):
    """``loglik_params`` at the unconstrained ``u`` with the workspace's buffers; returns
    ``(loglik, n_used, ssq, sigma2, t_steady)``. ``record``: fill the workspace's tape for
    the adjoint gradient (series without NaN only)."""
    (w, coefs, scratch, phi_full, theta_full, T, R, P, V, G, piv, vec, Rv) = ws[:13]
    (starts, cols, vals, a, a_tmp, PZ, TPZ, TP) = ws[13:21]
    E, phi_padded, dD = ws[22], ws[23], ws[24]
    (P_arma, Pn_arma, a_arma, a_new, PZ_arma) = ws[25:30]
    tape_P, tape_PZ, tape_s = ws[30], ws[31], ws[32]
    ar, ma, sar, sma, sigma2 = _unpack_ws(u, X.shape[1], p, q, sp, sq, coefs, scratch)
    expand_polys_into(ar, ma, sar, sma, m, phi_full, theta_full)
    if not _has_nan(y):
        # The same likelihood on the differenced series, at a fraction of the cost.
        if not stationary_cov_into(phi_full, theta_full, V, G, piv, vec, Rv):
            return -np.inf, 0, np.inf, sigma2, -1
        phi_padded[: phi_full.shape[0]] = phi_full
        remove_regression_into(y, X, u[: X.shape[1]], w)
        difference_zero_start(w, dD[0], dD[1], m)
        if not record:
            tape_P, tape_PZ, tape_s = tape_P[:0], tape_PZ[:0], tape_s[:0]
        ll, n_used, ssq, t_steady = arma_filter_loglik(
            w, phi_padded, Rv, sigma2, V, E, kappa, P_arma, Pn_arma, a_arma, a_new, PZ_arma,
            tape_P, tape_PZ, tape_s,
        )  # fmt: skip
        return ll, n_used, ssq, sigma2, t_steady
    build_system_into(phi_full, theta_full, T_base, k_diff_states, T, R)
    initial_cov_into(phi_full, theta_full, k_diff_states, sigma2, kappa, P, V, G, piv, vec, Rv)
    remove_regression_into(y, X, u[: X.shape[1]], w)
    ll, n_used, ssq = filter_loglik(
        w, T, Z, R, sigma2, P, k_diff_states, starts, cols, vals, a, a_tmp, TP, PZ, TPZ
    )
    return ll, n_used, ssq, sigma2, -1


@njit(cache=True)
def _mle_value_ws(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa, ws, record=False):
    """Mean negative exact log-likelihood at ``u``. With ``record``, the pass also fills
    the workspace's tape (and ``ws[51]``: loglik, n_used, sigma2, t_steady) for
    ``_mle_backward_ws``."""
    ll, n_used, _, sigma2, t_steady = _loglik_ws(
        u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa, ws, record
    )
    if record:
        last = ws[51]
        last[0] = ll
        last[1] = n_used
        last[2] = sigma2
        last[3] = t_steady
    if not np.isfinite(ll):
        return 1e10
    return -ll / max(n_used, 1)


@njit(cache=True)
def _mle_value_grad_ws(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa, ws, g):
    """``_mle_value_ws`` and its exact gradient (into ``g``) by one taped forward and one
    backward pass (``seqlab.ts._adjoint``). The workspace must hold a tape and ``y`` no NaN.
    """
    f = _mle_value_ws(u, y, X, p, q, sp, sq, m, T_base, Z, k_diff_states, kappa, ws, True)
    _mle_backward_ws(u, y, X, p, q, sp, sq, m, k_diff_states, ws, g)
    return f


@njit(cache=True)
def _mle_backward_ws(u, y, X, p, q, sp, sq, m, k_diff_states, ws, g):
    """The gradient (into ``g``) of the objective at ``u`` from the tape that the last
    ``_mle_value_ws(..., record=True)`` call, which must have been at ``u``, left in ``ws``."""
    last = ws[51]
    ll, n_used, sigma2, t_steady = last[0], int(last[1]), last[2], int(last[3])
    if not np.isfinite(ll):
        g[:] = 0.0
        return
    coefs, V, G, piv, vec, Rv = ws[1], ws[8], ws[9], ws[10], ws[11], ws[12]
    E, phi_padded = ws[22], ws[23]
    tape_P, tape_PZ, tape_s = ws[30], ws[31], ws[32]
    S, Pbar, Ubar, abar, ap, PZbar, acc_PZ = ws[33:40]
    V_bar, W, phi_bar, R_bar, w_bar, coef_bar, x_bar, stages = ws[40:48]
    phi_full_bar, theta_full_bar = ws[48], ws[49]
    s2_bar = arma_filter_backward(
        phi_padded, Rv, sigma2, V, E, n_used, t_steady, tape_P, tape_PZ, tape_s,
        w_bar, phi_bar, R_bar, V_bar, S, Pbar, Ubar, abar, ap, PZbar, acc_PZ,
    )  # fmt: skip
    stationary_cov_adjoint(phi_padded, Rv, V, V_bar, G, piv, vec, W, phi_bar, R_bar)
    for i in range(phi_full_bar.shape[0]):
        phi_full_bar[i] = phi_bar[i]
    for j in range(theta_full_bar.shape[0]):
        theta_full_bar[j] = R_bar[j + 1]
    k_x = X.shape[1]
    o = p + q + sp
    expand_polys_adjoint(
        coefs[:p], coefs[p : p + q], coefs[p + q : o], coefs[o : o + sq], m,
        phi_full_bar, theta_full_bar,
        coef_bar[:p], coef_bar[p : p + q], coef_bar[p + q : o], coef_bar[o : o + sq],
    )  # fmt: skip
    # Back through the partial-autocorrelation transforms (MA parts enter negated).
    o = 0
    for size, sign in ((p, 1.0), (q, -1.0), (sp, 1.0), (sq, -1.0)):
        for i in range(size):
            coef_bar[o + i] *= sign
        pacf_to_coefs_adjoint(
            u[k_x + o : k_x + o + size], coef_bar[o : o + size], x_bar[o : o + size], stages
        )
        for i in range(size):
            g[k_x + o + i] = x_bar[o + i]
        o += size
    g[k_x + o] = s2_bar * sigma2
    # w = difference(y - X beta)
    if k_x:
        difference_zero_start_adjoint(w_bar, ws[24][0], ws[24][1], m)
        for j in range(k_x):
            acc = 0.0
            for t in range(y.shape[0]):
                acc -= X[t, j] * w_bar[t]
            g[j] = acc


@njit(cache=True)
def screen_starts(U, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa):
    """Profile log-likelihood at each candidate row of ``U`` (``unpack`` layout).

    With the prediction variances proportional to sigma2 (exact but for the fixed diffuse
    variance), ``loglik(s2) = ll0 - n/2 log(s2/s0) - ssq/2 (s0/s2 - 1)`` is maximised at
    ``s2 = s0 ssq / n``. Returns ``(profile loglik, log s2)`` per row: a cheap screen for
    starting values, not an estimate.
    """
    n_cand = U.shape[0]
    ll_out = np.full(n_cand, -np.inf)
    log_s2 = np.zeros(n_cand)
    ws = make_workspace(y.shape[0], T_base, Z, d, D, p, q, sp, sq, m, False)
    for c in range(n_cand):
        ll, n_used, ssq, s0, _ = _loglik_ws(
            U[c], y, X, p, q, sp, sq, m, T_base, Z, d + D * m, kappa, ws, False
        )
        if np.isfinite(ll) and n_used > 0 and ssq > 0:
            ll_out[c] = ll - 0.5 * n_used * np.log(ssq / n_used) - 0.5 * (n_used - ssq)
            log_s2[c] = np.log(s0 * ssq / n_used)
    return ll_out, log_s2


@njit(cache=True)
def difference_into(w, n, d, D, m):
    """Apply ``(1 - L)^d (1 - L^m)^D`` to ``w[:n]`` in place; returns the new length
    ``n - d - D*m``. Ascending ``t`` reads ``w[t + lag]`` before it is overwritten."""
    for _ in range(D):
        n -= m
        for t in range(n):
            w[t] = w[t + m] - w[t]
    for _ in range(d):
        n -= 1
        for t in range(n):
            w[t] = w[t + 1] - w[t]
    return n


@njit(cache=True)
def difference(x, d, D, m):
    """Apply ``(1 - L)^d (1 - L^m)^D``; the output is ``d + D*m`` shorter."""
    out = x.copy()
    n = difference_into(out, out.shape[0], d, D, m)
    return out[:n].copy()


@njit(cache=True)
def css_residuals_into(w, phi_full, theta_full, e):
    """Conditional residuals of the ARMA recursion on the differenced series ``w`` into
    ``e[:len(w)]``.

    ``e_t = w_t - sum phi_i w_{t-i} - sum theta_j e_{t-j}`` for t >= len(phi_full), with
    earlier residuals taken as 0 (R's ``arima`` CSS, ``ARIMA_CSS`` in its C code); the
    first ``len(phi_full)`` are set to 0.
    """
    n = w.shape[0]
    ncond = phi_full.shape[0]
    for t in range(min(ncond, n)):
        e[t] = 0.0
    for t in range(ncond, n):
        s = w[t]
        for i in range(phi_full.shape[0]):
            s -= phi_full[i] * w[t - 1 - i]
        for j in range(min(theta_full.shape[0], t - ncond)):
            s -= theta_full[j] * e[t - 1 - j]
        e[t] = s


@njit(cache=True)
def css_residuals(w, phi_full, theta_full):
    """``css_residuals_into`` into a new array."""
    e = np.empty(w.shape[0])
    css_residuals_into(w, phi_full, theta_full, e)
    return e


@njit(cache=True)
def _css_value_ws(u, y, X, p, q, sp, sq, m, d, D, ws):
    """Mean conditional sum of squares at raw coefficients ``u`` (beta, ARMA)."""
    w, phi_full, theta_full, e = ws[0], ws[3], ws[4], ws[21]
    k_x = X.shape[1]
    o = k_x
    ar = u[o : o + p]
    o += p
    ma = u[o : o + q]
    o += q
    sar = u[o : o + sp]
    o += sp
    sma = u[o : o + sq]
    expand_polys_into(ar, ma, sar, sma, m, phi_full, theta_full)
    remove_regression_into(y, X, u[:k_x], w)
    n = difference_into(w, y.shape[0], d, D, m)
    css_residuals_into(w[:n], phi_full, theta_full, e)
    ncond = phi_full.shape[0]
    ssq = 0.0
    for t in range(ncond, n):
        ssq += e[t] * e[t]
    if not np.isfinite(ssq):
        return 1e10
    return ssq / max(n - ncond, 1)


@njit(cache=True)
def _css_value_grad_ws(u, y, X, p, q, sp, sq, m, d, D, ws, g):
    """``_css_value_ws`` and its exact gradient (into ``g``): the residual recursion
    ``e_t = w_t - sum phi_i w_{t-1-i} - sum theta_j e_{t-1-j}`` walked backwards, then
    ``seqlab.ts._adjoint.expand_polys_adjoint`` and the transposes of the differencing and
    the regression. About two evaluations' worth, whatever the number of coefficients."""
    f = _css_value_ws(u, y, X, p, q, sp, sq, m, d, D, ws)
    g[:] = 0.0
    w, phi_full, theta_full, e = ws[0], ws[3], ws[4], ws[21]
    w_bar, phi_bar, theta_bar, e_bar = ws[44], ws[48], ws[49], ws[50]
    k_x = X.shape[1]
    n_y = y.shape[0]
    n = n_y - d - D * m
    ncond = phi_full.shape[0]
    for t in range(ncond, n):
        if not np.isfinite(e[t]):
            return f  # the objective's 1e10 for an exploding recursion: no gradient
    nq = theta_full.shape[0]
    scale = 2.0 / max(n - ncond, 1)
    for t in range(n_y):
        w_bar[t] = 0.0
    phi_bar[:] = 0.0
    theta_bar[:] = 0.0
    for t in range(n):
        e_bar[t] = scale * e[t] if t >= ncond else 0.0
    for t in range(n - 1, ncond - 1, -1):
        eb = e_bar[t]
        w_bar[t] += eb
        for i in range(ncond):
            phi_bar[i] -= eb * w[t - 1 - i]
            w_bar[t - 1 - i] -= eb * phi_full[i]
        for j in range(min(nq, t - ncond)):
            theta_bar[j] -= eb * e[t - 1 - j]
            e_bar[t - 1 - j] -= eb * theta_full[j]
    o = k_x + p + q + sp
    expand_polys_adjoint(
        u[k_x : k_x + p], u[k_x + p : k_x + p + q], u[k_x + p + q : o], u[o : o + sq], m,
        phi_bar, theta_bar,
        g[k_x : k_x + p], g[k_x + p : k_x + p + q], g[k_x + p + q : o], g[o : o + sq],
    )  # fmt: skip
    if k_x:
        # Transposes of difference_into (each pass maps length L to L - lag) and of y - X beta.
        length = n
        for _ in range(d):
            for t in range(length, -1, -1):
                prev = w_bar[t - 1] if t >= 1 else 0.0
                cur = w_bar[t] if t < length else 0.0
                w_bar[t] = prev - cur
            length += 1
        for _ in range(D):
            for t in range(length + m - 1, -1, -1):
                prev = w_bar[t - m] if t >= m else 0.0
                cur = w_bar[t] if t < length else 0.0
                w_bar[t] = prev - cur
            length += m
        for j in range(k_x):
            acc = 0.0
            for t in range(n_y):
                acc -= X[t, j] * w_bar[t]
            g[j] = acc
    return f


@njit(cache=True)
def objective_ws(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws):
    """kind 0: mean negative exact log-likelihood over the unconstrained vector ``u``
    (``unpack`` layout); kind 1: mean conditional sum of squares over raw coefficients.
    ``ws`` is a ``make_workspace`` for this problem."""
    if kind == 0:
        return _mle_value_ws(u, y, X, p, q, sp, sq, m, T_base, Z, d + D * m, kappa, ws)
    return _css_value_ws(u, y, X, p, q, sp, sq, m, d, D, ws)


@njit(cache=True)
def objective(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa):
    """``objective_ws`` with a workspace of its own."""
    ws = make_workspace(y.shape[0], T_base, Z, d, D, p, q, sp, sq, m, False)
    return objective_ws(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws)


@njit(cache=True)
def _use_adjoint(kind, n_params, central, y, ws, recorded):
    """Whether the gradient of the exact likelihood is taken by the adjoint pass: where
    finite differences (one evaluation per parameter, two if central) would cost more and
    a tape fits (series without NaN). The pass costs about 2.7 evaluations from scratch
    and 1.7 after an evaluation that ``recorded`` its tape (measured on M3 series for
    ARIMA(1,1,1) and (2,1,2))."""
    cheaper = central or n_params > (1 if recorded else 3)
    return cheaper and kind == 0 and ws[32].shape[0] > 0 and not _has_nan(y)


@njit(cache=True)
def objective_grad(kind, u, f0, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central, ws):
    """Gradient of ``objective`` at ``u`` (where it equals ``f0``).

    The exact likelihood of a series without NaN: by the adjoint pass
    (``_mle_value_grad_ws``, about 2.7 evaluations' worth) when ``ws`` holds a tape and
    finite differences would cost more (central ones, or more than 3 parameters).
    Otherwise finite differences: forward ones (step 1e-7 |u|-relative; error ~1e-7) where
    the objective is smooth to rounding, central ones (step 1e-5; error ~1e-10) where the
    approximate diffuse prior makes it noisy (kappa / sigma2 large:
    ``arima._Problem.central``)."""
    g = np.empty(u.shape[0])
    if kind == 1 and u.shape[0] > 2:
        _css_value_grad_ws(u, y, X, p, q, sp, sq, m, d, D, ws, g)
        return g
    if _use_adjoint(kind, u.shape[0], central, y, ws, False):
        _mle_value_grad_ws(u, y, X, p, q, sp, sq, m, T_base, Z, d + D * m, kappa, ws, g)
        return g
    x = u.copy()
    for i in range(u.shape[0]):
        if central:
            h = 1e-5 * max(abs(u[i]), 1.0)
            x[i] = u[i] + h
            fp = objective_ws(kind, x, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws)
            x[i] = u[i] - h
            fm = objective_ws(kind, x, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws)
            g[i] = (fp - fm) / (2.0 * h)
        else:
            h = 1e-7 * max(abs(u[i]), 1.0)
            x[i] = u[i] + h
            fp = objective_ws(kind, x, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws)
            g[i] = (fp - f0) / h
        x[i] = u[i]
    return g


@njit(cache=True)
def _value(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws, record):
    """``objective_ws``, recording the tape of the adjoint gradient when asked."""
    if kind == 0:
        return _mle_value_ws(u, y, X, p, q, sp, sq, m, T_base, Z, d + D * m, kappa, ws, record)
    return _css_value_ws(u, y, X, p, q, sp, sq, m, d, D, ws)


@njit(cache=True)
def _gradient(kind, u, f, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central, ws, recorded):
    """``objective_grad``; with ``recorded`` (the last ``_value`` call was at ``u`` and
    recorded), by the backward pass alone."""
    if recorded:
        g = np.empty(u.shape[0])
        _mle_backward_ws(u, y, X, p, q, sp, sq, m, d + D * m, ws, g)
        return g
    return objective_grad(kind, u, f, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central, ws)


@njit(cache=True)
def minimize_bfgs(
    kind,
    u0,
    y,
    X,
    p,
    q,
    sp,
    sq,
    m,
    d,
    D,
    T_base,
    Z,
    kappa,
    maxiter,
    gtol,
    ftol,
    central,
    known,
    known_f,
):
    """Minimise ``objective`` by BFGS with a backtracking (Armijo) line search.

    Nocedal & Wright (2006), Algorithm 6.1 with the initial inverse-Hessian scaling of
    eq. (6.20); the update is skipped when the curvature ``s'y`` is not positive. Running
    the whole search in one compiled call removes the per-iteration Python overhead that
    dominates for these small problems. Returns ``(u, f, iterations, status)``, status 0:
    gradient below ``gtol``; 1: the objective fell by less than ``ftol`` (relative) in two
    successive iterations, or no decrease was possible at a near-zero gradient;
    2: ``maxiter`` reached; 3: line search failed away from an optimum; 4: the run came
    within ``JOIN_RADIUS`` (max-norm) of a row of ``known`` (optima already found from
    other starts, with objectives ``known_f``) while still above that optimum's objective,
    so it is heading for that optimum and is not worth finishing (pass empty arrays to
    disable).
    """
    n = u0.shape[0]
    u = u0.copy()
    ws = make_workspace(y.shape[0], T_base, Z, d, D, p, q, sp, sq, m, kind == 0)
    # With the adjoint gradient every evaluation is recorded, so that the gradient at an
    # accepted step needs only the backward pass.
    adjoint = _use_adjoint(kind, n, central, y, ws, True)
    f = _value(kind, u, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws, adjoint)
    g = _gradient(kind, u, f, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central, ws, adjoint)
    H = np.eye(n)
    first = True
    small = 0
    for it in range(maxiter):
        if np.max(np.abs(g)) < gtol:
            return u, f, it, 0
        for row in range(known.shape[0]):
            if f >= known_f[row] and np.max(np.abs(u - known[row])) < JOIN_RADIUS:
                return u, f, it, 4
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
            f_trial = _value(
                kind, trial, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, ws, adjoint
            )
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
        g_trial = _gradient(
            kind, trial, f_trial, y, X, p, q, sp, sq, m, d, D, T_base, Z, kappa, central, ws,
            adjoint,
        )  # fmt: skip
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

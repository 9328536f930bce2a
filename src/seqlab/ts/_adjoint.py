"""Reverse-mode (adjoint) gradient of the exact ARMA log-likelihood.

The optimiser's objective is ``f(u) = -loglik(u) / n_used``, a chain of small steps:
``u`` -> AR/MA coefficients (partial-autocorrelation transform, ``pacf_to_coefs_into``)
-> expanded polynomials (``expand_polys_into``) -> the stationary covariance ``V`` of the
ARMA block (``stationary_cov_into``) -> the Kalman filter on the differenced series
(``arma_filter_loglik``). Each function here walks one of those steps backwards: given
the gradient of ``f`` with respect to a step's outputs it adds the gradient with respect
to its inputs (Griewank & Walther 2008, "Evaluating Derivatives", ch. 3). One backward
pass costs about two forward ones whatever the number of parameters, where forward
differences cost one forward pass per parameter and are accurate to ~1e-7 only.

The filter's backward pass uses, per step with ``v = w_t - Z'a``, ``F = Z'PZ``,
``U = P - PZ PZ'/F``, ``a' = T (a + PZ v/F)``, ``P' = T U T' + sigma2 R R'`` and the
symmetric adjoint ``S`` of ``P'``:

    adj U = T' S T,   adj T += 2 S T U,   adj R += 2 sigma2 S R,   adj sigma2 += R' S R,
    adj P = adj U + (adj PZ) Z'  (symmetrised),   adj PZ += -2 (adj U) PZ / F + (adj F) Z,
    adj F += PZ' (adj U) PZ / F^2,

Only the first column of ``T`` (the AR coefficients) depends on the parameters. The
stationary covariance is found through the process's autocovariances (a small linear
system, then recursions: ``stationary_cov_into``), and its backward pass walks those
steps back, with one transposed solve from the forward pass's LU factors.

Checked against central differences of the objective on real series in
``tests/ts/test_arima.py`` (relative error < 1e-6 on seasonal and non-seasonal orders).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def pacf_to_coefs_adjoint(x, coef_bar, x_bar, stages):
    """Backward pass of ``_kalman.pacf_to_coefs_into``: writes ``x_bar`` (len p) from the
    gradient ``coef_bar`` of the coefficients (overwritten as scratch). ``stages`` is a
    (p, p) buffer for the Durbin-Levinson stages."""
    p = x.shape[0]
    for k in range(p):
        r = x[k] / np.sqrt(1.0 + x[k] * x[k])
        for i in range(k):
            stages[k, i] = stages[k - 1, i] - r * stages[k - 1, k - 1 - i]
        stages[k, k] = r
    for k in range(p - 1, -1, -1):
        # stage k: phi_i = prev_i - r prev_{k-1-i} (i < k), phi_k = r. Row k of ``stages``
        # is not needed any more and holds the gradient of the previous stage.
        r = stages[k, k]
        r_bar = coef_bar[k]
        for i in range(k):
            r_bar -= coef_bar[i] * stages[k - 1, k - 1 - i]
        for j in range(k):
            stages[k, j] = coef_bar[j] - r * coef_bar[k - 1 - j]
        for j in range(k):
            coef_bar[j] = stages[k, j]
        one_x2 = 1.0 + x[k] * x[k]
        x_bar[k] = r_bar / (one_x2 * np.sqrt(one_x2))


@njit(cache=True)
def expand_polys_adjoint(ar, ma, sar, sma, m, phi_bar, theta_bar, ar_bar, ma_bar, sar_bar, sma_bar):
    """Backward pass of ``_kalman.expand_polys_into``: gradients of the factors' coefficients
    from those of ``phi_full`` (``phi_bar``) and ``theta_full`` (``theta_bar``)."""
    ar_bar[:] = 0.0
    sar_bar[:] = 0.0
    for i in range(ar.shape[0] + 1):
        a_i = 1.0 if i == 0 else -ar[i - 1]
        for j in range(sar.shape[0] + 1):
            s_j = 1.0 if j == 0 else -sar[j - 1]
            lag = i + j * m
            if lag > 0:
                g = phi_bar[lag - 1]
                # phi_full[lag - 1] -= a_i s_j, with a_i = -ar[i - 1], s_j = -sar[j - 1]
                if i > 0:
                    ar_bar[i - 1] += g * s_j
                if j > 0:
                    sar_bar[j - 1] += g * a_i
    ma_bar[:] = 0.0
    sma_bar[:] = 0.0
    for i in range(ma.shape[0] + 1):
        b_i = 1.0 if i == 0 else ma[i - 1]
        for j in range(sma.shape[0] + 1):
            s_j = 1.0 if j == 0 else sma[j - 1]
            lag = i + j * m
            if lag > 0:
                g = theta_bar[lag - 1]
                if i > 0:
                    ma_bar[i - 1] += g * s_j
                if j > 0:
                    sma_bar[j - 1] += g * b_i


@njit(cache=True)
def _companion_mean_backward(phi, abar, ap, a0, phi_bar, r):
    """Backward pass of ``a_next = C a+`` (C the companion block): adds ``abar * a0`` to
    ``phi_bar`` (``a0`` the first entry of ``a+``) and writes ``ap = C' abar``."""
    first = 0.0
    for i in range(r):
        phi_bar[i] += abar[i] * a0
        first += phi[i] * abar[i]
    for j in range(r - 1, 0, -1):
        ap[j] = abar[j - 1]
    ap[0] = first


@njit(cache=True)
def _lu_solve_transposed_into(G, piv, x):
    """Solve ``G_original' x = b`` in place (``x`` holds b) from the factors of
    ``_kalman.lu_factor_into``: ``U' z = b``, ``L' y = z``, then the row swaps undone in
    reverse order."""
    n = G.shape[0]
    for i in range(n):
        acc = x[i]
        for j in range(i):
            acc -= G[j, i] * x[j]
        x[i] = acc / G[i, i]
    for i in range(n - 1, -1, -1):
        acc = x[i]
        for j in range(i + 1, n):
            acc -= G[j, i] * x[j]
        x[i] = acc
    for k in range(n - 1, -1, -1):
        x[k], x[piv[k]] = x[piv[k]], x[k]


@njit(cache=True)
def stationary_cov_adjoint(phi, R, V, V_bar, G, piv, vec, Wb, phi_bar, R_bar):
    """Backward pass of ``_kalman.stationary_cov_into``, its four steps in reverse: adds
    the gradients with respect to ``phi`` (padded to r) and ``R`` to ``phi_bar`` and
    ``R_bar``, given ``V_bar`` (symmetric). Uses the LU factors, gamma and psi that the
    forward call left in ``G``, ``piv`` and ``vec`` (its last two rows and ``Wb`` (r x r)
    are scratch here)."""
    r = V.shape[0]
    gamma, psi, gbar, psi_bar = vec[0], vec[1], vec[2], vec[3]
    # The forward pass computed V's upper triangle and mirrored it.
    for i in range(r):
        Wb[i, i] = V_bar[i, i]
        for k in range(i + 1, r):
            Wb[i, k] = V_bar[i, k] + V_bar[k, i]
    # Step 4 in reverse: (i, k) before (i + 1, k + 1), the first row last.
    for i in range(1, r):
        v_i = V[0, i + 1] if i + 1 < r else 0.0
        for k in range(i, r):
            b = Wb[i, k]
            if b == 0.0:
                continue
            v_k = V[0, k + 1] if k + 1 < r else 0.0
            phi_bar[i] += b * (phi[k] * V[0, 0] + v_k)
            phi_bar[k] += b * (phi[i] * V[0, 0] + v_i)
            Wb[0, 0] += b * phi[i] * phi[k]
            if i + 1 < r:
                Wb[0, i + 1] += b * phi[k]
            if k + 1 < r:
                Wb[0, k + 1] += b * phi[i]
                Wb[i + 1, k + 1] += b
            R_bar[i] += b * R[k]
            R_bar[k] += b * R[i]
    # Step 3: the first row, into gamma's and psi's adjoints.
    for j in range(r + 1):
        gbar[j] = 0.0
    for j in range(r):
        psi_bar[j] = 0.0
    for k in range(r):
        b = Wb[0, k]
        for j in range(r - k):
            phi_bar[k + j] += b * gamma[j + 1]
            gbar[j + 1] += b * phi[k + j]
            R_bar[k + j] += b * psi[j]
            psi_bar[j] += b * R[k + j]
    # Step 2: gamma = G^-1 rhs, so rhs_bar = G^-T gamma_bar and G_bar = -rhs_bar gamma'.
    _lu_solve_transposed_into(G, piv, gbar)
    for j in range(1, r + 1):
        acc = 0.0
        for k in range(r + 1):
            acc += gbar[k] * gamma[abs(k - j)]
        phi_bar[j - 1] += acc
    for k in range(r):
        lam = gbar[k]
        for j in range(k, r):
            R_bar[j] += lam * psi[j - k]
            psi_bar[j - k] += lam * R[j]
    # Step 1: psi_j = R_j + sum_k phi_k psi_{j-k}, in reverse.
    for j in range(r - 1, 0, -1):
        b = psi_bar[j]
        R_bar[j] += b
        for k in range(1, j + 1):
            phi_bar[k - 1] += b * psi[j - k]
            psi_bar[j - k] += b * phi[k - 1]


@njit(cache=True)
def _companion_congruence(phi, S, Ubar, lo, hi):
    """``Ubar[lo:hi, lo:hi] = C' S C`` for the companion block C of size ``hi - lo``
    (rows/columns ``lo..hi`` of the square arrays)."""
    r = hi - lo
    # phi' S, a row
    for j in range(r):
        acc = 0.0
        for k in range(r):
            acc += phi[k] * S[lo + k, lo + j]
        Ubar[lo, lo + j] = acc
    acc = 0.0
    for j in range(r):
        acc += Ubar[lo, lo + j] * phi[j]
    first = acc
    for j in range(r - 1, 0, -1):
        Ubar[lo, lo + j] = Ubar[lo, lo + j - 1]
        Ubar[lo + j, lo] = Ubar[lo, lo + j]
    Ubar[lo, lo] = first
    for i in range(1, r):
        for j in range(1, r):
            Ubar[lo + i, lo + j] = S[lo + i - 1, lo + j - 1]


@njit(cache=True)
def _noise_backward(S, R, sigma2, R_bar, r):
    """Backward pass of ``+ sigma2 R R'`` in ``P'``: adds ``2 sigma2 S R`` to ``R_bar`` and
    returns the gradient ``R' S R`` with respect to sigma2."""
    s2_bar = 0.0
    for i in range(r):
        acc = 0.0
        for j in range(r):
            acc += S[i, j] * R[j]
        s2_bar += R[i] * acc
        R_bar[i] += 2.0 * sigma2 * acc
    return s2_bar


@njit(cache=True)
def _shift_step_backward(S, R, sigma2, P, F, PZbar, R_bar, h, r):
    """Backward pass of a post-burn-in covariance step, ``P'[i, j] = U[i + 1, j + 1] +
    sigma2 R_i R_j`` with ``U = P - PZ PZ' / F``, ``PZ = P[0, :]``, ``F = P[0, 0]`` (the
    forward pass keeps P's upper triangle only), given
    ``S`` = adj P' (symmetric). U's first row and column vanish identically (state 0 has
    just been observed), so adj U is ``S`` shifted down and right by one, and one pass over
    ``S`` gives both ``S R`` (for R and sigma2) and ``adj U PZ`` (for PZ and F). On return
    ``S[1:, 1:]`` holds adj P there; the caller adds PZ's and F's adjoints to its first row
    and column. Adds to ``PZbar`` and ``R_bar``; writes sigma2's gradient to ``h[r]`` and
    returns F's. ``h`` (length > r) is scratch."""
    s2_bar = 0.0
    for i in range(r):
        acc_r = S[i, r - 1] * R[r - 1]
        acc_p = 0.0
        for j in range(r - 1):
            s_ij = S[i, j]
            acc_r += s_ij * R[j]
            acc_p += s_ij * P[0, j + 1]
        s2_bar += R[i] * acc_r
        R_bar[i] += 2.0 * sigma2 * acc_r
        h[i] = acc_p  # (adj U PZ)[i + 1]
    quad = 0.0
    for i in range(1, r):
        quad += P[0, i] * h[i - 1]
        PZbar[i] -= 2.0 * h[i - 1] / F
    for i in range(r - 1, 0, -1):
        S[i, 1:r] = S[i - 1, : r - 1]
    h[r] = s2_bar
    return quad / (F * F)


@njit(cache=True)
def _update_backward(Ubar, PZ, F, PZbar, Pbar, dim):
    """Backward pass of ``U = P - PZ PZ' / F``: ``Pbar = adj U``, ``PZbar -= 2 adj U PZ / F``;
    returns the gradient ``PZ' adj U PZ / F^2`` with respect to F."""
    quad = 0.0
    for i in range(dim):
        acc = 0.0
        for j in range(dim):
            acc += Ubar[i, j] * PZ[j]
            Pbar[i, j] = Ubar[i, j]
        PZbar[i] -= 2.0 * acc / F
        quad += PZ[i] * acc
    return quad / (F * F)


@njit(cache=True)
def _symmetrise_into(Pbar, S, dim):
    """``S = (Pbar + Pbar') / 2``: P is symmetric, so only its adjoint's symmetric part
    reaches the parameters."""
    for i in range(dim):
        for j in range(i, dim):
            v = 0.5 * (Pbar[i, j] + Pbar[j, i])
            S[i, j] = v
            S[j, i] = v


@njit(cache=True)
def arma_filter_backward(
    phi, R, sigma2, V, E, n_used, t_steady, tape_P, tape_PZ, tape_s,
    w_bar, phi_bar, R_bar, V_bar, S, Pbar, Ubar, abar, ap, PZbar, acc_PZ,
):  # fmt: skip
    """Backward pass of ``_kalman.arma_filter_loglik`` for ``f = -loglik / n_used``, from
    the tape that pass recorded. Writes the gradients of ``f`` with respect to the
    differenced series (``w_bar``), the padded AR column (``phi_bar``), ``R`` (``R_bar``)
    and ``V`` (``V_bar``); returns that with respect to ``sigma2``. ``S``, ``Pbar``,
    ``Ubar`` ((r + kd + 1) square) and ``abar``, ``ap``, ``PZbar``, ``acc_PZ`` (that long)
    are scratch. See the module docstring for the formulas."""
    r = V.shape[0]
    burn = E.shape[0]
    kd = E.shape[1]
    n = w_bar.shape[0]
    nb = min(burn, n)
    dim = r + kd if burn > 0 else r
    lbar = -1.0 / max(n_used, 1)
    w_bar[:] = 0.0
    phi_bar[:] = 0.0
    R_bar[:] = 0.0
    s2_bar = 0.0
    for i in range(dim + 1):
        abar[i] = 0.0
        acc_PZ[i] = 0.0
        for j in range(dim + 1):
            S[i, j] = 0.0
    acc_F = 0.0
    last = n - 1
    if t_steady >= 0:
        # Steady phase: P (hence PZ = P[0, :], F = P[0, 0]) frozen at step t_steady's.
        P = tape_P[t_steady]
        F = tape_s[t_steady, 1]
        for t in range(n - 1, t_steady, -1):
            v = tape_s[t, 0]
            g = v / F
            a0 = tape_s[t, 2]
            _companion_mean_backward(phi, abar, ap, a0, phi_bar, r)
            g_bar = 0.0
            for i in range(r):
                g_bar += ap[i] * P[0, i]
                acc_PZ[i] += ap[i] * g
            v_bar = g_bar / F - lbar * v / F
            acc_F += -g_bar * v / (F * F) - 0.5 * lbar * (1.0 / F - v * v / (F * F))
            w_bar[t] = v_bar
            for i in range(r):
                abar[i] = ap[i]
            abar[0] -= v_bar
        last = t_steady
    for t in range(last, nb - 1, -1):
        # Steps that update P, after the burn-in: Z = e_0, so PZ = P[0, :] (the forward
        # pass keeps the upper triangle), F = P[0, 0].
        P = tape_P[t]
        v = tape_s[t, 0]
        F = tape_s[t, 1]
        g = v / F
        a0 = tape_s[t, 2]
        _companion_mean_backward(phi, abar, ap, a0, phi_bar, r)
        g_bar = 0.0
        for i in range(r):
            g_bar += ap[i] * P[0, i]
        F_bar = -g_bar * v / (F * F) - 0.5 * lbar * (1.0 / F - v * v / (F * F))
        for i in range(r):
            PZbar[i] = ap[i] * g
        if t == t_steady:
            F_bar += acc_F
            for i in range(r):
                PZbar[i] += acc_PZ[i]
        v_bar = g_bar / F - lbar * v / F
        w_bar[t] = v_bar
        for i in range(r):
            abar[i] = ap[i]
        abar[0] -= v_bar
        if t < last:
            F_bar += _shift_step_backward(S, R, sigma2, P, F, PZbar, R_bar, ap, r)
            s2_bar += ap[r]
        else:
            for i in range(r):
                for j in range(r):
                    S[i, j] = 0.0
        # F = P[0, 0] and PZ = P[:, 0]: their adjoints land in S's first row and column.
        PZbar[0] += F_bar
        S[0, 0] = PZbar[0]
        for i in range(1, r):
            S[i, 0] = 0.5 * PZbar[i]
            S[0, i] = S[i, 0]
    for t in range(nb - 1, -1, -1):
        # Burn-in steps: the state carries x_0 (T = diag(C, I)), Z = e_0 + [0, E_t].
        P = tape_P[t]
        PZ = tape_PZ[t]
        v = tape_s[t, 0]
        F = tape_s[t, 1]
        g = v / F
        a0 = tape_s[t, 2]
        _companion_mean_backward(phi, abar, ap, a0, phi_bar, r)
        for i in range(r, dim):
            ap[i] = abar[i]
        g_bar = 0.0
        for i in range(dim):
            g_bar += ap[i] * PZ[i]
            PZbar[i] = ap[i] * g
        v_bar = g_bar / F
        F_bar = -g_bar * v / (F * F)
        w_bar[t] = v_bar
        for i in range(dim):
            abar[i] = ap[i]
        abar[0] -= v_bar
        for j in range(kd):
            abar[r + j] -= v_bar * E[t, j]
        if t < n - 1:
            s2_bar += _noise_backward(S, R, sigma2, R_bar, r)
            # adj phi_i += 2 (S T U)[i, 0], with (T U)[:, 0] in ap (ap is free again).
            u00 = P[0, 0] - PZ[0] * PZ[0] / F
            for i in range(r):
                u_next = P[i + 1, 0] - PZ[i + 1] * PZ[0] / F if i + 1 < r else 0.0
                ap[i] = phi[i] * u00 + u_next
            for i in range(r, dim):
                ap[i] = P[i, 0] - PZ[i] * PZ[0] / F
            for i in range(r):
                acc = 0.0
                for k in range(dim):
                    acc += S[i, k] * ap[k]
                phi_bar[i] += 2.0 * acc
            # adj U = T' S T: companion block, C' S_ax, S_xx.
            _companion_congruence(phi, S, Ubar, 0, r)
            for c in range(r, dim):
                acc = 0.0
                for k in range(r):
                    acc += phi[k] * S[k, c]
                Ubar[0, c] = acc
                Ubar[c, 0] = acc
                for i in range(1, r):
                    Ubar[i, c] = S[i - 1, c]
                    Ubar[c, i] = S[i - 1, c]
                for c2 in range(r, dim):
                    Ubar[c, c2] = S[c, c2]
            F_bar += _update_backward(Ubar, PZ, F, PZbar, Pbar, dim)
        else:
            for i in range(dim):
                for j in range(dim):
                    Pbar[i, j] = 0.0
        # F = Z' PZ and PZ = P Z with Z = e_0 + [0, E_t].
        PZbar[0] += F_bar
        for j in range(kd):
            PZbar[r + j] += F_bar * E[t, j]
        for i in range(dim):
            Pbar[i, 0] += PZbar[i]
            for j in range(kd):
                Pbar[i, r + j] += PZbar[i] * E[t, j]
        _symmetrise_into(Pbar, S, dim)
    # P_0 = diag(sigma2 V, kappa I)
    for i in range(r):
        for j in range(r):
            V_bar[i, j] = sigma2 * S[i, j]
            s2_bar += S[i, j] * V[i, j]
    return s2_bar


@njit(cache=True)
def difference_zero_start_adjoint(z, d, D, m):
    """Transpose of ``_kalman.difference_zero_start`` applied to ``z`` in place:
    ``(1 - L)' z_t = z_t - z_{t+1}`` (and the same with lag m)."""
    n = z.shape[0]
    for _ in range(D):
        for t in range(n - m):
            z[t] -= z[t + m]
    for _ in range(d):
        for t in range(n - 1):
            z[t] -= z[t + 1]

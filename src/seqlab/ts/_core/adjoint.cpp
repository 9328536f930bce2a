// Adjoint of the stationary covariance and of the differenced Kalman filter; see
// adjoint.hpp for the formulas.
#include "adjoint.hpp"

#include <algorithm>
#include <cmath>

#include "linalg.hpp"

namespace seqlab::arima {

void stationary_cov_adjoint(ConstVec phi, ConstVec R, ConstMat V, ConstMat V_bar,
                            const AutocovarianceSystem& sys, Mat Wb, Vec phi_bar, Vec R_bar) {
  const int r = V.rows;
  ConstVec gamma = sys.gamma, psi = sys.psi;
  Vec gbar = sys.rhs, psi_bar = sys.spare;
  // The forward pass computed V's upper triangle and mirrored it.
  for (int i = 0; i < r; ++i) {
    Wb(i, i) = V_bar(i, i);
    for (int k = i + 1; k < r; ++k) Wb(i, k) = V_bar(i, k) + V_bar(k, i);
  }
  // Step 4 in reverse: (i, k) before (i + 1, k + 1), the first row last.
  for (int i = 1; i < r; ++i) {
    const double v_i = i + 1 < r ? V(0, i + 1) : 0.0;
    for (int k = i; k < r; ++k) {
      const double b = Wb(i, k);
      if (b == 0.0) continue;
      const double v_k = k + 1 < r ? V(0, k + 1) : 0.0;
      phi_bar[i] += b * (phi[k] * V(0, 0) + v_k);
      phi_bar[k] += b * (phi[i] * V(0, 0) + v_i);
      Wb(0, 0) += b * phi[i] * phi[k];
      if (i + 1 < r) Wb(0, i + 1) += b * phi[k];
      if (k + 1 < r) {
        Wb(0, k + 1) += b * phi[i];
        Wb(i + 1, k + 1) += b;
      }
      R_bar[i] += b * R[k];
      R_bar[k] += b * R[i];
    }
  }
  // Step 3: the first row, into gamma's and psi's adjoints.
  for (int j = 0; j <= r; ++j) gbar[j] = 0.0;
  for (int j = 0; j < r; ++j) psi_bar[j] = 0.0;
  for (int k = 0; k < r; ++k) {
    const double b = Wb(0, k);
    for (int j = 0; j < r - k; ++j) {
      phi_bar[k + j] += b * gamma[j + 1];
      gbar[j + 1] += b * phi[k + j];
      R_bar[k + j] += b * psi[j];
      psi_bar[j] += b * R[k + j];
    }
  }
  // Step 2: gamma = G^-1 rhs, so rhs_bar = G^-T gamma_bar and G_bar = -rhs_bar gamma'.
  lu_solve_transposed(sys.G, sys.piv, gbar);
  for (int j = 1; j <= r; ++j) {
    double acc = 0.0;
    for (int k = 0; k <= r; ++k) acc += gbar[k] * gamma[std::abs(k - j)];
    phi_bar[j - 1] += acc;
  }
  for (int k = 0; k < r; ++k) {
    const double lam = gbar[k];
    for (int j = k; j < r; ++j) {
      R_bar[j] += lam * psi[j - k];
      psi_bar[j - k] += lam * R[j];
    }
  }
  // Step 1: psi_j = R_j + sum_k phi_k psi_{j-k}, in reverse.
  for (int j = r - 1; j >= 1; --j) {
    const double b = psi_bar[j];
    R_bar[j] += b;
    for (int k = 1; k <= j; ++k) {
      phi_bar[k - 1] += b * psi[j - k];
      psi_bar[j - k] += b * phi[k - 1];
    }
  }
}

namespace {

// Backward pass of a_next = C a+ (C the companion block): adds abar * a0 to phi_bar (a0
// the first entry of a+) and writes ap = C' abar.
void companion_mean_backward(ConstVec phi, ConstVec abar, Vec ap, double a0, Vec phi_bar, int r) {
  double first = 0.0;
  for (int i = 0; i < r; ++i) {
    phi_bar[i] += abar[i] * a0;
    first += phi[i] * abar[i];
  }
  for (int j = r - 1; j >= 1; --j) ap[j] = abar[j - 1];
  ap[0] = first;
}

// Ubar[0:r, 0:r] = C' S C for the companion block C of size r.
void companion_congruence(ConstVec phi, ConstMat S, Mat Ubar, int r) {
  for (int j = 0; j < r; ++j) {
    double acc = 0.0;
    for (int k = 0; k < r; ++k) acc += phi[k] * S(k, j);
    Ubar(0, j) = acc;  // phi' S, a row
  }
  double first = 0.0;
  for (int j = 0; j < r; ++j) first += Ubar(0, j) * phi[j];
  for (int j = r - 1; j >= 1; --j) {
    Ubar(0, j) = Ubar(0, j - 1);
    Ubar(j, 0) = Ubar(0, j);
  }
  Ubar(0, 0) = first;
  for (int i = 1; i < r; ++i)
    for (int j = 1; j < r; ++j) Ubar(i, j) = S(i - 1, j - 1);
}

// Backward pass of ``+ sigma2 R R'`` in P': adds 2 sigma2 S R to R_bar and returns R' S R,
// the gradient with respect to sigma2.
double noise_backward(ConstMat S, ConstVec R, double sigma2, Vec R_bar, int r) {
  double s2_bar = 0.0;
  for (int i = 0; i < r; ++i) {
    double acc = 0.0;
    for (int j = 0; j < r; ++j) acc += S(i, j) * R[j];
    s2_bar += R[i] * acc;
    R_bar[i] += 2.0 * sigma2 * acc;
  }
  return s2_bar;
}

// Backward pass of a post-burn-in covariance step, P'[i, j] = U[i + 1, j + 1] +
// sigma2 R_i R_j with U = P - PZ PZ' / F, PZ = P[0, :], F = P[0, 0] (the forward pass keeps
// P's upper triangle only), given S = adj P' (symmetric). U's first row and column vanish
// identically, so adj U is S shifted down and right by one, and one pass over S gives both
// S R (for R and sigma2) and adj U PZ (for PZ and F). On return S[1:, 1:] holds adj P
// there; the caller adds PZ's and F's adjoints to its first row and column. Adds to PZbar
// and R_bar; writes sigma2's gradient to h[r] and returns F's. h (length > r) is scratch.
double shift_step_backward(Mat S, ConstVec R, double sigma2, ConstMat P, double F, Vec PZbar,
                           Vec R_bar, Vec h, int r) {
  double s2_bar = 0.0;
  for (int i = 0; i < r; ++i) {
    double acc_r = S(i, r - 1) * R[r - 1];
    double acc_p = 0.0;
    for (int j = 0; j < r - 1; ++j) {
      const double s_ij = S(i, j);
      acc_r += s_ij * R[j];
      acc_p += s_ij * P(0, j + 1);
    }
    s2_bar += R[i] * acc_r;
    R_bar[i] += 2.0 * sigma2 * acc_r;
    h[i] = acc_p;  // (adj U PZ)[i + 1]
  }
  double quad = 0.0;
  for (int i = 1; i < r; ++i) {
    quad += P(0, i) * h[i - 1];
    PZbar[i] -= 2.0 * h[i - 1] / F;
  }
  for (int i = r - 1; i >= 1; --i)
    for (int j = 1; j < r; ++j) S(i, j) = S(i - 1, j - 1);
  h[r] = s2_bar;
  return quad / (F * F);
}

// Backward pass of U = P - PZ PZ' / F: Pbar = adj U, PZbar -= 2 adj U PZ / F; returns
// PZ' adj U PZ / F^2, the gradient with respect to F.
double update_backward(ConstMat Ubar, ConstVec PZ, double F, Vec PZbar, Mat Pbar, int dim) {
  double quad = 0.0;
  for (int i = 0; i < dim; ++i) {
    double acc = 0.0;
    for (int j = 0; j < dim; ++j) {
      acc += Ubar(i, j) * PZ[j];
      Pbar(i, j) = Ubar(i, j);
    }
    PZbar[i] -= 2.0 * acc / F;
    quad += PZ[i] * acc;
  }
  return quad / (F * F);
}

// S = (Pbar + Pbar') / 2: P is symmetric, so only its adjoint's symmetric part reaches the
// parameters.
void symmetrise(ConstMat Pbar, Mat S, int dim) {
  for (int i = 0; i < dim; ++i)
    for (int j = i; j < dim; ++j) {
      const double v = 0.5 * (Pbar(i, j) + Pbar(j, i));
      S(i, j) = v;
      S(j, i) = v;
    }
}

}  // namespace

double arma_filter_backward(ConstVec phi, ConstVec R, double sigma2, ConstMat V, ConstMat E,
                            int n_used, int t_steady, const FilterTape& tape, Vec w_bar,
                            Vec phi_bar, Vec R_bar, Mat V_bar, const FilterBackwardBuffers& b) {
  const int r = V.rows;
  const int burn = E.rows;
  const int kd = E.cols;
  const int n = w_bar.size;
  const int nb = std::min(burn, n);
  const int dim = burn > 0 ? r + kd : r;
  const double lbar = -1.0 / std::max(n_used, 1);
  Mat S = b.S, Pbar = b.Pbar, Ubar = b.Ubar;
  Vec abar = b.abar, ap = b.ap, PZbar = b.PZbar, acc_PZ = b.acc_PZ;
  w_bar.fill(0.0);
  phi_bar.fill(0.0);
  R_bar.fill(0.0);
  double s2_bar = 0.0;
  for (int i = 0; i <= dim; ++i) {
    abar[i] = 0.0;
    acc_PZ[i] = 0.0;
    for (int j = 0; j <= dim; ++j) S(i, j) = 0.0;
  }
  double acc_F = 0.0;
  int last = n - 1;
  if (t_steady >= 0) {
    // Steady phase: P (hence PZ = P[0, :], F = P[0, 0]) frozen at step t_steady's.
    const Mat P = tape.P[t_steady];
    const double F = tape.steps(t_steady, 1);
    for (int t = n - 1; t > t_steady; --t) {
      const double v = tape.steps(t, 0);
      const double g = v / F;
      const double a0 = tape.steps(t, 2);
      companion_mean_backward(phi, abar, ap, a0, phi_bar, r);
      double g_bar = 0.0;
      for (int i = 0; i < r; ++i) {
        g_bar += ap[i] * P(0, i);
        acc_PZ[i] += ap[i] * g;
      }
      const double v_bar = g_bar / F - lbar * v / F;
      acc_F += -g_bar * v / (F * F) - 0.5 * lbar * (1.0 / F - v * v / (F * F));
      w_bar[t] = v_bar;
      for (int i = 0; i < r; ++i) abar[i] = ap[i];
      abar[0] -= v_bar;
    }
    last = t_steady;
  }
  for (int t = last; t >= nb; --t) {
    // Steps that update P, after the burn-in: Z = e_0, so PZ = P[0, :] (the forward pass
    // keeps the upper triangle), F = P[0, 0].
    const Mat P = tape.P[t];
    const double v = tape.steps(t, 0);
    const double F = tape.steps(t, 1);
    const double g = v / F;
    const double a0 = tape.steps(t, 2);
    companion_mean_backward(phi, abar, ap, a0, phi_bar, r);
    double g_bar = 0.0;
    for (int i = 0; i < r; ++i) g_bar += ap[i] * P(0, i);
    double F_bar = -g_bar * v / (F * F) - 0.5 * lbar * (1.0 / F - v * v / (F * F));
    for (int i = 0; i < r; ++i) PZbar[i] = ap[i] * g;
    if (t == t_steady) {
      F_bar += acc_F;
      for (int i = 0; i < r; ++i) PZbar[i] += acc_PZ[i];
    }
    const double v_bar = g_bar / F - lbar * v / F;
    w_bar[t] = v_bar;
    for (int i = 0; i < r; ++i) abar[i] = ap[i];
    abar[0] -= v_bar;
    if (t < last) {
      F_bar += shift_step_backward(S, R, sigma2, P, F, PZbar, R_bar, ap, r);
      s2_bar += ap[r];
    } else {
      for (int i = 0; i < r; ++i)
        for (int j = 0; j < r; ++j) S(i, j) = 0.0;
    }
    // F = P[0, 0] and PZ = P[:, 0]: their adjoints land in S's first row and column.
    PZbar[0] += F_bar;
    S(0, 0) = PZbar[0];
    for (int i = 1; i < r; ++i) {
      S(i, 0) = 0.5 * PZbar[i];
      S(0, i) = S(i, 0);
    }
  }
  for (int t = nb - 1; t >= 0; --t) {
    // Burn-in steps: the state carries x_0 (T = diag(C, I)), Z = e_0 + [0, E_t].
    const Mat P = tape.P[t];
    const Vec PZ = tape.PZ.row(t);
    const double v = tape.steps(t, 0);
    const double F = tape.steps(t, 1);
    const double g = v / F;
    const double a0 = tape.steps(t, 2);
    companion_mean_backward(phi, abar, ap, a0, phi_bar, r);
    for (int i = r; i < dim; ++i) ap[i] = abar[i];
    double g_bar = 0.0;
    for (int i = 0; i < dim; ++i) {
      g_bar += ap[i] * PZ[i];
      PZbar[i] = ap[i] * g;
    }
    const double v_bar = g_bar / F;
    double F_bar = -g_bar * v / (F * F);
    w_bar[t] = v_bar;
    for (int i = 0; i < dim; ++i) abar[i] = ap[i];
    abar[0] -= v_bar;
    for (int j = 0; j < kd; ++j) abar[r + j] -= v_bar * E(t, j);
    if (t < n - 1) {
      s2_bar += noise_backward(S, R, sigma2, R_bar, r);
      // adj phi_i += 2 (S T U)[i, 0], with (T U)[:, 0] in ap (ap is free again).
      const double u00 = P(0, 0) - PZ[0] * PZ[0] / F;
      for (int i = 0; i < r; ++i) {
        const double u_next = i + 1 < r ? P(i + 1, 0) - PZ[i + 1] * PZ[0] / F : 0.0;
        ap[i] = phi[i] * u00 + u_next;
      }
      for (int i = r; i < dim; ++i) ap[i] = P(i, 0) - PZ[i] * PZ[0] / F;
      for (int i = 0; i < r; ++i) {
        double acc = 0.0;
        for (int k = 0; k < dim; ++k) acc += S(i, k) * ap[k];
        phi_bar[i] += 2.0 * acc;
      }
      // adj U = T' S T: companion block, C' S_ax, S_xx.
      companion_congruence(phi, S, Ubar, r);
      for (int c = r; c < dim; ++c) {
        double acc = 0.0;
        for (int k = 0; k < r; ++k) acc += phi[k] * S(k, c);
        Ubar(0, c) = acc;
        Ubar(c, 0) = acc;
        for (int i = 1; i < r; ++i) {
          Ubar(i, c) = S(i - 1, c);
          Ubar(c, i) = S(i - 1, c);
        }
        for (int c2 = r; c2 < dim; ++c2) Ubar(c, c2) = S(c, c2);
      }
      F_bar += update_backward(Ubar, PZ, F, PZbar, Pbar, dim);
    } else {
      for (int i = 0; i < dim; ++i)
        for (int j = 0; j < dim; ++j) Pbar(i, j) = 0.0;
    }
    // F = Z' PZ and PZ = P Z with Z = e_0 + [0, E_t].
    PZbar[0] += F_bar;
    for (int j = 0; j < kd; ++j) PZbar[r + j] += F_bar * E(t, j);
    for (int i = 0; i < dim; ++i) {
      Pbar(i, 0) += PZbar[i];
      for (int j = 0; j < kd; ++j) Pbar(i, r + j) += PZbar[i] * E(t, j);
    }
    symmetrise(Pbar, S, dim);
  }
  // P_0 = diag(sigma2 V, kappa I)
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) {
      V_bar(i, j) = sigma2 * S(i, j);
      s2_bar += S(i, j) * V(i, j);
    }
  return s2_bar;
}

}  // namespace seqlab::arima

// Kalman filters and the stationary covariance; see filter.hpp.
#include "filter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "linalg.hpp"
#include "transforms.hpp"

namespace seqlab::arima {

namespace {

// log(2 pi); M_PI is POSIX, not standard C++.
const double kLog2Pi = std::log(2.0 * 3.141592653589793238462643383279502884);
const double kInf = std::numeric_limits<double>::infinity();

// Relative change of the predicted covariance below which the gain is frozen. Converging
// at rate rho, what is left to change is < 1e-10 / (1 - rho) relative: < 1e-8 per
// observation in log F even for an MA root at 0.99.
constexpr double kSteadyTolerance = 1e-10;

}  // namespace

bool stationary_cov(ConstVec phi_full, ConstVec theta_full, Mat V,
                    const AutocovarianceSystem& sys) {
  const int r = V.rows;
  const int n_phi = phi_full.size;
  Vec gamma = sys.gamma, psi = sys.psi, rhs = sys.rhs, R = sys.R;
  Mat G = sys.G;
  R.fill(0.0);
  R[0] = 1.0;
  for (int j = 0; j < theta_full.size; ++j) R[j + 1] = theta_full[j];
  // 1. psi weights.
  psi[0] = 1.0;
  for (int j = 1; j < r; ++j) {
    double acc = R[j];
    for (int k = 1; k <= std::min(j, n_phi); ++k) acc += phi_full[k - 1] * psi[j - k];
    psi[j] = acc;
  }
  // 2. The autocovariance system.
  for (int k = 0; k <= r; ++k) {
    double acc = 0.0;
    for (int j = k; j < r; ++j) acc += R[j] * psi[j - k];
    rhs[k] = acc;
    for (int j = 0; j <= r; ++j) G(k, j) = 0.0;
  }
  for (int k = 0; k <= r; ++k) {
    G(k, k) += 1.0;
    for (int j = 1; j <= n_phi; ++j) G(k, std::abs(k - j)) -= phi_full[j - 1];
  }
  if (!lu_factor(G, sys.piv)) return false;
  for (int k = 0; k <= r; ++k) gamma[k] = rhs[k];
  lu_solve(G, sys.piv, gamma);
  // 3. The first row.
  for (int k = 0; k < r; ++k) {
    double acc = 0.0;
    for (int j = 0; j < r - k; ++j) {
      acc += R[k + j] * psi[j];
      if (k + j < n_phi) acc += phi_full[k + j] * gamma[j + 1];
    }
    V(0, k) = acc;
  }
  // 4. The other rows, from the bottom-right corner up.
  for (int i = r - 1; i >= 1; --i) {
    const double ph_i = i < n_phi ? phi_full[i] : 0.0;
    const double v_i = i + 1 < r ? V(0, i + 1) : 0.0;
    for (int k = r - 1; k >= i; --k) {
      const double ph_k = k < n_phi ? phi_full[k] : 0.0;
      double acc = ph_i * ph_k * V(0, 0) + ph_k * v_i + R[i] * R[k];
      if (k + 1 < r) acc += ph_i * V(0, k + 1) + V(i + 1, k + 1);
      V(i, k) = acc;
    }
  }
  for (int i = 0; i < r; ++i)
    for (int k = 0; k < i; ++k) V(i, k) = V(k, i);
  bool ok = true;
  for (int i = 0; i < r; ++i)
    if (!(std::isfinite(V(i, i)) && V(i, i) >= 0.0)) ok = false;
  return ok;
}

void build_system(ConstVec phi_full, ConstVec theta_full, ConstMat T_base, int k_diff_states,
                  Mat T, Vec R) {
  const int k = T.rows;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) T(i, j) = T_base(i, j);
  R.fill(0.0);
  R[k_diff_states] = 1.0;
  for (int i = 0; i < phi_full.size; ++i) T(k_diff_states + i, k_diff_states) = phi_full[i];
  for (int j = 0; j < theta_full.size; ++j) R[k_diff_states + 1 + j] = theta_full[j];
}

void initial_cov(ConstVec phi_full, ConstVec theta_full, int k_diff_states, double sigma2,
                 double kappa, Mat P, Mat V, const AutocovarianceSystem& sys) {
  const int r = P.rows - k_diff_states;
  P.fill(0.0);
  for (int i = 0; i < k_diff_states; ++i) P(i, i) = kappa;
  if (!stationary_cov(phi_full, theta_full, V, sys))
    V.fill(std::numeric_limits<double>::quiet_NaN());
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) P(k_diff_states + i, k_diff_states + j) = sigma2 * V(i, j);
}

void diffuse_loadings(ConstMat T_base, ConstVec Z, int d, int D, int m, Mat E) {
  const int kd = d + D * m;
  std::vector<double> M(static_cast<std::size_t>(kd) * kd, 0.0);
  std::vector<double> next(M.size());
  for (int i = 0; i < kd; ++i) M[i * kd + i] = 1.0;
  for (int t = 0; t < kd; ++t) {
    for (int j = 0; j < kd; ++j) {
      double acc = 0.0;
      for (int i = 0; i < kd; ++i) acc += Z[i] * M[i * kd + j];
      E(t, j) = acc;
    }
    // M <- T_diff M, T_diff the integration block of T_base.
    for (int i = 0; i < kd; ++i)
      for (int j = 0; j < kd; ++j) {
        double acc = 0.0;
        for (int l = 0; l < kd; ++l) acc += T_base(i, l) * M[l * kd + j];
        next[i * kd + j] = acc;
      }
    M.swap(next);
  }
  for (int j = 0; j < kd; ++j) {
    std::vector<double> column(kd);
    for (int t = 0; t < kd; ++t) column[t] = E(t, j);
    difference_zero_start({column.data(), kd}, d, D, m);
    for (int t = 0; t < kd; ++t) E(t, j) = column[t];
  }
}

namespace {

// Row starts, column indices and values of T's non-zeros (CSR).
void to_sparse(ConstMat T, const StateSpaceBuffers& b) {
  const int k = T.rows;
  b.csr_starts[0] = 0;
  int nnz = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      if (T(i, j) != 0.0) {
        b.csr_cols[nnz] = j;
        b.csr_vals[nnz] = T(i, j);
        ++nnz;
      }
    }
    b.csr_starts[i + 1] = nnz;
  }
}

// In place: a <- T a, P <- T P T' + sigma2 R R' with T in CSR form.
void predict(Vec a, Mat P, ConstVec R, double sigma2, const StateSpaceBuffers& b) {
  const int k = a.size;
  const Span<int> starts = b.csr_starts, cols = b.csr_cols;
  const Vec vals = b.csr_vals;
  for (int i = 0; i < k; ++i) {
    double acc = 0.0;
    for (int e = starts[i]; e < starts[i + 1]; ++e) acc += vals[e] * a[cols[e]];
    b.a_tmp[i] = acc;
  }
  for (int i = 0; i < k; ++i) a[i] = b.a_tmp[i];
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      double acc = 0.0;
      for (int e = starts[i]; e < starts[i + 1]; ++e) acc += vals[e] * P(cols[e], j);
      b.TP(i, j) = acc;
    }
  for (int i = 0; i < k; ++i)
    for (int j = i; j < k; ++j) {
      double acc = 0.0;
      for (int e = starts[j]; e < starts[j + 1]; ++e) acc += b.TP(i, cols[e]) * vals[e];
      acc += sigma2 * R[i] * R[j];
      P(i, j) = acc;
      P(j, i) = acc;
    }
}

}  // namespace

LoglikResult state_space_loglik(ConstVec w, ConstMat T, ConstVec Z, ConstVec R, double sigma2,
                                Mat P, int burn, const StateSpaceBuffers& b) {
  const int k = T.rows;
  const int n = w.size;
  to_sparse(T, b);
  const Span<int> starts = b.csr_starts, cols = b.csr_cols;
  const Vec vals = b.csr_vals;
  Vec a = b.a, PZ = b.PZ;
  a.fill(0.0);
  double loglik = 0.0;
  int n_used = 0;
  double ssq = 0.0;
  bool steady = false;
  bool any_nan = false;
  for (int t = 0; t < n; ++t)
    if (std::isnan(w[t])) {
      any_nan = true;
      break;
    }
  double inv_F = 1.0;
  double log_F = 0.0;
  for (int t = 0; t < n; ++t) {
    if (std::isnan(w[t])) {
      predict(a, P, R, sigma2, b);
      continue;
    }
    double v = w[t];
    for (int i = 0; i < k; ++i) v -= Z[i] * a[i];
    if (!steady) {
      double F = 0.0;
      for (int i = 0; i < k; ++i) {
        double acc = 0.0;
        for (int j = 0; j < k; ++j) acc += P(i, j) * Z[j];
        PZ[i] = acc;
        F += Z[i] * acc;
      }
      if (!(F > 0.0)) return {-kInf, n_used, kInf, -1};
      log_F = std::log(F);
      inv_F = 1.0 / F;
    }
    if (t >= burn) {
      loglik += -0.5 * (kLog2Pi + log_F + v * v * inv_F);
      ssq += v * v * inv_F;
      ++n_used;
    }
    for (int i = 0; i < k; ++i) a[i] += PZ[i] * v * inv_F;
    if (steady) {
      for (int i = 0; i < k; ++i) {
        double acc = 0.0;
        for (int e = starts[i]; e < starts[i + 1]; ++e) acc += vals[e] * a[cols[e]];
        b.a_tmp[i] = acc;
      }
      for (int i = 0; i < k; ++i) a[i] = b.a_tmp[i];
      continue;
    }
    // Predict in one pass over P: with TP = T (P - PZ PZ'/F) = T P - (T PZ) PZ'/F, the next
    // P is TP T' + sigma2 R R', written over P while its change is measured.
    for (int i = 0; i < k; ++i) {
      double acc = 0.0;
      double acc_pz = 0.0;
      for (int e = starts[i]; e < starts[i + 1]; ++e) {
        acc += vals[e] * a[cols[e]];
        acc_pz += vals[e] * PZ[cols[e]];
      }
      b.a_tmp[i] = acc;
      b.TPZ[i] = acc_pz * inv_F;
    }
    for (int i = 0; i < k; ++i) a[i] = b.a_tmp[i];
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        double acc = 0.0;
        for (int e = starts[i]; e < starts[i + 1]; ++e) acc += vals[e] * P(cols[e], j);
        b.TP(i, j) = acc - b.TPZ[i] * PZ[j];
      }
    double diff = 0.0;
    double size = 0.0;
    for (int i = 0; i < k; ++i)
      for (int j = i; j < k; ++j) {
        double acc = sigma2 * R[i] * R[j];
        for (int e = starts[j]; e < starts[j + 1]; ++e) acc += b.TP(i, cols[e]) * vals[e];
        diff = std::max(diff, std::abs(acc - P(i, j)));
        size = std::max(size, std::abs(acc));
        P(i, j) = acc;
        P(j, i) = acc;
      }
    if (!any_nan && t > burn && diff <= kSteadyTolerance * size) steady = true;
  }
  return {loglik, n_used, ssq, -1};
}

LoglikResult arma_filter_loglik(ConstVec w, ConstVec phi, ConstVec R, double sigma2, ConstMat V,
                                ConstMat E, double kappa, const ArmaFilterBuffers& buffers,
                                const FilterTape* tape) {
  const bool record = tape != nullptr && tape->length > 0;
  const int r = V.rows;
  const int burn = E.rows;
  const int kd = E.cols;
  const int dim = burn > 0 ? r + kd : r;
  const int n = w.size;
  Vec a = buffers.a, a_new = buffers.a_new, PZ = buffers.PZ;
  // Recording, each step writes its covariance straight into the next tape slot, so the
  // tape costs no copies; otherwise P and Pn alternate. ``spare`` takes the update after
  // the last recorded step.
  Mat P = buffers.P;
  Mat Pn = buffers.Pn;
  const Mat spare = buffers.Pn;
  if (record && n > 0) P = tape->P[0];
  for (int i = 0; i < dim; ++i) {
    a[i] = 0.0;
    for (int j = 0; j < dim; ++j) P(i, j) = 0.0;
  }
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) P(i, j) = sigma2 * V(i, j);
  for (int j = 0; j < kd; ++j) P(r + j, r + j) = kappa;
  for (int t = 0; t < std::min(burn, n); ++t) {
    // The first ``burn`` observations (not in the log-likelihood) with x_0 in the state.
    double v = w[t] - a[0];
    for (int j = 0; j < kd; ++j) v -= E(t, j) * a[r + j];
    for (int i = 0; i < dim; ++i) {
      double acc = P(i, 0);
      for (int j = 0; j < kd; ++j) acc += P(i, r + j) * E(t, j);
      PZ[i] = acc;
    }
    double F = PZ[0];
    for (int j = 0; j < kd; ++j) F += E(t, j) * PZ[r + j];
    if (!(F > 0.0)) return {-kInf, 0, kInf, -1};
    const double inv_F = 1.0 / F;
    for (int i = 0; i < dim; ++i) a[i] += PZ[i] * v * inv_F;
    if (record) {
      Pn = t + 1 < n ? tape->P[t + 1] : spare;
      for (int i = 0; i < dim; ++i) tape->PZ(t, i) = PZ[i];
      tape->steps(t, 0) = v;
      tape->steps(t, 1) = F;
      tape->steps(t, 2) = a[0];
    }
    // a <- T a: companion on the ARMA block, x_0 constant.
    for (int i = 0; i < r; ++i) a_new[i] = phi[i] * a[0] + (i + 1 < r ? a[i + 1] : 0.0);
    for (int i = 0; i < r; ++i) a[i] = a_new[i];
    // P_next = T (P - PZ PZ'/F) T' + sigma2 R R', written to Pn from the updated entries
    // U[i, j] = P[i, j] - PZ[i] PZ[j] / F. With T's companion block,
    // (T U T')[i, j] = phi_i phi_j U00 + phi_i U[0, j+1] + phi_j U[i+1, 0] + U[i+1, j+1].
    const double u00 = P(0, 0) - PZ[0] * PZ[0] * inv_F;
    for (int i = 0; i < r; ++i) {
      const double u_i0 = i + 1 < r ? P(i + 1, 0) - PZ[i + 1] * PZ[0] * inv_F : 0.0;
      for (int j = i; j < r; ++j) {
        double acc = phi[i] * phi[j] * u00 + sigma2 * R[i] * R[j];
        if (j + 1 < r) {
          acc += phi[i] * (P(0, j + 1) - PZ[0] * PZ[j + 1] * inv_F);
          if (i + 1 < r) acc += P(i + 1, j + 1) - PZ[i + 1] * PZ[j + 1] * inv_F;
        }
        acc += phi[j] * u_i0;
        Pn(i, j) = acc;
        Pn(j, i) = acc;
      }
    }
    for (int c = r; c < dim; ++c) {
      // Cross terms with x_0 (T acts on the ARMA side only) and x_0's own block.
      const double u0c = P(0, c) - PZ[0] * PZ[c] * inv_F;
      for (int i = 0; i < r; ++i) {
        double acc = phi[i] * u0c;
        if (i + 1 < r) acc += P(i + 1, c) - PZ[i + 1] * PZ[c] * inv_F;
        Pn(i, c) = acc;
        Pn(c, i) = acc;
      }
      for (int c2 = r; c2 < dim; ++c2) Pn(c, c2) = P(c, c2) - PZ[c] * PZ[c2] * inv_F;
    }
    std::swap(P, Pn);
    if (record) Pn = spare;
  }
  // From here on x_0 no longer reaches the data and is dropped. Row and column r become a
  // zero pad (as do a[r] and PZ[r]), so the loops below need no bounds tests.
  for (int i = 0; i <= r; ++i) {
    P(r, i) = 0.0;
    P(i, r) = 0.0;
    Pn(r, i) = 0.0;
    Pn(i, r) = 0.0;
  }
  a[r] = 0.0;
  PZ[r] = 0.0;
  double loglik = 0.0;
  int n_used = 0;
  double ssq = 0.0;
  bool steady = false;
  int t_steady = -1;
  double F = 1.0;
  double inv_F = 1.0;
  double log_F = 0.0;
  for (int t = burn; t < n; ++t) {
    const double v = w[t] - a[0];
    if (!steady) {
      for (int i = 0; i < r; ++i) PZ[i] = P(0, i);
      F = PZ[0];
      if (!(F > 0.0)) return {-kInf, n_used, kInf, -1};
      log_F = std::log(F);
      inv_F = 1.0 / F;
    }
    loglik += -0.5 * (kLog2Pi + log_F + v * v * inv_F);
    ssq += v * v * inv_F;
    ++n_used;
    // a <- T (a + PZ v / F)
    const double gain_v = v * inv_F;
    const double a0 = a[0] + PZ[0] * gain_v;
    if (record) {
      tape->steps(t, 0) = v;
      tape->steps(t, 1) = F;
      tape->steps(t, 2) = a0;
    }
    for (int i = 0; i < r; ++i) a_new[i] = phi[i] * a0 + a[i + 1] + PZ[i + 1] * gain_v;
    for (int i = 0; i < r; ++i) a[i] = a_new[i];
    if (steady || t == n - 1) continue;
    if (record) Pn = tape->P[t + 1];
    // As above, with U = P - PZ PZ' / F. Here Z = e_0, so PZ = P[:, 0] and F = P[0, 0]:
    // U's first row and column vanish (state 0 has just been observed exactly) and the AR
    // column of T drops out: P_next[i, j] = U[i + 1, j + 1] + sigma2 R_i R_j. Only the
    // upper triangle is kept (and read, PZ from the first row).
    double diff = 0.0;
    double size = 0.0;
    for (int i = 0; i < r; ++i) {
      const double g_i = PZ[i + 1] * inv_F;
      const double s_r = sigma2 * R[i];
      for (int j = i; j < r; ++j) {
        const double acc = P(i + 1, j + 1) - g_i * PZ[j + 1] + s_r * R[j];
        Pn(i, j) = acc;
        diff = std::max(diff, std::abs(acc - P(i, j)));
        size = std::max(size, std::abs(acc));
      }
    }
    // The zero pad (a tape slot may hold x_0's terms from an earlier pass).
    for (int i = 0; i <= r; ++i) Pn(i, r) = 0.0;
    std::swap(P, Pn);
    if (diff <= kSteadyTolerance * size) {
      steady = true;
      t_steady = t;
    }
  }
  return {loglik, n_used, ssq, t_steady};
}

void kalman_run(ConstVec w, ConstMat T, ConstVec Z, ConstVec R, double sigma2, Mat P, int burn,
                double& loglik, int& n_used, Vec pred, Vec pred_var, Vec a) {
  const int n = w.size;
  const int k = T.rows;
  std::vector<double> PZ(k), a_next(k), TP(static_cast<std::size_t>(k) * k);
  a.fill(0.0);
  loglik = 0.0;
  n_used = 0;
  for (int t = 0; t < n; ++t) {
    double mean = 0.0;
    for (int i = 0; i < k; ++i) mean += Z[i] * a[i];
    double F = 0.0;
    for (int i = 0; i < k; ++i) {
      double s = 0.0;
      for (int j = 0; j < k; ++j) s += P(i, j) * Z[j];
      PZ[i] = s;
      F += Z[i] * s;
    }
    pred[t] = mean;
    pred_var[t] = F;
    if (!std::isnan(w[t]) && F > 0.0) {
      const double v = w[t] - mean;
      if (t >= burn) {
        loglik += -0.5 * (kLog2Pi + std::log(F) + v * v / F);
        ++n_used;
      }
      for (int i = 0; i < k; ++i) a[i] += PZ[i] * v / F;
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) P(i, j) -= PZ[i] * PZ[j] / F;
    }
    // a <- T a, P <- T P T' + sigma2 R R' (dense).
    for (int i = 0; i < k; ++i) {
      double acc = 0.0;
      for (int j = 0; j < k; ++j) acc += T(i, j) * a[j];
      a_next[i] = acc;
    }
    for (int i = 0; i < k; ++i) a[i] = a_next[i];
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        double acc = 0.0;
        for (int l = 0; l < k; ++l) acc += T(i, l) * P(l, j);
        TP[i * k + j] = acc;
      }
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        double acc = 0.0;
        for (int l = 0; l < k; ++l) acc += TP[i * k + l] * T(j, l);
        P(i, j) = acc + sigma2 * R[i] * R[j];
      }
  }
}

}  // namespace seqlab::arima

// The Kalman filter of a seasonal ARIMA model and the stationary covariance that starts it.
//
// State-space form (Harvey 1989, "Forecasting, structural time series models and the
// Kalman filter", sec. 3.3; the layout of statsmodels' SARIMAX with
// ``simple_differencing=False``, so both give the same likelihood): the state is
//
//     alpha_t = [integration states (d + D m) | ARMA states (r = max(p + P m, q + Q m + 1))]
//
// with y_t - x_t' beta = Z alpha_t (no measurement noise), alpha_{t+1} = T alpha_t + R eps_t,
// eps_t ~ N(0, sigma2). The ARMA block of T is a companion matrix with the expanded AR
// polynomial in its first column and R holds [1, theta_1, ..., theta_{r-1}]. The
// integration states start from an approximate diffuse prior (mean 0, variance kappa), the
// ARMA block from its stationary covariance, the solution of V = T V T' + R R' (Gardner,
// Harvey & Phillips 1980, "An algorithm for exact maximum likelihood estimation of ARMA
// models by means of Kalman filtering", Applied Statistics 29; found here from the
// process's autocovariances, Brockwell & Davis 1991, sec. 3.3). The first d + D m
// observations, which mostly pin down the diffuse states, are left out of the
// log-likelihood (statsmodels' ``loglikelihood_burn``). Missing values skip the update.
//
// Two filters compute that likelihood: ``state_space_loglik`` on the full state (any
// series, NaN allowed) and ``arma_filter_loglik`` on the differenced series (no NaN; the
// integration states' prior reaches only the first d + D m differenced values, through
// ``diffuse_loadings``), each step O(r^2) without sparse indexing. Both switch to a
// steady-state gain once the covariance stops changing (Harvey 1989, 3.3.4).
// ``kalman_run`` is the plain recursion with per-step outputs, no shortcuts.
//
// Held to references in tests/ts/test_arima.py: statsmodels' log-likelihood, forecasts and
// intervals at the same parameters; the differenced filter against the full recursion
// (test_differenced_filter_equals_state_space_filter); the steady-state shortcut against
// the full recursion (test_fast_filter_equals_full_filter); the stationary covariance
// against scipy's Lyapunov solver (test_stationary_covariance_solves_lyapunov_equation).
#pragma once

#include "array.hpp"

namespace seqlab::arima {

// Buffers of stationary_cov, which its adjoint reads back (adjoint.hpp).
struct AutocovarianceSystem {
  Mat G;           // (r + 1) square: LU factors of the autocovariance system
  Span<int> piv;   // r + 1 pivots
  Vec gamma;       // r + 1 autocovariances gamma_0..gamma_r (unit noise variance)
  Vec psi;         // r psi weights of the MA(infinity) form, psi_0..psi_{r-1}
  Vec rhs;         // r + 1: the system's right-hand side (adjoint: gamma's gradient)
  Vec spare;       // r + 1 (adjoint: psi's gradient)
  Vec R;           // r: [1, theta_full, 0, ...]
};

// Owned storage behind an AutocovarianceSystem for an ARMA block of r states.
class AutocovarianceStorage {
 public:
  explicit AutocovarianceStorage(int r)
      : G_(r + 1, r + 1), piv_(r + 1), gamma_(r + 1), psi_(r + 1), rhs_(r + 1), spare_(r + 1),
        R_(r) {}
  AutocovarianceSystem view() const {
    return {G_.view(), piv_.span(), gamma_.span(), psi_.span(), rhs_.span(), spare_.span(),
            R_.span()};
  }

 private:
  Matrix G_;
  Buffer<int> piv_;
  Buffer<double> gamma_, psi_, rhs_, spare_, R_;
};

// V (r x r) = the solution of V = T V T' + R R' for the companion T with phi_full in its
// first column and R = [1, theta_full], both padded to r:
//  1. psi_0..psi_{r-1};
//  2. gamma_0..gamma_r from gamma_k - sum_j phi_j gamma_|k-j| = sum_{j>=k} theta_j psi_{j-k};
//  3. V[0, k] = sum_j (phi_{k+j} gamma_{j+1} + theta_{k+j} psi_j);
//  4. V[i, k] = phi_i phi_k V[0, 0] + phi_i V[0, k+1] + phi_k V[0, i+1] + V[i+1, k+1]
//     + R_i R_k, from the bottom-right corner up.
// Returns false when the system is singular (an AR root on the unit circle) or V's
// diagonal is not finite and non-negative.
bool stationary_cov(ConstVec phi_full, ConstVec theta_full, Mat V, const AutocovarianceSystem& sys);

// Transition T and selection R of the full state from the coefficient-free T_base.
void build_system(ConstVec phi_full, ConstVec theta_full, ConstMat T_base, int k_diff_states,
                  Mat T, Vec R);

// Prior state covariance P (k x k): kappa on the integration states, sigma2 V on the ARMA
// block (NaN there when the AR part is not stationary). V is an r x r buffer.
void initial_cov(ConstVec phi_full, ConstVec theta_full, int k_diff_states, double sigma2,
                 double kappa, Mat P, Mat V, const AutocovarianceSystem& sys);

// How the integration states' prior reaches the differenced series: with w the series
// differenced with zero pre-sample values, w_t = u_t + E_t x_0 (u the ARMA process, x_0 the
// prior integration states), E_t = 0 from t = d + D m on. Writes E ((d + D m) square): the
// rows of Z' T^t restricted to the integration states, differenced the same way.
void diffuse_loadings(ConstMat T_base, ConstVec Z, int d, int D, int m, Mat E);

struct LoglikResult {
  double loglik;  // -inf when a prediction variance is not positive
  int n_used;     // observations summed over (after the burn-in, not NaN)
  double ssq;     // sum of v_t^2 / F_t over those
  int t_steady;   // step after which the steady-state gain took over, -1: never
};

// Buffers of state_space_loglik for k states.
struct StateSpaceBuffers {
  Span<int> csr_starts;  // k + 1
  Span<int> csr_cols;    // k * k
  Vec csr_vals;          // k * k
  Vec a, a_tmp, PZ, TPZ; // k each
  Mat TP;                // k x k
};

// Owned storage behind StateSpaceBuffers for k states.
class StateSpaceStorage {
 public:
  explicit StateSpaceStorage(int k)
      : starts_(k + 1), cols_(static_cast<std::size_t>(k) * k),
        vals_(static_cast<std::size_t>(k) * k), a_(k), a_tmp_(k), PZ_(k), TPZ_(k), TP_(k, k) {}
  StateSpaceBuffers view() const {
    return {starts_.span(), cols_.span(), vals_.span(), a_.span(), a_tmp_.span(),
            PZ_.span(),     TPZ_.span(),  TP_.view()};
  }

 private:
  Buffer<int> starts_, cols_;
  Buffer<double> vals_, a_, a_tmp_, PZ_, TPZ_;
  Matrix TP_;
};

// Gaussian log-likelihood of w = y - X beta (NaN allowed) by the Kalman filter on the full
// state, prior mean 0 and covariance P (overwritten). Observations before ``burn`` are not
// counted. The transition is applied in sparse (CSR) form: ARIMA transitions have about
// 2k non-zeros of k^2.
LoglikResult state_space_loglik(ConstVec w, ConstMat T, ConstVec Z, ConstVec R, double sigma2,
                                Mat P, int burn, const StateSpaceBuffers& buffers);

// What arma_filter_loglik records for its backward pass (adjoint.hpp); ``length`` 0: none.
struct FilterTape {
  MatrixStack P;   // P before each step that updates it; upper triangle after the burn-in
  Mat PZ;          // PZ of the burn-in steps (rows: min(length, d + D m))
  Mat steps;       // (v, F, a0) of every step; a0 the updated first state
  int length = 0;  // series length recorded for (0: not recording)
};

// Buffers of arma_filter_loglik: P, Pn ((r + kd + 1) square), a, a_new, PZ (that long).
struct ArmaFilterBuffers {
  Mat P, Pn;
  Vec a, a_new, PZ;
};

// The exact log-likelihood of state_space_loglik computed on the differenced series ``w``
// (no NaN) with the ARMA block as state (companion transition with ``phi`` (length r, zero
// padded) in its first column, selection ``R`` = [1, theta, ...]), augmented by x_0 (prior
// variance kappa, constant) for the first burn = rows(E) observations only. ``V`` is the
// stationary covariance at unit sigma2. With ``tape`` non-null and recording, fills it.
LoglikResult arma_filter_loglik(ConstVec w, ConstVec phi, ConstVec R, double sigma2, ConstMat V,
                                ConstMat E, double kappa, const ArmaFilterBuffers& buffers,
                                const FilterTape* tape);

// The plain filter with outputs: log-likelihood and its count, one-step predictions of w
// and their variances (length n each), and the predicted state mean (k) and covariance
// (k x k) for the first period after the sample. ``P`` holds the prior on entry.
void kalman_run(ConstVec w, ConstMat T, ConstVec Z, ConstVec R, double sigma2, Mat P, int burn,
                double& loglik, int& n_used, Vec pred, Vec pred_var, Vec a);

}  // namespace seqlab::arima

// The two objectives the optimiser minimises, with their gradients, for one estimation
// problem (a model specification and a series).
//
// - Objective::mle: the mean negative exact Gaussian log-likelihood, -loglik / n_used, at
//   the unconstrained vector u = [beta | partial autocorrelations (x) | log sigma2]
//   (spec.hpp; AR parts through pacf_to_coefs, MA parts through its negative, so every u
//   is stationary and invertible). A series without NaN goes through the filter on the
//   differenced series (arma_filter_loglik), others through the full state-space filter;
//   both compute the same likelihood (filter.hpp).
// - Objective::css: the mean conditional sum of squares over raw coefficients
//   u = [beta | ar | ma | sar | sma]: e_t = w_t - sum phi_i w_{t-i} - sum theta_j e_{t-j} on
//   the differenced series, the first p + P m residuals conditioned to zero (R's arima,
//   ``ARIMA_CSS`` in its C code).
//
// Gradients: the exact likelihood's by the adjoint pass (adjoint.hpp) where it is cheaper
// than finite differences and its tape fits, else by forward differences (step 1e-7
// |u|-relative) or, where the approximate diffuse prior makes the objective noisy at
// rounding level, central ones (step 1e-5); the CSS objective's by its own backward pass.
//
// Held to references by tests/ts/test_adjoint.py (both gradients against central
// differences; which path the gradient takes) and tests/ts/test_arima.py (the objective
// against the full state-space recursion and statsmodels' log-likelihood).
#pragma once

#include <vector>

#include "array.hpp"
#include "filter.hpp"
#include "spec.hpp"
#include "workspace.hpp"

namespace seqlab::arima {

// w = y - X beta.
void remove_regression(ConstVec y, ConstMat X, ConstVec beta, Vec w);

// Conditional residuals of the ARMA recursion on the differenced series w into
// e[0:len(w)]: e_t = w_t - sum phi_i w_{t-1-i} - sum theta_j e_{t-1-j} for t >= len(phi_full),
// earlier residuals taken as 0; the first len(phi_full) are set to 0.
void css_residuals(ConstVec w, ConstVec phi_full, ConstVec theta_full, Vec e);

class Problem {
 public:
  // y: n values (NaN allowed for Objective::mle); X: n x spec.k_exog regressors, row-major;
  // T_base: the k x k transition without ARMA coefficients; Z: the design vector (k).
  Problem(const Spec& spec, std::vector<double> y, std::vector<double> X,
          std::vector<double> T_base, std::vector<double> Z);

  const Spec& spec() const { return spec_; }
  int n() const { return n_; }
  ConstVec y() const { return {y_.data(), n_}; }
  ConstMat X() const { return {X_.data(), n_, spec_.k_exog}; }
  ConstMat T_base() const { return {T_base_.data(), k_, k_}; }
  ConstVec Z() const { return {Z_.data(), k_}; }
  bool has_nan() const { return has_nan_; }

  // The objective at u. With ``record`` (Objective::mle on a series without NaN, tape
  // allocated), also fill the tape for gradient_from_tape.
  double value(Objective objective, ConstVec u, bool record = false);

  // The objective and its exact gradient (adjoint pass for mle, which needs a series
  // without NaN and a tape that fits; the CSS backward pass for css).
  double value_and_gradient(Objective objective, ConstVec u, Vec g);

  // The gradient at u (where the objective equals f0), by the cheapest accurate path.
  void gradient(Objective objective, ConstVec u, double f0, bool central, Vec g);

  // The gradient at u from the tape of the last value(mle, u, record = true) call.
  void gradient_from_tape(ConstVec u, Vec g);

  // Whether the exact likelihood's gradient is taken by the adjoint pass: where finite
  // differences (one evaluation per parameter, two if central) would cost more and a tape
  // fits. The pass costs about 2.7 evaluations from scratch and 1.7 after an evaluation
  // that recorded its tape.
  bool uses_adjoint(Objective objective, int n_params, bool central, bool recorded) const;
  void ensure_tape();
  void release_tape();

  // Exact log-likelihood at constrained parameters (coefficients, sigma2).
  LoglikResult loglik(ConstVec beta, ConstVec ar, ConstVec ma, ConstVec sar, ConstVec sma,
                      double sigma2);

  // Profile log-likelihood at each row of U (Objective::mle layout), sigma2 profiled out:
  // with the prediction variances proportional to sigma2 (exact but for the fixed diffuse
  // variance), loglik(s2) = ll0 - n/2 log(s2/s0) - ssq/2 (s0/s2 - 1) is maximised at
  // s2 = s0 ssq / n. Writes (profile loglik, log s2) per row (-inf, 0 where not finite).
  void screen_starts(ConstMat U, Vec profile_loglik, Vec log_sigma2);

 private:
  struct MleEvaluation {
    LoglikResult result;
    double sigma2;
  };
  // Exact log-likelihood at the coefficients in ws_.coefs, beta and sigma2.
  LoglikResult loglik_at_coefs(ConstVec beta, double sigma2, bool record);
  MleEvaluation mle_loglik(ConstVec u, bool record);
  double mle_value(ConstVec u, bool record);
  double css_value(ConstVec u);
  double css_value_and_gradient(ConstVec u, Vec g);
  void finite_difference_gradient(Objective objective, ConstVec u, double f0, bool central, Vec g);

  Spec spec_;
  int n_;
  int k_;
  std::vector<double> y_, X_, T_base_, Z_;
  bool has_nan_;
  Workspace ws_;
};

}  // namespace seqlab::arima

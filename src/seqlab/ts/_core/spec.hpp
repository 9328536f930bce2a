// The model specification shared by every layer: orders, seasonal period, differencing,
// number of regressors and the diffuse prior variance of the integration states.
//
// Seasonal ARIMA(p, d, q)(P, D, Q)_m with k_exog regressors (Box & Jenkins; state-space
// layout of statsmodels' SARIMAX with ``simple_differencing=False``). The optimiser's
// parameter vectors are laid out as
//   MLE: [beta (k_exog) | AR | MA | seasonal AR | seasonal MA (partial autocorrelations,
//         unconstrained, see transforms.hpp) | log sigma2]
//   CSS: [beta (k_exog) | AR | MA | seasonal AR | seasonal MA (raw coefficients)]
// The sizes here must agree with seqlab.ts.arima._Spec (same formulas); the bindings check
// every array they are given against them.
#pragma once

#include <algorithm>

namespace seqlab::arima {

// Which objective a value, gradient or optimisation refers to.
enum class Objective {
  mle,  // mean negative exact Gaussian log-likelihood (Kalman filter), unconstrained vector
  css,  // mean conditional sum of squares (R's arima CSS), raw coefficients
};

// Why the optimiser stopped (optimizer.hpp).
enum class Status {
  gradient_small = 0,      // max-norm of the gradient below gtol
  no_progress = 1,         // the objective stopped falling (ftol), or no decrease possible
  iteration_limit = 2,     // maxiter reached
  line_search_failed = 3,  // no acceptable step away from an optimum
  joined_known = 4,        // came within JOIN_RADIUS of an optimum found from another start
};

struct Spec {
  int p = 0;        // AR order
  int q = 0;        // MA order
  int P = 0;        // seasonal AR order
  int Q = 0;        // seasonal MA order
  int m = 0;        // seasonal period (0 without seasonal terms)
  int d = 0;        // non-seasonal differences
  int D = 0;        // seasonal differences
  int k_exog = 0;   // regressors (trend terms included)
  double kappa = 1e6;  // prior variance of the integration states (approximate diffuse)

  int k_diff_states() const { return d + D * m; }
  int n_coefs() const { return p + q + P + Q; }
  int ar_length() const { return p + P * m; }  // expanded AR polynomial, without the 1
  int ma_length() const { return q + Q * m; }  // expanded MA polynomial, without the 1
  // ARMA block of the state (Harvey 1989, 3.3): max(p + P m, q + Q m + 1).
  int r() const { return std::max(ar_length(), ma_length() + 1); }
  int k_states() const { return k_diff_states() + r(); }
  int n_params(Objective objective) const {
    return k_exog + n_coefs() + (objective == Objective::mle ? 1 : 0);
  }
};

}  // namespace seqlab::arima

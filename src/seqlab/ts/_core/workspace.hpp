// Every buffer that one objective evaluation, gradient or optimisation needs, allocated once
// per estimation problem: an evaluation on a short series costs microseconds, so
// allocating its few dozen small arrays each time would cost about as much again.
//
// The tape of the adjoint gradient (one (k + 1)-square matrix per observation) is
// allocated on first use, and only while it stays within kMaxTape numbers; beyond that the
// exact likelihood's gradient is taken by finite differences (objective.hpp). The
// optimiser releases it when it returns: a fitted model keeps its problem (for forecasts
// and standard errors), and should not keep megabytes of tape with it.
//
// No numerics of its own: the buffers' sizes are exercised by every test of objective.hpp
// (tests/ts/test_adjoint.py runs seasonal orders with up to 27 states).
#pragma once

#include <cstddef>

#include "adjoint.hpp"
#include "array.hpp"
#include "filter.hpp"
#include "spec.hpp"

namespace seqlab::arima {

// Largest tape (numbers) of the adjoint gradient.
constexpr std::size_t kMaxTape = 4'000'000;

struct Workspace {
  Workspace(const Spec& spec, int n);

  // Whether the tape for a series of this length fits in kMaxTape; allocate it (once).
  bool tape_fits() const;
  void allocate_tape();
  void release_tape();

  // Parameters.
  Buffer<double> w;             // n: y - X beta (differenced in place for CSS)
  Buffer<double> coefs;         // AR | MA | seasonal AR | seasonal MA coefficients
  Buffer<double> pacf_scratch;  // 2 max(n_coefs, 1)
  Buffer<double> phi_full;      // expanded AR polynomial (p + P m)
  Buffer<double> theta_full;    // expanded MA polynomial (q + Q m)
  Buffer<double> phi_padded;    // phi_full padded with zeros to r

  // Stationary covariance V of the ARMA block and its autocovariance system.
  Matrix V;                     // r x r
  AutocovarianceStorage autocov_storage;
  AutocovarianceSystem autocov() const { return autocov_storage.view(); }

  // Full state-space filter (series with NaN): k = d + D m + r states.
  Matrix T;                     // k x k
  Buffer<double> R;             // k
  Matrix P;                     // k x k
  StateSpaceStorage state_space_storage;
  StateSpaceBuffers state_space() const { return state_space_storage.view(); }

  // Filter on the differenced series: (k + 1)-square and (k + 1)-long buffers.
  Matrix E;                     // diffuse loadings, (d + D m) square
  Matrix P_arma, Pn_arma;
  Buffer<double> a_arma, a_new, PZ_arma;
  ArmaFilterBuffers arma_filter() const;

  // CSS residuals and the CSS backward pass.
  Buffer<double> css_resid;     // n
  Buffer<double> css_resid_bar; // n

  // Adjoint gradient of the exact likelihood.
  FilterTape tape;
  Matrix S, Pbar, Ubar;         // (k + 1) square
  Buffer<double> abar, ap, PZbar, acc_PZ;  // k + 1
  Matrix V_bar, W;              // r x r
  Buffer<double> phi_bar, R_bar;  // r
  Buffer<double> w_bar;         // n
  Buffer<double> coef_bar, x_bar;  // max(n_coefs, 1)
  Matrix stages;                // max(p, q, P, Q, 1) square
  Buffer<double> phi_full_bar, theta_full_bar;
  FilterBackwardBuffers filter_backward() const;

  // What the backward pass needs of the last evaluation that recorded the tape.
  struct Recorded {
    double loglik = 0.0;
    int n_used = 0;
    double sigma2 = 0.0;
    int t_steady = -1;
  } recorded;

 private:
  Matrix tape_PZ_, tape_steps_;  // storage behind tape.PZ and tape.steps
  int n_;
  int k_;
};

}  // namespace seqlab::arima

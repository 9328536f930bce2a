// Reverse-mode (adjoint) gradient of the exact ARMA log-likelihood.
//
// The optimiser's objective is f(u) = -loglik(u) / n_used, a chain of small steps:
// u -> AR/MA coefficients (pacf_to_coefs, transforms.hpp) -> expanded polynomials
// (expand_polys) -> the stationary covariance V of the ARMA block (stationary_cov,
// filter.hpp) -> the Kalman filter on the differenced series (arma_filter_loglik). Each
// function here walks one of those steps backwards: given the gradient of f with respect
// to a step's outputs it adds the gradient with respect to its inputs (Griewank & Walther
// 2008, "Evaluating Derivatives", ch. 3). One backward pass costs about two forward ones
// whatever the number of parameters.
//
// The filter's backward pass uses, per step with v = w_t - Z'a, F = Z'PZ,
// U = P - PZ PZ'/F, a' = T (a + PZ v/F), P' = T U T' + sigma2 R R' and the symmetric
// adjoint S of P':
//
//     adj U = T' S T,   adj T += 2 S T U,   adj R += 2 sigma2 S R,   adj sigma2 += R' S R,
//     adj P = adj U + (adj PZ) Z'  (symmetrised),   adj PZ += -2 (adj U) PZ / F + (adj F) Z,
//     adj F += PZ' (adj U) PZ / F^2.
//
// Only the first column of T (the AR coefficients) depends on the parameters. The
// stationary covariance's backward pass walks its four steps back, with one transposed
// solve from the forward pass's LU factors.
//
// Held to central differences of the objective on real series by tests/ts/test_adjoint.py
// (relative error < 1e-5 of the largest component, seasonal and non-seasonal orders).
#pragma once

#include "array.hpp"
#include "filter.hpp"

namespace seqlab::arima {

// Backward pass of stationary_cov: adds the gradients with respect to phi (padded to r)
// and R to phi_bar and R_bar, given V_bar (symmetric). Reads the LU factors, gamma and psi
// that the forward call left in ``sys`` (its rhs and spare become scratch); W is r x r
// scratch.
void stationary_cov_adjoint(ConstVec phi, ConstVec R, ConstMat V, ConstMat V_bar,
                            const AutocovarianceSystem& sys, Mat W, Vec phi_bar, Vec R_bar);

// Scratch of arma_filter_backward: S, Pbar, Ubar ((r + kd + 1) square), abar, ap, PZbar,
// acc_PZ (that long).
struct FilterBackwardBuffers {
  Mat S, Pbar, Ubar;
  Vec abar, ap, PZbar, acc_PZ;
};

// Backward pass of arma_filter_loglik for f = -loglik / n_used from its tape. Writes the
// gradients of f with respect to the differenced series (w_bar), the padded AR column
// (phi_bar), R (R_bar) and V (V_bar); returns that with respect to sigma2.
double arma_filter_backward(ConstVec phi, ConstVec R, double sigma2, ConstMat V, ConstMat E,
                            int n_used, int t_steady, const FilterTape& tape, Vec w_bar,
                            Vec phi_bar, Vec R_bar, Mat V_bar, const FilterBackwardBuffers& b);

}  // namespace seqlab::arima

// Parameter transforms and lag polynomials: what turns the optimiser's vector into the
// coefficients the filter uses, and back.
//
// - Partial autocorrelations <-> AR coefficients (Jones 1980, "Maximum likelihood fitting
//   of ARMA models to time series with missing observations", Technometrics 22; Monahan
//   1984, "A note on enforcing stationarity in autoregressive-moving average models",
//   Biometrika 71): x -> r = x / sqrt(1 + x^2) in (-1, 1), read as partial
//   autocorrelations, then the Durbin-Levinson recursion gives the coefficients of a
//   stationary 1 - phi_1 L - ... - phi_p L^p. MA parts use the same map, negated.
// - Expansion of the multiplicative seasonal polynomials (1 - phi(L))(1 - Phi(L^m)) and
//   (1 + theta(L))(1 + Theta(L^m)).
// - The adjoints (reverse-mode derivatives, Griewank & Walther 2008) of both.
// - The smallest root modulus of a polynomial (companion-matrix eigenvalues by the
//   shifted QR algorithm of EISPACK's hqr, after balancing: Wilkinson & Reinsch 1971).
// - Differencing (1 - L)^d (1 - L^m)^D, shortening or with zero pre-sample values, and
//   the latter's transpose.
//
// Held to slow references by tests/ts/test_arima.py (round trip of the PACF transform,
// min_root_modulus against numpy.roots) and tests/ts/test_adjoint.py (the adjoints
// against central differences).
#pragma once

#include "array.hpp"

namespace seqlab::arima {

// Unconstrained x (length p) -> stationary AR coefficients phi (length p); ``scratch``
// holds at least p values.
void pacf_to_coefs(ConstVec x, Vec phi, Vec scratch);

// Inverse of pacf_to_coefs into ``x``; returns false (and fills x with NaN) when phi is
// not stationary. ``scratch`` holds at least 2 p values.
bool coefs_to_pacf(ConstVec phi, Vec x, Vec scratch);

// Backward pass of pacf_to_coefs: x_bar (length p) from the gradient coef_bar of the
// coefficients (overwritten as scratch); ``stages`` is a (>= p) x (>= p) scratch matrix.
void pacf_to_coefs_adjoint(ConstVec x, Vec coef_bar, Vec x_bar, Mat stages);

// phi_full (length p + P m) and theta_full (length q + Q m) with
// 1 - sum phi_full[i] L^(i+1) = (1 - sum ar_i L^i)(1 - sum sar_j L^(j m)) and
// 1 + sum theta_full[j] L^(j+1) = (1 + sum ma_i L^i)(1 + sum sma_j L^(j m)).
void expand_polys(ConstVec ar, ConstVec ma, ConstVec sar, ConstVec sma, int m, Vec phi_full,
                  Vec theta_full);

// Backward pass of expand_polys: the factors' gradients from phi_bar and theta_bar.
void expand_polys_adjoint(ConstVec ar, ConstVec ma, ConstVec sar, ConstVec sma, int m,
                          ConstVec phi_bar, ConstVec theta_bar, Vec ar_bar, Vec ma_bar,
                          Vec sar_bar, Vec sma_bar);

// Smallest modulus of the roots of poly[0] + poly[1] z + ... (poly[0] non-zero), ignoring
// trailing coefficients of magnitude <= 1e-8; +inf when no root is left. NaN if the QR
// iteration fails to converge.
double min_root_modulus(ConstVec poly);

// (1 - L)^d (1 - L^m)^D applied to x[0:n] in place, shortening: returns n - d - D m, the
// result in x[0:n - d - D m].
int difference_in_place(Vec x, int n, int d, int D, int m);

// (1 - L)^d (1 - L^m)^D applied in place with values before the sample taken as zero (the
// length is kept and the map has determinant 1).
void difference_zero_start(Vec x, int d, int D, int m);

// Transpose of difference_zero_start, in place.
void difference_zero_start_adjoint(Vec z, int d, int D, int m);

}  // namespace seqlab::arima

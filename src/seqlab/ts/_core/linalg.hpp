// Dense LU factorisation with partial pivoting and the two triangular solves built on it
// (Golub & Van Loan, "Matrix Computations", 4th ed., algorithms 3.4.1 and 3.1.1-2), for
// the small (r + 1)-square autocovariance system of the stationary covariance
// (filter.hpp) and its adjoint's transposed solve (adjoint.hpp). LAPACK's layout: L unit
// lower, U upper in place; at step k row k was swapped with row piv[k].
//
// Held to scipy's Lyapunov solver through the stationary covariance in
// tests/ts/test_arima.py (test_stationary_covariance_solves_lyapunov_equation) and to central
// differences through the adjoint in tests/ts/test_adjoint.py.
#pragma once

#include "array.hpp"

namespace seqlab::arima {

// Factorise the square ``G`` in place; false when a pivot vanishes to G's scale (1e-14).
bool lu_factor(Mat G, Span<int> piv);

// Solve G x = b in place (``x`` holds b on entry) from lu_factor's G and piv.
void lu_solve(ConstMat G, Span<const int> piv, Vec x);

// Solve G' x = b in place from lu_factor's G and piv.
void lu_solve_transposed(ConstMat G, Span<const int> piv, Vec x);

}  // namespace seqlab::arima

// BFGS with a backtracking (Armijo) line search, run entirely in compiled code: for these
// small problems, per-iteration interpreter overhead would otherwise dominate.
//
// Nocedal & Wright (2006), "Numerical Optimization", 2nd ed., Algorithm 6.1, with the
// initial inverse-Hessian scaling of eq. (6.20); the update is skipped when the curvature
// s'y is not positive, and the inverse Hessian is reset to the identity when the search
// direction stops descending or the line search fails after an update.
//
// With the adjoint gradient every evaluation records its tape, so that the gradient at an
// accepted step costs only the backward pass. A run that comes within kJoinRadius
// (max-norm) of an optimum already found from another start while still above its
// objective is heading for that optimum; it stops with Status::joined_known.
//
// Held to references by tests/ts/test_arima.py (optima against statsmodels' on the
// airline, Nile and sunspot series and M3 monthly series).
#pragma once

#include <vector>

#include "objective.hpp"
#include "spec.hpp"

namespace seqlab::arima {

// Max-norm distance (optimiser's scale) at which a run joins a known optimum.
constexpr double kJoinRadius = 1e-2;

struct BfgsOptions {
  int maxiter = 100;
  double gtol = 1e-5;   // stop when the gradient's max-norm falls below this
  double ftol = 1e-10;  // ... or the objective falls by less than this (relative) twice
  bool central = false; // central differences where finite differences are used
};

struct BfgsResult {
  std::vector<double> u;
  double f;
  int iterations;
  Status status;
};

// Minimise ``objective`` of ``problem`` from u0. ``known`` holds optima already found
// (rows of length u0.size) with objectives ``known_f``; pass none to disable joining.
BfgsResult minimize_bfgs(Problem& problem, Objective objective, ConstVec u0,
                         const BfgsOptions& options, ConstMat known, ConstVec known_f);

}  // namespace seqlab::arima

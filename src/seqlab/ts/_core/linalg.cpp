// LU factorisation and solves; see linalg.hpp.
#include "linalg.hpp"

#include <cmath>
#include <utility>

namespace seqlab::arima {

bool lu_factor(Mat G, Span<int> piv) {
  const int n = G.rows;
  double scale = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) scale = std::max(scale, std::abs(G(i, j)));
  for (int k = 0; k < n; ++k) {
    int best = k;
    for (int i = k + 1; i < n; ++i)
      if (std::abs(G(i, k)) > std::abs(G(best, k))) best = i;
    piv[k] = best;
    if (!(std::abs(G(best, k)) > 1e-14 * scale)) return false;
    if (best != k)
      for (int j = 0; j < n; ++j) std::swap(G(k, j), G(best, j));
    const double inv = 1.0 / G(k, k);
    for (int i = k + 1; i < n; ++i) {
      G(i, k) *= inv;
      const double f = G(i, k);
      if (f != 0.0)
        for (int j = k + 1; j < n; ++j) G(i, j) -= f * G(k, j);
    }
  }
  return true;
}

void lu_solve(ConstMat G, Span<const int> piv, Vec x) {
  const int n = G.rows;
  for (int k = 0; k < n; ++k) std::swap(x[k], x[piv[k]]);
  for (int i = 0; i < n; ++i) {
    double acc = x[i];
    for (int j = 0; j < i; ++j) acc -= G(i, j) * x[j];
    x[i] = acc;
  }
  for (int i = n - 1; i >= 0; --i) {
    double acc = x[i];
    for (int j = i + 1; j < n; ++j) acc -= G(i, j) * x[j];
    x[i] = acc / G(i, i);
  }
}

void lu_solve_transposed(ConstMat G, Span<const int> piv, Vec x) {
  // U' z = b, L' y = z, then the row swaps undone in reverse order.
  const int n = G.rows;
  for (int i = 0; i < n; ++i) {
    double acc = x[i];
    for (int j = 0; j < i; ++j) acc -= G(j, i) * x[j];
    x[i] = acc / G(i, i);
  }
  for (int i = n - 1; i >= 0; --i) {
    double acc = x[i];
    for (int j = i + 1; j < n; ++j) acc -= G(j, i) * x[j];
    x[i] = acc;
  }
  for (int k = n - 1; k >= 0; --k) std::swap(x[k], x[piv[k]]);
}

}  // namespace seqlab::arima

// BFGS; see optimizer.hpp.
#include "optimizer.hpp"

#include <algorithm>
#include <cmath>

namespace seqlab::arima {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double acc = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) acc += a[i] * b[i];
  return acc;
}

double max_abs(const std::vector<double>& a) {
  double m = 0.0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

void set_identity(std::vector<double>& H, int n, double scale) {
  std::fill(H.begin(), H.end(), 0.0);
  for (int i = 0; i < n; ++i) H[i * n + i] = scale;
}

}  // namespace

BfgsResult minimize_bfgs(Problem& problem, Objective objective, ConstVec u0,
                         const BfgsOptions& options, ConstMat known, ConstVec known_f) {
  const int n = u0.size;
  std::vector<double> u(u0.data, u0.data + n);
  std::vector<double> g(n), trial(n), g_trial(n), direction(n), s(n), yv(n), Hy(n);
  std::vector<double> H(static_cast<std::size_t>(n) * n);
  auto vec = [](std::vector<double>& v) { return Vec{v.data(), static_cast<int>(v.size())}; };
  const bool adjoint = problem.uses_adjoint(objective, n, options.central, true);
  if (adjoint) problem.ensure_tape();
  // Release the tape on every return path.
  struct TapeRelease {
    Problem& problem;
    ~TapeRelease() { problem.release_tape(); }
  } release{problem};
  auto evaluate = [&](std::vector<double>& x) { return problem.value(objective, vec(x), adjoint); };
  // With ``adjoint`` the last evaluation recorded its tape at x: the backward pass suffices.
  auto gradient = [&](std::vector<double>& x, double f, std::vector<double>& out) {
    if (adjoint)
      problem.gradient_from_tape(vec(x), vec(out));
    else
      problem.gradient(objective, vec(x), f, options.central, vec(out));
  };
  double f = evaluate(u);
  gradient(u, f, g);
  set_identity(H, n, 1.0);
  bool first = true;
  int small = 0;
  for (int it = 0; it < options.maxiter; ++it) {
    if (max_abs(g) < options.gtol) return {u, f, it, Status::gradient_small};
    for (int row = 0; row < known.rows; ++row) {
      if (!(f >= known_f[row])) continue;
      double dist = 0.0;
      for (int i = 0; i < n; ++i) dist = std::max(dist, std::abs(u[i] - known(row, i)));
      if (dist < kJoinRadius) return {u, f, it, Status::joined_known};
    }
    for (int i = 0; i < n; ++i) {
      double acc = 0.0;
      for (int j = 0; j < n; ++j) acc += H[i * n + j] * g[j];
      direction[i] = -acc;
    }
    double slope = dot(direction, g);
    if (!(slope < 0.0)) {
      set_identity(H, n, 1.0);
      for (int i = 0; i < n; ++i) direction[i] = -g[i];
      slope = -dot(g, g);
    }
    double step = 1.0;
    if (first) step = std::min(1.0, 1.0 / std::max(std::sqrt(dot(g, g)), 1e-12));
    bool accepted = false;
    double f_trial = 0.0;
    for (int attempt = 0; attempt < 60; ++attempt) {
      for (int i = 0; i < n; ++i) trial[i] = u[i] + step * direction[i];
      f_trial = evaluate(trial);
      if (f_trial <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      if (!first) {
        set_identity(H, n, 1.0);
        first = true;
        continue;
      }
      const Status status =
          max_abs(g) < 1e3 * options.gtol ? Status::no_progress : Status::line_search_failed;
      return {u, f, it, status};
    }
    gradient(trial, f_trial, g_trial);
    for (int i = 0; i < n; ++i) {
      s[i] = trial[i] - u[i];
      yv[i] = g_trial[i] - g[i];
    }
    const double sy = dot(s, yv);
    if (f - f_trial <= options.ftol * std::max(std::abs(f), 1.0))
      ++small;
    else
      small = 0;
    u.swap(trial);
    g.swap(g_trial);
    const double f_prev = f;
    f = f_trial;
    if (small >= 2) return {u, f, it + 1, Status::no_progress};
    if (sy > 1e-12 * std::sqrt(dot(s, s)) * std::sqrt(dot(yv, yv))) {
      if (first) {
        set_identity(H, n, sy / dot(yv, yv));
        first = false;
      }
      const double rho = 1.0 / sy;
      for (int i = 0; i < n; ++i) {
        double acc = 0.0;
        for (int j = 0; j < n; ++j) acc += H[i * n + j] * yv[j];
        Hy[i] = acc;
      }
      const double yHy = dot(yv, Hy);
      const double c = (sy + yHy) * rho * rho;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          H[i * n + j] = H[i * n + j] + c * (s[i] * s[j]) - rho * (Hy[i] * s[j] + s[i] * Hy[j]);
    } else if (f_prev - f <= 0.0) {
      set_identity(H, n, 1.0);
      first = true;
    }
  }
  return {u, f, options.maxiter, Status::iteration_limit};
}

}  // namespace seqlab::arima

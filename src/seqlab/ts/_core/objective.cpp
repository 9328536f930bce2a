// The exact-likelihood and CSS objectives with their gradients; see objective.hpp.
#include "objective.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "adjoint.hpp"
#include "transforms.hpp"

namespace seqlab::arima {

namespace {

const double kInf = std::numeric_limits<double>::infinity();
// The objective's value where the likelihood or the CSS recursion is not finite.
constexpr double kInfeasible = 1e10;

}  // namespace

// w = y - X beta.
void remove_regression(ConstVec y, ConstMat X, ConstVec beta, Vec w) {
  for (int t = 0; t < y.size; ++t) w[t] = y[t];
  for (int j = 0; j < X.cols; ++j)
    for (int t = 0; t < y.size; ++t) w[t] -= X(t, j) * beta[j];
}

// Conditional residuals of the ARMA recursion on w into e[0:len(w)], the first
// len(phi_full) set to 0.
void css_residuals(ConstVec w, ConstVec phi_full, ConstVec theta_full, Vec e) {
  const int n = w.size;
  const int ncond = phi_full.size;
  for (int t = 0; t < std::min(ncond, n); ++t) e[t] = 0.0;
  for (int t = ncond; t < n; ++t) {
    double s = w[t];
    for (int i = 0; i < phi_full.size; ++i) s -= phi_full[i] * w[t - 1 - i];
    for (int j = 0; j < std::min(theta_full.size, t - ncond); ++j)
      s -= theta_full[j] * e[t - 1 - j];
    e[t] = s;
  }
}

Problem::Problem(const Spec& spec, std::vector<double> y, std::vector<double> X,
                 std::vector<double> T_base, std::vector<double> Z)
    : spec_(spec),
      n_(static_cast<int>(y.size())),
      k_(spec.k_states()),
      y_(std::move(y)),
      X_(std::move(X)),
      T_base_(std::move(T_base)),
      Z_(std::move(Z)),
      has_nan_(std::any_of(y_.begin(), y_.end(), [](double v) { return std::isnan(v); })),
      ws_(spec, n_) {
  diffuse_loadings(this->T_base(), this->Z(), spec_.d, spec_.D, spec_.m, ws_.E.view());
}

void Problem::ensure_tape() { ws_.allocate_tape(); }

void Problem::release_tape() { ws_.release_tape(); }

bool Problem::uses_adjoint(Objective objective, int n_params, bool central, bool recorded) const {
  const bool cheaper = central || n_params > (recorded ? 1 : 3);
  return cheaper && objective == Objective::mle && ws_.tape_fits() && n_ > 0 && !has_nan_;
}

LoglikResult Problem::loglik_at_coefs(ConstVec beta, double sigma2, bool record) {
  const Spec& s = spec_;
  ConstVec coefs = ws_.coefs.span();
  const int p = s.p, q = s.q, P = s.P, Q = s.Q;
  Vec phi_full = ws_.phi_full.span(), theta_full = ws_.theta_full.span();
  expand_polys(coefs.segment(0, p), coefs.segment(p, q), coefs.segment(p + q, P),
               coefs.segment(p + q + P, Q), s.m, phi_full, theta_full);
  const AutocovarianceSystem sys = ws_.autocov();
  if (!has_nan_) {
    // The same likelihood on the differenced series, at a fraction of the cost.
    if (!stationary_cov(phi_full, theta_full, ws_.V.view(), sys)) return {-kInf, 0, kInf, -1};
    for (int i = 0; i < phi_full.size; ++i) ws_.phi_padded[i] = phi_full[i];
    Vec w = ws_.w.span();
    remove_regression(y(), X(), beta, w);
    difference_zero_start(w, s.d, s.D, s.m);
    const FilterTape* tape = record && ws_.tape.length > 0 ? &ws_.tape : nullptr;
    return arma_filter_loglik(w, ws_.phi_padded.span(), sys.R, sigma2, ws_.V.view(), ws_.E.view(),
                              s.kappa, ws_.arma_filter(), tape);
  }
  const int kd = s.k_diff_states();
  build_system(phi_full, theta_full, T_base(), kd, ws_.T.view(), ws_.R.span());
  initial_cov(phi_full, theta_full, kd, sigma2, s.kappa, ws_.P.view(), ws_.V.view(), sys);
  remove_regression(y(), X(), beta, ws_.w.span());
  return state_space_loglik(ws_.w.span(), ws_.T.view(), Z(), ws_.R.span(), sigma2, ws_.P.view(), kd,
                            ws_.state_space());
}

Problem::MleEvaluation Problem::mle_loglik(ConstVec u, bool record) {
  const Spec& s = spec_;
  const int k_x = s.k_exog;
  Vec coefs = ws_.coefs.span();
  Vec scratch = ws_.pacf_scratch.span();
  // AR parts through the PACF transform; MA parts through its negative.
  int offset = 0;
  const int sizes[4] = {s.p, s.q, s.P, s.Q};
  for (int part = 0; part < 4; ++part) {
    const int size = sizes[part];
    Vec out = coefs.segment(offset, size);
    pacf_to_coefs(u.segment(k_x + offset, size), out, scratch);
    if (part % 2 == 1)
      for (int i = 0; i < size; ++i) out[i] = -out[i];
    offset += size;
  }
  const double sigma2 = std::exp(u[k_x + offset]);
  return {loglik_at_coefs(u.head(k_x), sigma2, record), sigma2};
}

double Problem::mle_value(ConstVec u, bool record) {
  const MleEvaluation e = mle_loglik(u, record);
  if (record) ws_.recorded = {e.result.loglik, e.result.n_used, e.sigma2, e.result.t_steady};
  if (!std::isfinite(e.result.loglik)) return kInfeasible;
  return -e.result.loglik / std::max(e.result.n_used, 1);
}

void Problem::gradient_from_tape(ConstVec u, Vec g) {
  const Spec& s = spec_;
  const Workspace::Recorded last = ws_.recorded;
  if (!std::isfinite(last.loglik)) {
    g.fill(0.0);
    return;
  }
  const AutocovarianceSystem sys = ws_.autocov();
  Vec phi_bar = ws_.phi_bar.span(), R_bar = ws_.R_bar.span();
  const double s2_bar = arma_filter_backward(
      ws_.phi_padded.span(), sys.R, last.sigma2, ws_.V.view(), ws_.E.view(), last.n_used,
      last.t_steady, ws_.tape, ws_.w_bar.span(), phi_bar, R_bar, ws_.V_bar.view(),
      ws_.filter_backward());
  stationary_cov_adjoint(ws_.phi_padded.span(), sys.R, ws_.V.view(), ws_.V_bar.view(), sys,
                         ws_.W.view(), phi_bar, R_bar);
  Vec phi_full_bar = ws_.phi_full_bar.span(), theta_full_bar = ws_.theta_full_bar.span();
  for (int i = 0; i < phi_full_bar.size; ++i) phi_full_bar[i] = phi_bar[i];
  for (int j = 0; j < theta_full_bar.size; ++j) theta_full_bar[j] = R_bar[j + 1];
  const int k_x = s.k_exog;
  const int p = s.p, q = s.q, P = s.P, Q = s.Q;
  ConstVec coefs = ws_.coefs.span();
  Vec coef_bar = ws_.coef_bar.span(), x_bar = ws_.x_bar.span();
  expand_polys_adjoint(coefs.segment(0, p), coefs.segment(p, q), coefs.segment(p + q, P),
                       coefs.segment(p + q + P, Q), s.m, phi_full_bar, theta_full_bar,
                       coef_bar.segment(0, p), coef_bar.segment(p, q), coef_bar.segment(p + q, P),
                       coef_bar.segment(p + q + P, Q));
  // Back through the partial-autocorrelation transforms (MA parts enter negated).
  int offset = 0;
  const int sizes[4] = {p, q, P, Q};
  for (int part = 0; part < 4; ++part) {
    const int size = sizes[part];
    const double sign = part % 2 == 1 ? -1.0 : 1.0;
    for (int i = 0; i < size; ++i) coef_bar[offset + i] *= sign;
    pacf_to_coefs_adjoint(u.segment(k_x + offset, size), coef_bar.segment(offset, size),
                          x_bar.segment(offset, size), ws_.stages.view());
    for (int i = 0; i < size; ++i) g[k_x + offset + i] = x_bar[offset + i];
    offset += size;
  }
  g[k_x + offset] = s2_bar * last.sigma2;
  // w = difference(y - X beta)
  if (k_x) {
    Vec w_bar = ws_.w_bar.span();
    difference_zero_start_adjoint(w_bar, s.d, s.D, s.m);
    ConstMat Xm = X();
    for (int j = 0; j < k_x; ++j) {
      double acc = 0.0;
      for (int t = 0; t < n_; ++t) acc -= Xm(t, j) * w_bar[t];
      g[j] = acc;
    }
  }
}

double Problem::css_value(ConstVec u) {
  const Spec& s = spec_;
  const int k_x = s.k_exog;
  const int p = s.p, q = s.q, P = s.P, Q = s.Q;
  Vec phi_full = ws_.phi_full.span(), theta_full = ws_.theta_full.span();
  expand_polys(u.segment(k_x, p), u.segment(k_x + p, q), u.segment(k_x + p + q, P),
               u.segment(k_x + p + q + P, Q), s.m, phi_full, theta_full);
  Vec w = ws_.w.span();
  remove_regression(y(), X(), u.head(k_x), w);
  const int n = difference_in_place(w, n_, s.d, s.D, s.m);
  Vec e = ws_.css_resid.span();
  css_residuals(w.head(n), phi_full, theta_full, e);
  const int ncond = phi_full.size;
  double ssq = 0.0;
  for (int t = ncond; t < n; ++t) ssq += e[t] * e[t];
  if (!std::isfinite(ssq)) return kInfeasible;
  return ssq / std::max(n - ncond, 1);
}

double Problem::css_value_and_gradient(ConstVec u, Vec g) {
  // The residual recursion e_t = w_t - sum phi_i w_{t-1-i} - sum theta_j e_{t-1-j} walked
  // backwards, then expand_polys_adjoint and the transposes of the differencing and the
  // regression.
  const double f = css_value(u);
  g.fill(0.0);
  const Spec& s = spec_;
  ConstVec w = ws_.w.span();
  ConstVec phi_full = ws_.phi_full.span(), theta_full = ws_.theta_full.span();
  ConstVec e = ws_.css_resid.span();
  Vec w_bar = ws_.w_bar.span();
  Vec phi_bar = ws_.phi_full_bar.span(), theta_bar = ws_.theta_full_bar.span();
  Vec e_bar = ws_.css_resid_bar.span();
  const int k_x = s.k_exog;
  const int n = n_ - s.d - s.D * s.m;
  const int ncond = phi_full.size;
  for (int t = ncond; t < n; ++t)
    if (!std::isfinite(e[t])) return f;  // the objective's kInfeasible: no gradient
  const int nq = theta_full.size;
  const double scale = 2.0 / std::max(n - ncond, 1);
  for (int t = 0; t < n_; ++t) w_bar[t] = 0.0;
  phi_bar.fill(0.0);
  theta_bar.fill(0.0);
  for (int t = 0; t < n; ++t) e_bar[t] = t >= ncond ? scale * e[t] : 0.0;
  for (int t = n - 1; t >= ncond; --t) {
    const double eb = e_bar[t];
    w_bar[t] += eb;
    for (int i = 0; i < ncond; ++i) {
      phi_bar[i] -= eb * w[t - 1 - i];
      w_bar[t - 1 - i] -= eb * phi_full[i];
    }
    for (int j = 0; j < std::min(nq, t - ncond); ++j) {
      theta_bar[j] -= eb * e[t - 1 - j];
      e_bar[t - 1 - j] -= eb * theta_full[j];
    }
  }
  const int p = s.p, q = s.q, P = s.P, Q = s.Q;
  const int o = k_x + p + q + P;
  expand_polys_adjoint(u.segment(k_x, p), u.segment(k_x + p, q), u.segment(k_x + p + q, P),
                       u.segment(o, Q), s.m, phi_bar, theta_bar, g.segment(k_x, p),
                       g.segment(k_x + p, q), g.segment(k_x + p + q, P), g.segment(o, Q));
  if (k_x) {
    // Transposes of difference_in_place (each pass maps length L to L - lag) and of
    // y - X beta.
    int length = n;
    for (int pass = 0; pass < s.d; ++pass) {
      for (int t = length; t >= 0; --t) {
        const double prev = t >= 1 ? w_bar[t - 1] : 0.0;
        const double cur = t < length ? w_bar[t] : 0.0;
        w_bar[t] = prev - cur;
      }
      length += 1;
    }
    for (int pass = 0; pass < s.D; ++pass) {
      for (int t = length + s.m - 1; t >= 0; --t) {
        const double prev = t >= s.m ? w_bar[t - s.m] : 0.0;
        const double cur = t < length ? w_bar[t] : 0.0;
        w_bar[t] = prev - cur;
      }
      length += s.m;
    }
    ConstMat Xm = X();
    for (int j = 0; j < k_x; ++j) {
      double acc = 0.0;
      for (int t = 0; t < n_; ++t) acc -= Xm(t, j) * w_bar[t];
      g[j] = acc;
    }
  }
  return f;
}

double Problem::value(Objective objective, ConstVec u, bool record) {
  if (objective == Objective::mle) return mle_value(u, record && !has_nan_);
  return css_value(u);
}

double Problem::value_and_gradient(Objective objective, ConstVec u, Vec g) {
  if (objective == Objective::css) return css_value_and_gradient(u, g);
  if (has_nan_ || !ws_.tape_fits() || n_ == 0)
    throw std::invalid_argument(
        "the adjoint gradient needs a series without NaN and a tape within kMaxTape numbers");
  ensure_tape();
  const double f = mle_value(u, true);
  gradient_from_tape(u, g);
  return f;
}

void Problem::finite_difference_gradient(Objective objective, ConstVec u, double f0, bool central,
                                         Vec g) {
  std::vector<double> x(u.data, u.data + u.size);
  ConstVec xv{x.data(), u.size};
  for (int i = 0; i < u.size; ++i) {
    if (central) {
      const double h = 1e-5 * std::max(std::abs(u[i]), 1.0);
      x[i] = u[i] + h;
      const double fp = value(objective, xv);
      x[i] = u[i] - h;
      const double fm = value(objective, xv);
      g[i] = (fp - fm) / (2.0 * h);
    } else {
      const double h = 1e-7 * std::max(std::abs(u[i]), 1.0);
      x[i] = u[i] + h;
      const double fp = value(objective, xv);
      g[i] = (fp - f0) / h;
    }
    x[i] = u[i];
  }
}

void Problem::gradient(Objective objective, ConstVec u, double f0, bool central, Vec g) {
  if (objective == Objective::css && u.size > 2) {
    css_value_and_gradient(u, g);
    return;
  }
  if (uses_adjoint(objective, u.size, central, false)) {
    value_and_gradient(objective, u, g);
    return;
  }
  finite_difference_gradient(objective, u, f0, central, g);
}

LoglikResult Problem::loglik(ConstVec beta, ConstVec ar, ConstVec ma, ConstVec sar, ConstVec sma,
                             double sigma2) {
  Vec coefs = ws_.coefs.span();
  int offset = 0;
  for (ConstVec part : {ar, ma, sar, sma}) {
    for (int i = 0; i < part.size; ++i) coefs[offset + i] = part[i];
    offset += part.size;
  }
  return loglik_at_coefs(beta, sigma2, false);
}

void Problem::screen_starts(ConstMat U, Vec profile_loglik, Vec log_sigma2) {
  for (int c = 0; c < U.rows; ++c) {
    profile_loglik[c] = -kInf;
    log_sigma2[c] = 0.0;
    const MleEvaluation e = mle_loglik(U.row(c), false);
    const LoglikResult& res = e.result;
    if (std::isfinite(res.loglik) && res.n_used > 0 && res.ssq > 0) {
      const double n_used = res.n_used;
      profile_loglik[c] =
          res.loglik - 0.5 * n_used * std::log(res.ssq / n_used) - 0.5 * (n_used - res.ssq);
      log_sigma2[c] = std::log(e.sigma2 * res.ssq / n_used);
    }
  }
}

}  // namespace seqlab::arima

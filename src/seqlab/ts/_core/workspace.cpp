// Allocation of the workspace; see workspace.hpp.
#include "workspace.hpp"

#include <algorithm>

namespace seqlab::arima {

namespace {
std::size_t sq(int n) { return static_cast<std::size_t>(n) * n; }
}  // namespace

Workspace::Workspace(const Spec& spec, int n)
    : autocov_storage(spec.r()),
      state_space_storage(spec.k_states()),
      n_(n),
      k_(spec.k_states()) {
  const int k = k_;
  const int r = spec.r();
  const int kd = spec.k_diff_states();
  const int n_coefs = spec.n_coefs();
  w = Buffer<double>(n);
  coefs = Buffer<double>(n_coefs);
  pacf_scratch = Buffer<double>(2 * std::max(n_coefs, 1));
  phi_full = Buffer<double>(spec.ar_length());
  theta_full = Buffer<double>(spec.ma_length());
  phi_padded = Buffer<double>(r);
  phi_padded.span().fill(0.0);

  V = Matrix(r, r);

  T = Matrix(k, k);
  R = Buffer<double>(k);
  P = Matrix(k, k);

  E = Matrix(kd, kd);
  P_arma = Matrix(k + 1, k + 1);
  Pn_arma = Matrix(k + 1, k + 1);
  a_arma = Buffer<double>(k + 1);
  a_new = Buffer<double>(k + 1);
  PZ_arma = Buffer<double>(k + 1);

  css_resid = Buffer<double>(n);
  css_resid_bar = Buffer<double>(n);

  S = Matrix(k + 1, k + 1);
  Pbar = Matrix(k + 1, k + 1);
  Ubar = Matrix(k + 1, k + 1);
  abar = Buffer<double>(k + 1);
  ap = Buffer<double>(k + 1);
  PZbar = Buffer<double>(k + 1);
  acc_PZ = Buffer<double>(k + 1);
  V_bar = Matrix(r, r);
  W = Matrix(r, r);
  phi_bar = Buffer<double>(r);
  R_bar = Buffer<double>(r);
  w_bar = Buffer<double>(n);
  coef_bar = Buffer<double>(std::max(n_coefs, 1));
  x_bar = Buffer<double>(std::max(n_coefs, 1));
  const int widest = std::max({spec.p, spec.q, spec.P, spec.Q, 1});
  stages = Matrix(widest, widest);
  phi_full_bar = Buffer<double>(spec.ar_length());
  theta_full_bar = Buffer<double>(spec.ma_length());
}

bool Workspace::tape_fits() const {
  return static_cast<std::size_t>(n_) * sq(k_ + 1) <= kMaxTape;
}

void Workspace::allocate_tape() {
  if (tape.length > 0 || !tape_fits() || n_ == 0) return;
  tape.P = MatrixStack(n_, k_ + 1, k_ + 1);
  tape_PZ_ = Matrix(std::min(n_, E.rows()), k_ + 1);
  tape_steps_ = Matrix(n_, 3);
  tape.PZ = tape_PZ_.view();
  tape.steps = tape_steps_.view();
  tape.length = n_;
}

void Workspace::release_tape() {
  tape = FilterTape{};
  tape_PZ_ = Matrix();
  tape_steps_ = Matrix();
}

ArmaFilterBuffers Workspace::arma_filter() const {
  return {P_arma.view(), Pn_arma.view(), a_arma.span(), a_new.span(), PZ_arma.span()};
}

FilterBackwardBuffers Workspace::filter_backward() const {
  return {S.view(), Pbar.view(), Ubar.view(), abar.span(), ap.span(), PZbar.span(), acc_PZ.span()};
}

}  // namespace seqlab::arima

// Python bindings of the ARIMA core (module seqlab.ts._arima_core). Arrays cross as
// float64, C-contiguous (converted when needed); results come back as new numpy arrays.
// seqlab/ts/_kalman.py is the Python face of this module.
#include <pybind11/native_enum.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "filter.hpp"
#include "objective.hpp"
#include "optimizer.hpp"
#include "spec.hpp"
#include "stl.hpp"
#include "transforms.hpp"

namespace py = pybind11;
using namespace seqlab::arima;

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

ConstVec vec_of(const Array& a, const char* name) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be 1-D");
  return {a.data(), static_cast<int>(a.shape(0))};
}

ConstMat mat_of(const Array& a, const char* name) {
  if (a.ndim() != 2) throw std::invalid_argument(std::string(name) + " must be 2-D");
  return {a.data(), static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1))};
}

std::vector<double> copy_of(const Array& a) { return {a.data(), a.data() + a.size()}; }

Array new_vec(int n) { return Array(n); }
Vec vec_mut(Array& a) { return {a.mutable_data(), static_cast<int>(a.size())}; }
Array new_mat(int rows, int cols) { return Array({rows, cols}); }
Mat mat_mut(Array& a) {
  return {a.mutable_data(), static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1))};
}

void check_length(ConstVec u, int expected, const char* name) {
  if (u.size != expected)
    throw std::invalid_argument(std::string(name) + " must have " + std::to_string(expected) +
                                " values, got " + std::to_string(u.size));
}

// The stationary covariance with buffers of its own: (V, ok).
std::pair<Array, bool> stationary_cov_alloc(ConstVec phi, ConstVec theta) {
  const int r = std::max(phi.size, theta.size + 1);
  Array V = new_mat(r, r);
  const bool ok = stationary_cov(phi, theta, mat_mut(V), AutocovarianceStorage(r).view());
  return {V, ok};
}

Problem make_problem(const Spec& spec, const Array& y, const Array& X, const Array& T_base,
                     const Array& Z) {
  ConstVec yv = vec_of(y, "y");
  ConstMat Xm = mat_of(X, "X");
  ConstMat T = mat_of(T_base, "T_base");
  ConstVec Zv = vec_of(Z, "Z");
  if (Xm.rows != yv.size || Xm.cols != spec.k_exog)
    throw std::invalid_argument("X must be (len(y), spec.k_exog)");
  if (T.rows != spec.k_states() || T.cols != spec.k_states() || Zv.size != spec.k_states())
    throw std::invalid_argument("T_base must be k x k and Z of length k, k = spec.k_states");
  return Problem(spec, copy_of(y), copy_of(X), copy_of(T_base), copy_of(Z));
}

}  // namespace

PYBIND11_MODULE(_arima_core, mod) {
  mod.doc() = "Compiled ARIMA core: transforms, Kalman filters, adjoint gradients, BFGS, STL.";

  py::native_enum<Objective>(mod, "Objective", "enum.Enum",
                             "Which objective a value, gradient or optimisation refers to.")
      .value("MLE", Objective::mle, "mean negative exact log-likelihood (Kalman filter)")
      .value("CSS", Objective::css, "mean conditional sum of squares")
      .finalize();
  py::native_enum<Status>(mod, "Status", "enum.IntEnum", "Why BFGS stopped.")
      .value("GRADIENT_SMALL", Status::gradient_small)
      .value("NO_PROGRESS", Status::no_progress)
      .value("ITERATION_LIMIT", Status::iteration_limit)
      .value("LINE_SEARCH_FAILED", Status::line_search_failed)
      .value("JOINED_KNOWN", Status::joined_known)
      .finalize();
  mod.attr("JOIN_RADIUS") = kJoinRadius;
  mod.attr("MAX_TAPE") = kMaxTape;

  py::class_<Spec>(mod, "Spec", "Seasonal ARIMA(p, d, q)(P, D, Q)_m with k_exog regressors.")
      .def(py::init([](int p, int q, int P, int Q, int m, int d, int D, int k_exog, double kappa) {
             for (int v : {p, q, P, Q, m, d, D, k_exog})
               if (v < 0) throw std::invalid_argument("Spec orders must be >= 0");
             if ((P || Q || D) && m < 1)
               throw std::invalid_argument("seasonal terms need a period m >= 1");
             return Spec{p, q, P, Q, m, d, D, k_exog, kappa};
           }),
           py::kw_only(), py::arg("p") = 0, py::arg("q") = 0, py::arg("P") = 0, py::arg("Q") = 0,
           py::arg("m") = 0, py::arg("d") = 0, py::arg("D") = 0, py::arg("k_exog") = 0,
           py::arg("kappa") = 1e6)
      .def_readonly("p", &Spec::p)
      .def_readonly("q", &Spec::q)
      .def_readonly("P", &Spec::P)
      .def_readonly("Q", &Spec::Q)
      .def_readonly("m", &Spec::m)
      .def_readonly("d", &Spec::d)
      .def_readonly("D", &Spec::D)
      .def_readonly("k_exog", &Spec::k_exog)
      .def_readonly("kappa", &Spec::kappa)
      .def_property_readonly("k_diff_states", &Spec::k_diff_states)
      .def_property_readonly("k_states", &Spec::k_states)
      .def_property_readonly("r", &Spec::r)
      .def("n_params", &Spec::n_params, py::arg("objective"))
      .def("__repr__",
           [](const Spec& s) {
             return "Spec(p=" + std::to_string(s.p) + ", q=" + std::to_string(s.q) +
                    ", P=" + std::to_string(s.P) + ", Q=" + std::to_string(s.Q) +
                    ", m=" + std::to_string(s.m) + ", d=" + std::to_string(s.d) +
                    ", D=" + std::to_string(s.D) + ", k_exog=" + std::to_string(s.k_exog) +
                    ", kappa=" + std::to_string(s.kappa) + ")";
           })
      .def(py::pickle(
          [](const Spec& s) {
            return py::make_tuple(s.p, s.q, s.P, s.Q, s.m, s.d, s.D, s.k_exog, s.kappa);
          },
          [](const py::tuple& t) {
            return Spec{t[0].cast<int>(), t[1].cast<int>(), t[2].cast<int>(), t[3].cast<int>(),
                        t[4].cast<int>(), t[5].cast<int>(), t[6].cast<int>(), t[7].cast<int>(),
                        t[8].cast<double>()};
          }));

  py::class_<Problem>(mod, "Problem",
                      "One estimation problem: a Spec, the series y (n), regressors X (n x "
                      "k_exog), the coefficient-free transition T_base and design Z. Holds "
                      "the buffers its evaluations reuse: not for concurrent use by threads.")
      .def(py::init(&make_problem), py::arg("spec"), py::arg("y"), py::arg("X"),
           py::arg("T_base"), py::arg("Z"))
      .def_property_readonly("spec", &Problem::spec)
      .def(
          "value",
          [](Problem& self, Objective objective, const Array& u) {
            ConstVec uv = vec_of(u, "u");
            check_length(uv, self.spec().n_params(objective), "u");
            return self.value(objective, uv);
          },
          py::arg("objective"), py::arg("u"),
          "The objective at u.")
      .def(
          "value_and_gradient",
          [](Problem& self, Objective objective, const Array& u) {
            ConstVec uv = vec_of(u, "u");
            check_length(uv, self.spec().n_params(objective), "u");
            Array g = new_vec(uv.size);
            const double f = self.value_and_gradient(objective, uv, vec_mut(g));
            return py::make_tuple(f, g);
          },
          py::arg("objective"), py::arg("u"),
          "(f, g): the objective and its exact gradient (adjoint pass for MLE: no NaN in y).")
      .def(
          "gradient",
          [](Problem& self, Objective objective, const Array& u, double f0, bool central) {
            ConstVec uv = vec_of(u, "u");
            check_length(uv, self.spec().n_params(objective), "u");
            Array g = new_vec(uv.size);
            self.gradient(objective, uv, f0, central, vec_mut(g));
            return g;
          },
          py::arg("objective"), py::arg("u"), py::arg("f0"), py::arg("central"),
          "The gradient at u (objective f0 there) by the cheapest accurate path.")
      .def(
          "loglik",
          [](Problem& self, const Array& beta, const Array& ar, const Array& ma, const Array& sar,
             const Array& sma, double sigma2) {
            const Spec& s = self.spec();
            ConstVec b = vec_of(beta, "beta"), a = vec_of(ar, "ar"), m = vec_of(ma, "ma"),
                     sa = vec_of(sar, "sar"), sm = vec_of(sma, "sma");
            check_length(b, s.k_exog, "beta");
            check_length(a, s.p, "ar");
            check_length(m, s.q, "ma");
            check_length(sa, s.P, "sar");
            check_length(sm, s.Q, "sma");
            const LoglikResult res = self.loglik(b, a, m, sa, sm, sigma2);
            return py::make_tuple(res.loglik, res.n_used, res.ssq);
          },
          py::arg("beta"), py::arg("ar"), py::arg("ma"), py::arg("sar"), py::arg("sma"),
          py::arg("sigma2"),
          "(loglik, n_used, ssq): exact log-likelihood at constrained parameters.")
      .def(
          "screen_starts",
          [](Problem& self, const Array& U) {
            ConstMat Um = mat_of(U, "U");
            if (Um.cols != self.spec().n_params(Objective::mle))
              throw std::invalid_argument("U must have one column per MLE parameter");
            Array ll = new_vec(Um.rows), log_s2 = new_vec(Um.rows);
            self.screen_starts(Um, vec_mut(ll), vec_mut(log_s2));
            return py::make_tuple(ll, log_s2);
          },
          py::arg("U"),
          "(profile loglik, log sigma2) at each row of U, sigma2 profiled out.")
      .def(
          "minimize",
          [](Problem& self, Objective objective, const Array& u0, int maxiter, double gtol,
             double ftol, bool central, const Array& known, const Array& known_f) {
            ConstVec u = vec_of(u0, "u0");
            check_length(u, self.spec().n_params(objective), "u0");
            ConstMat K = mat_of(known, "known");
            ConstVec Kf = vec_of(known_f, "known_f");
            if (K.rows != Kf.size || (K.rows > 0 && K.cols != u.size))
              throw std::invalid_argument("known must be (len(known_f), len(u0))");
            BfgsResult res;
            {
              py::gil_scoped_release release;
              res = minimize_bfgs(self, objective, u, BfgsOptions{maxiter, gtol, ftol, central},
                                  K, Kf);
            }
            Array out = new_vec(u.size);
            std::copy(res.u.begin(), res.u.end(), out.mutable_data());
            return py::make_tuple(out, res.f, res.iterations, res.status);
          },
          py::arg("objective"), py::arg("u0"), py::arg("maxiter"), py::arg("gtol"),
          py::arg("ftol"), py::arg("central"), py::arg("known"), py::arg("known_f"),
          "(u, f, iterations, Status): BFGS from u0; stops on joining a known optimum.")
      .def(py::pickle(
          [](const Problem& self) {
            auto as_array = [](ConstVec v) { return Array(v.size, v.data); };
            ConstMat X = self.X(), T = self.T_base();
            Array Xa({X.rows, X.cols}, X.data), Ta({T.rows, T.cols}, T.data);
            return py::make_tuple(self.spec(), as_array(self.y()), Xa, Ta, as_array(self.Z()));
          },
          [](const py::tuple& t) {
            return make_problem(t[0].cast<Spec>(), t[1].cast<Array>(), t[2].cast<Array>(),
                                t[3].cast<Array>(), t[4].cast<Array>());
          }));

  mod.def(
      "pacf_to_coefs",
      [](const Array& x) {
        ConstVec xv = vec_of(x, "x");
        Array phi = new_vec(xv.size);
        Buffer<double> scratch(std::max(xv.size, 1));
        pacf_to_coefs(xv, vec_mut(phi), scratch.span());
        return phi;
      },
      py::arg("x"),
      "Unconstrained x -> stationary AR coefficients (Jones 1980; Monahan 1984).");
  mod.def(
      "coefs_to_pacf",
      [](const Array& phi) {
        ConstVec pv = vec_of(phi, "phi");
        Array x = new_vec(pv.size);
        Buffer<double> scratch(2 * std::max(pv.size, 1));
        coefs_to_pacf(pv, vec_mut(x), scratch.span());
        return x;
      },
      py::arg("phi"),
      "Inverse of pacf_to_coefs; NaN where phi is not stationary.");
  mod.def(
      "pacf_to_coefs_adjoint",
      [](const Array& x, const Array& coef_bar) {
        ConstVec xv = vec_of(x, "x");
        ConstVec cb = vec_of(coef_bar, "coef_bar");
        check_length(cb, xv.size, "coef_bar");
        std::vector<double> work(cb.data, cb.data + cb.size);
        Array x_bar = new_vec(xv.size);
        Matrix stages(std::max(xv.size, 1), std::max(xv.size, 1));
        pacf_to_coefs_adjoint(xv, {work.data(), cb.size}, vec_mut(x_bar), stages.view());
        return x_bar;
      },
      py::arg("x"), py::arg("coef_bar"),
      "Gradient with respect to x of coef_bar . pacf_to_coefs(x).");
  mod.def(
      "expand_polys",
      [](const Array& ar, const Array& ma, const Array& sar, const Array& sma, int m) {
        ConstVec a = vec_of(ar, "ar"), b = vec_of(ma, "ma"), c = vec_of(sar, "sar"),
                 e = vec_of(sma, "sma");
        Array phi = new_vec(a.size + c.size * m), theta = new_vec(b.size + e.size * m);
        expand_polys(a, b, c, e, m, vec_mut(phi), vec_mut(theta));
        return py::make_tuple(phi, theta);
      },
      py::arg("ar"), py::arg("ma"), py::arg("sar"), py::arg("sma"), py::arg("m"),
      "(phi_full, theta_full): the multiplied-out seasonal AR and MA polynomials.");
  mod.def(
      "min_root_modulus", [](const Array& poly) { return min_root_modulus(vec_of(poly, "poly")); },
      py::arg("poly"),
      "Smallest root modulus of poly[0] + poly[1] z + ... (trailing |c| <= 1e-8 ignored; "
      "inf if none).");
  mod.def(
      "difference",
      [](const Array& x, int d, int D, int m) {
        ConstVec xv = vec_of(x, "x");
        std::vector<double> work(xv.data, xv.data + xv.size);
        const int n = std::max(xv.size - d - D * m, 0);
        if (xv.size - d - D * m > 0) difference_in_place({work.data(), xv.size}, xv.size, d, D, m);
        Array out = new_vec(n);
        std::copy(work.begin(), work.begin() + n, out.mutable_data());
        return out;
      },
      py::arg("x"), py::arg("d"), py::arg("D"), py::arg("m"),
      "(1 - L)^d (1 - L^m)^D x, d + D m shorter.");
  mod.def(
      "css_residuals",
      [](const Array& w, const Array& phi, const Array& theta) {
        ConstVec wv = vec_of(w, "w");
        Array e = new_vec(wv.size);
        css_residuals(wv, vec_of(phi, "phi"), vec_of(theta, "theta"), vec_mut(e));
        return e;
      },
      py::arg("w"), py::arg("phi"), py::arg("theta"),
      "Conditional residuals of the ARMA recursion (R's ARIMA_CSS); the first len(phi) are 0.");
  mod.def(
      "remove_regression",
      [](const Array& y, const Array& X, const Array& beta) {
        ConstVec yv = vec_of(y, "y");
        ConstMat Xm = mat_of(X, "X");
        ConstVec b = vec_of(beta, "beta");
        if (Xm.rows != yv.size || Xm.cols != b.size)
          throw std::invalid_argument("X must be (len(y), len(beta))");
        Array w = new_vec(yv.size);
        remove_regression(yv, Xm, b, vec_mut(w));
        return w;
      },
      py::arg("y"), py::arg("X"), py::arg("beta"),
      "y - X beta.");
  mod.def(
      "stationary_cov",
      [](const Array& phi, const Array& theta) {
        auto [V, ok] = stationary_cov_alloc(vec_of(phi, "phi"), vec_of(theta, "theta"));
        return py::make_tuple(V, ok);
      },
      py::arg("phi"), py::arg("theta"),
      "(V, ok): the ARMA block's stationary covariance at unit noise variance.");
  mod.def(
      "build_system",
      [](const Array& phi, const Array& theta, const Array& T_base, int k_diff_states) {
        ConstMat Tb = mat_of(T_base, "T_base");
        Array T = new_mat(Tb.rows, Tb.cols), R = new_vec(Tb.rows);
        build_system(vec_of(phi, "phi"), vec_of(theta, "theta"), Tb, k_diff_states, mat_mut(T),
                     vec_mut(R));
        return py::make_tuple(T, R);
      },
      py::arg("phi"), py::arg("theta"), py::arg("T_base"), py::arg("k_diff_states"),
      "(T, R): transition and selection of the full state.");
  mod.def(
      "initial_cov",
      [](const Array& phi, const Array& theta, int k, int k_diff_states, double sigma2,
         double kappa) {
        ConstVec pv = vec_of(phi, "phi"), tv = vec_of(theta, "theta");
        const int r = k - k_diff_states;
        Array P = new_mat(k, k);
        Matrix V(r, r);
        const AutocovarianceStorage sys(r);
        initial_cov(pv, tv, k_diff_states, sigma2, kappa, mat_mut(P), V.view(), sys.view());
        return P;
      },
      py::arg("phi"), py::arg("theta"), py::arg("k"), py::arg("k_diff_states"),
      py::arg("sigma2"), py::arg("kappa"),
      "Prior state covariance: kappa on the integration states, sigma2 V on the ARMA block.");
  mod.def(
      "kalman_loglik",
      [](const Array& w, const Array& T, const Array& Z, const Array& R, double sigma2,
         const Array& P0, int burn) {
        ConstMat Tm = mat_of(T, "T");
        const int k = Tm.rows;
        Array P = Array({k, k}, P0.data());
        const StateSpaceStorage buffers(k);
        const LoglikResult res = state_space_loglik(vec_of(w, "w"), Tm, vec_of(Z, "Z"),
                                                    vec_of(R, "R"), sigma2, mat_mut(P), burn,
                                                    buffers.view());
        return py::make_tuple(res.loglik, res.n_used, res.ssq);
      },
      py::arg("w"), py::arg("T"), py::arg("Z"), py::arg("R"), py::arg("sigma2"), py::arg("P0"),
      py::arg("burn"),
      "(loglik, n_used, ssq) by the state-space filter (steady-state shortcut).");
  mod.def(
      "kalman_run",
      [](const Array& w, const Array& T, const Array& Z, const Array& R, double sigma2,
         const Array& P0, int burn) {
        ConstVec wv = vec_of(w, "w");
        ConstMat Tm = mat_of(T, "T");
        const int k = Tm.rows;
        Array P = Array({k, k}, P0.data());
        Array pred = new_vec(wv.size), pred_var = new_vec(wv.size), a = new_vec(k);
        double loglik = 0.0;
        int n_used = 0;
        kalman_run(wv, Tm, vec_of(Z, "Z"), vec_of(R, "R"), sigma2, mat_mut(P), burn, loglik,
                   n_used, vec_mut(pred), vec_mut(pred_var), vec_mut(a));
        return py::make_tuple(loglik, n_used, pred, pred_var, a, P);
      },
      py::arg("w"), py::arg("T"), py::arg("Z"), py::arg("R"), py::arg("sigma2"), py::arg("P0"),
      py::arg("burn"),
      "(loglik, n_used, pred, pred_var, a, P): the plain filter with per-step outputs.");
  mod.def(
      "stl",
      [](const Array& y, int period, int seasonal, int trend, int low_pass, int seasonal_deg,
         int trend_deg, int low_pass_deg, int inner_iter) {
        ConstVec yv = vec_of(y, "y");
        Array season = new_vec(yv.size), trend_out = new_vec(yv.size);
        seqlab::stl::StlOptions opt{period,    seasonal,     trend,        low_pass,
                                    seasonal_deg, trend_deg, low_pass_deg, inner_iter};
        seqlab::stl::decompose(yv, opt, vec_mut(season), vec_mut(trend_out));
        return py::make_tuple(season, trend_out);
      },
      py::arg("y"), py::arg("period"), py::arg("seasonal"), py::arg("trend"), py::arg("low_pass"),
      py::arg("seasonal_deg"), py::arg("trend_deg"), py::arg("low_pass_deg"),
      py::arg("inner_iter"),
      "(seasonal, trend) of STL (Cleveland et al. 1990), non-robust.");
}

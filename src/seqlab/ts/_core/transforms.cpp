// Parameter transforms and lag polynomials; see transforms.hpp for what each computes and
// the references it follows.
#include "transforms.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace seqlab::arima {

void pacf_to_coefs(ConstVec x, Vec phi, Vec scratch) {
  const int p = x.size;
  for (int k = 0; k < p; ++k) {
    const double r = x[k] / std::sqrt(1.0 + x[k] * x[k]);
    for (int i = 0; i < k; ++i) scratch[i] = phi[i];
    for (int i = 0; i < k; ++i) phi[i] = scratch[i] - r * scratch[k - 1 - i];
    phi[k] = r;
  }
}

bool coefs_to_pacf(ConstVec phi, Vec x, Vec scratch) {
  const int p = phi.size;
  Vec cur = scratch.head(p);
  Vec prev = scratch.segment(p, p);
  for (int i = 0; i < p; ++i) cur[i] = phi[i];
  for (int k = p - 1; k >= 0; --k) {
    const double r = cur[k];
    if (!(std::abs(r) < 1.0)) {
      x.fill(std::numeric_limits<double>::quiet_NaN());
      return false;
    }
    x[k] = r / std::sqrt(1.0 - r * r);
    for (int i = 0; i < k; ++i) prev[i] = (cur[i] + r * cur[k - 1 - i]) / (1.0 - r * r);
    for (int i = 0; i < k; ++i) cur[i] = prev[i];
  }
  return true;
}

void pacf_to_coefs_adjoint(ConstVec x, Vec coef_bar, Vec x_bar, Mat stages) {
  const int p = x.size;
  for (int k = 0; k < p; ++k) {
    const double r = x[k] / std::sqrt(1.0 + x[k] * x[k]);
    for (int i = 0; i < k; ++i) stages(k, i) = stages(k - 1, i) - r * stages(k - 1, k - 1 - i);
    stages(k, k) = r;
  }
  for (int k = p - 1; k >= 0; --k) {
    // Stage k: phi_i = prev_i - r prev_{k-1-i} (i < k), phi_k = r. Row k of ``stages`` is
    // not needed any more and holds the gradient of the previous stage.
    const double r = stages(k, k);
    double r_bar = coef_bar[k];
    for (int i = 0; i < k; ++i) r_bar -= coef_bar[i] * stages(k - 1, k - 1 - i);
    for (int j = 0; j < k; ++j) stages(k, j) = coef_bar[j] - r * coef_bar[k - 1 - j];
    for (int j = 0; j < k; ++j) coef_bar[j] = stages(k, j);
    const double one_x2 = 1.0 + x[k] * x[k];
    x_bar[k] = r_bar / (one_x2 * std::sqrt(one_x2));
  }
}

void expand_polys(ConstVec ar, ConstVec ma, ConstVec sar, ConstVec sma, int m, Vec phi_full,
                  Vec theta_full) {
  // The product's coefficient at lag i + j m collects a_i s_j of the two factors.
  phi_full.fill(0.0);
  for (int i = 0; i <= ar.size; ++i) {
    const double a_i = i == 0 ? 1.0 : -ar[i - 1];
    for (int j = 0; j <= sar.size; ++j) {
      const double s_j = j == 0 ? 1.0 : -sar[j - 1];
      const int lag = i + j * m;
      if (lag > 0) phi_full[lag - 1] -= a_i * s_j;
    }
  }
  theta_full.fill(0.0);
  for (int i = 0; i <= ma.size; ++i) {
    const double b_i = i == 0 ? 1.0 : ma[i - 1];
    for (int j = 0; j <= sma.size; ++j) {
      const double s_j = j == 0 ? 1.0 : sma[j - 1];
      const int lag = i + j * m;
      if (lag > 0) theta_full[lag - 1] += b_i * s_j;
    }
  }
}

void expand_polys_adjoint(ConstVec ar, ConstVec ma, ConstVec sar, ConstVec sma, int m,
                          ConstVec phi_bar, ConstVec theta_bar, Vec ar_bar, Vec ma_bar,
                          Vec sar_bar, Vec sma_bar) {
  ar_bar.fill(0.0);
  sar_bar.fill(0.0);
  for (int i = 0; i <= ar.size; ++i) {
    const double a_i = i == 0 ? 1.0 : -ar[i - 1];
    for (int j = 0; j <= sar.size; ++j) {
      const double s_j = j == 0 ? 1.0 : -sar[j - 1];
      const int lag = i + j * m;
      if (lag > 0) {
        // phi_full[lag - 1] -= a_i s_j with a_i = -ar[i - 1], s_j = -sar[j - 1].
        const double g = phi_bar[lag - 1];
        if (i > 0) ar_bar[i - 1] += g * s_j;
        if (j > 0) sar_bar[j - 1] += g * a_i;
      }
    }
  }
  ma_bar.fill(0.0);
  sma_bar.fill(0.0);
  for (int i = 0; i <= ma.size; ++i) {
    const double b_i = i == 0 ? 1.0 : ma[i - 1];
    for (int j = 0; j <= sma.size; ++j) {
      const double s_j = j == 0 ? 1.0 : sma[j - 1];
      const int lag = i + j * m;
      if (lag > 0) {
        const double g = theta_bar[lag - 1];
        if (i > 0) ma_bar[i - 1] += g * s_j;
        if (j > 0) sma_bar[j - 1] += g * b_i;
      }
    }
  }
}

namespace {

// Diagonal similarity that equalises row and column norms (EISPACK balanc, radix 2), so
// that the QR iteration's rounding is relative to balanced entries. ``a`` is n x n,
// row-major, and keeps its Hessenberg form.
void balance(std::vector<double>& a, int n) {
  const double radix = 2.0;
  const double sqrdx = radix * radix;
  bool done = false;
  while (!done) {
    done = true;
    for (int i = 0; i < n; ++i) {
      double c = 0.0;
      double r = 0.0;
      for (int j = 0; j < n; ++j) {
        if (j != i) {
          c += std::abs(a[j * n + i]);
          r += std::abs(a[i * n + j]);
        }
      }
      if (c != 0.0 && r != 0.0) {
        double g = r / radix;
        double f = 1.0;
        const double s = c + r;
        while (c < g) {
          f *= radix;
          c *= sqrdx;
        }
        g = r * radix;
        while (c > g) {
          f /= radix;
          c /= sqrdx;
        }
        if ((c + r) / f < 0.95 * s) {
          done = false;
          g = 1.0 / f;
          for (int j = 0; j < n; ++j) a[i * n + j] *= g;
          for (int j = 0; j < n; ++j) a[j * n + i] *= f;
        }
      }
    }
  }
}

// Largest eigenvalue modulus of the upper Hessenberg n x n matrix ``h`` (row-major,
// destroyed) by the double-shift QR algorithm (EISPACK hqr, Wilkinson & Reinsch 1971, as
// in Press et al., Numerical Recipes, sec. 11.6). NaN when it does not converge.
double hessenberg_spectral_radius(std::vector<double>& h, int n) {
  // One-based indexing below mirrors the published algorithm line by line.
  auto a = [&](int i, int j) -> double& { return h[(i - 1) * n + (j - 1)]; };
  double radius = 0.0;
  auto record = [&](double re, double im) { radius = std::max(radius, std::hypot(re, im)); };
  double anorm = 0.0;
  for (int i = 1; i <= n; ++i)
    for (int j = std::max(i - 1, 1); j <= n; ++j) anorm += std::abs(a(i, j));
  int nn = n;
  double t = 0.0;
  double p = 0.0, q = 0.0, r = 0.0, s = 0.0, w = 0.0, x = 0.0, y = 0.0, z = 0.0;
  while (nn >= 1) {
    int its = 0;
    int l;
    do {
      for (l = nn; l >= 2; --l) {
        s = std::abs(a(l - 1, l - 1)) + std::abs(a(l, l));
        if (s == 0.0) s = anorm;
        if (std::abs(a(l, l - 1)) + s == s) {
          a(l, l - 1) = 0.0;
          break;
        }
      }
      x = a(nn, nn);
      if (l == nn) {
        record(x + t, 0.0);
        --nn;
      } else {
        y = a(nn - 1, nn - 1);
        w = a(nn, nn - 1) * a(nn - 1, nn);
        if (l == nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = std::sqrt(std::abs(q));
          x += t;
          if (q >= 0.0) {
            z = p + std::copysign(z, p);
            const double first = x + z;
            const double second = z != 0.0 ? x - w / z : first;
            record(first, 0.0);
            record(second, 0.0);
          } else {
            record(x + p, z);
          }
          nn -= 2;
        } else {
          if (its == 60) return std::numeric_limits<double>::quiet_NaN();
          if (its == 10 || its == 20) {
            // Exceptional shift.
            t += x;
            for (int i = 1; i <= nn; ++i) a(i, i) -= x;
            s = std::abs(a(nn, nn - 1)) + std::abs(a(nn - 1, nn - 2));
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          int mm;
          for (mm = nn - 2; mm >= l; --mm) {
            z = a(mm, mm);
            r = x - z;
            s = y - z;
            p = (r * s - w) / a(mm + 1, mm) + a(mm, mm + 1);
            q = a(mm + 1, mm + 1) - z - r - s;
            r = a(mm + 2, mm + 1);
            s = std::abs(p) + std::abs(q) + std::abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (mm == l) break;
            const double u = std::abs(a(mm, mm - 1)) * (std::abs(q) + std::abs(r));
            const double v = std::abs(p) * (std::abs(a(mm - 1, mm - 1)) + std::abs(z) +
                                            std::abs(a(mm + 1, mm + 1)));
            if (u + v == v) break;
          }
          for (int i = mm + 2; i <= nn; ++i) {
            a(i, i - 2) = 0.0;
            if (i != mm + 2) a(i, i - 3) = 0.0;
          }
          for (int k = mm; k <= nn - 1; ++k) {
            if (k != mm) {
              p = a(k, k - 1);
              q = a(k + 1, k - 1);
              r = 0.0;
              if (k != nn - 1) r = a(k + 2, k - 1);
              x = std::abs(p) + std::abs(q) + std::abs(r);
              if (x != 0.0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            s = std::copysign(std::sqrt(p * p + q * q + r * r), p);
            if (s != 0.0) {
              if (k == mm) {
                if (l != mm) a(k, k - 1) = -a(k, k - 1);
              } else {
                a(k, k - 1) = -s * x;
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (int j = k; j <= nn; ++j) {
                p = a(k, j) + q * a(k + 1, j);
                if (k != nn - 1) {
                  p += r * a(k + 2, j);
                  a(k + 2, j) -= p * z;
                }
                a(k + 1, j) -= p * y;
                a(k, j) -= p * x;
              }
              const int mmin = nn < k + 3 ? nn : k + 3;
              for (int i = l; i <= mmin; ++i) {
                p = x * a(i, k) + y * a(i, k + 1);
                if (k != nn - 1) {
                  p += z * a(i, k + 2);
                  a(i, k + 2) -= p * r;
                }
                a(i, k + 1) -= p * q;
                a(i, k) -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return radius;
}

}  // namespace

double min_root_modulus(ConstVec poly) {
  int n = 0;
  for (int i = 1; i < poly.size; ++i)
    if (std::abs(poly[i]) > 1e-8) n = i;
  if (n == 0) return std::numeric_limits<double>::infinity();
  // The roots' reciprocals are the eigenvalues of the companion matrix of the reversed
  // polynomial (first row -poly[1:] / poly[0], ones below the diagonal): upper Hessenberg.
  std::vector<double> companion(static_cast<std::size_t>(n) * n, 0.0);
  for (int j = 0; j < n; ++j) companion[j] = -poly[j + 1] / poly[0];
  for (int i = 1; i < n; ++i) companion[i * n + i - 1] = 1.0;
  balance(companion, n);
  const double radius = hessenberg_spectral_radius(companion, n);
  if (std::isnan(radius)) return radius;
  return radius > 0.0 ? 1.0 / radius : std::numeric_limits<double>::infinity();
}

int difference_in_place(Vec x, int n, int d, int D, int m) {
  // Ascending t reads x[t + lag] before it is overwritten.
  for (int pass = 0; pass < D; ++pass) {
    n -= m;
    for (int t = 0; t < n; ++t) x[t] = x[t + m] - x[t];
  }
  for (int pass = 0; pass < d; ++pass) {
    n -= 1;
    for (int t = 0; t < n; ++t) x[t] = x[t + 1] - x[t];
  }
  return n;
}

void difference_zero_start(Vec x, int d, int D, int m) {
  const int n = x.size;
  for (int pass = 0; pass < D; ++pass)
    for (int t = n - 1; t >= m; --t) x[t] -= x[t - m];
  for (int pass = 0; pass < d; ++pass)
    for (int t = n - 1; t >= 1; --t) x[t] -= x[t - 1];
}

void difference_zero_start_adjoint(Vec z, int d, int D, int m) {
  // (1 - L)' z_t = z_t - z_{t+1}, and the same with lag m.
  const int n = z.size;
  for (int pass = 0; pass < D; ++pass)
    for (int t = 0; t < n - m; ++t) z[t] -= z[t + m];
  for (int pass = 0; pass < d; ++pass)
    for (int t = 0; t < n - 1; ++t) z[t] -= z[t + 1];
}

}  // namespace seqlab::arima

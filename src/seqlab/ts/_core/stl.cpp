// STL's inner loop; see stl.hpp.
#include "stl.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace seqlab::stl {

namespace {

// One local (degree 0 or 1) tricube fit at the 1-based position xs from the 1-based points
// nleft..nright of y (length n) (stl.f stlest). Returns false where all weights vanish.
bool loess_at(const double* y, int n, int span, int degree, double xs, int nleft, int nright,
              std::vector<double>& weights, double& value) {
  const double data_range = n - 1.0;
  double h = std::max(xs - nleft, nright - xs);
  if (span > n) h += (span - n) / 2;
  const double h9 = 0.999 * h;
  const double h1 = 0.001 * h;
  double total = 0.0;
  for (int j = nleft; j <= nright; ++j) {
    double& wj = weights[j - 1];
    wj = 0.0;
    const double r = std::abs(j - xs);
    if (r <= h9) {
      if (r <= h1) {
        wj = 1.0;
      } else {
        const double u = r / h;
        const double c = 1.0 - u * u * u;
        wj = c * c * c;
      }
      total += wj;
    }
  }
  if (total <= 0.0) return false;
  for (int j = nleft; j <= nright; ++j) weights[j - 1] /= total;
  if (h > 0.0 && degree > 0) {
    double centre = 0.0;
    for (int j = nleft; j <= nright; ++j) centre += weights[j - 1] * j;
    double b = xs - centre;
    double c = 0.0;
    for (int j = nleft; j <= nright; ++j) c += weights[j - 1] * (j - centre) * (j - centre);
    if (std::sqrt(c) > 0.001 * data_range) {
      b /= c;
      for (int j = nleft; j <= nright; ++j) weights[j - 1] *= b * (j - centre) + 1.0;
    }
  }
  value = 0.0;
  for (int j = nleft; j <= nright; ++j) value += weights[j - 1] * y[j - 1];
  return true;
}

// Loess smooth of y (length n) at every point into out (stl.f stless with jump 1).
void loess(const double* y, int n, int span, int degree, double* out) {
  std::vector<double> weights(std::max(n, 1));
  if (n < 2) {
    out[0] = y[0];
    return;
  }
  double value = 0.0;
  if (span >= n) {
    for (int i = 1; i <= n; ++i)
      out[i - 1] = loess_at(y, n, span, degree, i, 1, n, weights, value) ? value : y[i - 1];
    return;
  }
  const int half = (span + 1) / 2;
  int nleft = 1;
  int nright = span;
  for (int i = 1; i <= n; ++i) {
    if (i > half && nright != n) {
      ++nleft;
      ++nright;
    }
    out[i - 1] = loess_at(y, n, span, degree, i, nleft, nright, weights, value) ? value : y[i - 1];
  }
}

std::vector<double> moving_average(const std::vector<double>& x, int length) {
  const int n_out = static_cast<int>(x.size()) - length + 1;
  std::vector<double> out(n_out);
  double total = 0.0;
  for (int i = 0; i < length; ++i) total += x[i];
  out[0] = total / length;
  for (int i = 1; i < n_out; ++i) {
    total += x[i + length - 1] - x[i - 1];
    out[i] = total / length;
  }
  return out;
}

}  // namespace

void decompose(ConstVec y, const StlOptions& o, Vec season, Vec trend) {
  const int n = y.size;
  const int period = o.period;
  trend.fill(0.0);
  season.fill(0.0);
  std::vector<double> detrended(n), cycle(n + 2 * period), deseasoned(n), low(n);
  std::vector<double> sub, smooth, weights;
  double value = 0.0;
  for (int pass = 0; pass < o.inner_iter; ++pass) {
    for (int i = 0; i < n; ++i) detrended[i] = y[i] - trend[i];
    // Cycle-subseries smoothing, each extended one period either side (stl.f stlss).
    for (int j = 0; j < period; ++j) {
      const int k = (n - j - 1) / period + 1;
      sub.assign(k, 0.0);
      for (int i = 0; i < k; ++i) sub[i] = detrended[i * period + j];
      smooth.assign(k + 2, 0.0);
      loess(sub.data(), k, o.seasonal, o.seasonal_deg, smooth.data() + 1);
      weights.assign(k, 0.0);
      smooth[0] = loess_at(sub.data(), k, o.seasonal, o.seasonal_deg, 0.0, 1,
                           std::min(o.seasonal, k), weights, value)
                      ? value
                      : smooth[1];
      const int nleft = std::max(1, k - o.seasonal + 1);
      smooth[k + 1] = loess_at(sub.data(), k, o.seasonal, o.seasonal_deg, k + 1.0, nleft, k,
                               weights, value)
                          ? value
                          : smooth[k];
      for (int m = 0; m < k + 2; ++m) cycle[m * period + j] = smooth[m];
    }
    // Low-pass filter of the cycle-subseries (stl.f stlfts, then a loess).
    const std::vector<double> filtered =
        moving_average(moving_average(moving_average(cycle, period), period), 3);
    loess(filtered.data(), static_cast<int>(filtered.size()), o.low_pass, o.low_pass_deg,
          low.data());
    for (int i = 0; i < n; ++i) {
      season[i] = cycle[period + i] - low[i];
      deseasoned[i] = y[i] - season[i];
    }
    loess(deseasoned.data(), n, o.trend, o.trend_deg, trend.data);
  }
}

}  // namespace seqlab::stl

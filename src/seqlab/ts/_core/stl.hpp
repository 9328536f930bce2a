// Seasonal-trend decomposition by loess (Cleveland, Cleveland, McRae & Terpenning 1990,
// "STL: a seasonal-trend decomposition procedure based on loess", Journal of Official
// Statistics 6), the non-robust inner loop of the reference Fortran (stl.f: stlstp with
// stlss, stlfts, stless, stlest), smoothers evaluated at every point (no jumps).
//
// Held to statsmodels.tsa.seasonal.STL (to 1e-8) by tests/ts/test_seasonality.py.
#pragma once

#include "array.hpp"

namespace seqlab::stl {

using seqlab::arima::ConstVec;
using seqlab::arima::Vec;

struct StlOptions {
  int period;        // seasonal period (>= 2)
  int seasonal;      // span of the cycle-subseries smoother (odd)
  int trend;         // span of the trend smoother (odd)
  int low_pass;      // span of the low-pass filter's smoother (odd)
  int seasonal_deg;  // local polynomial degree (0 or 1) of each smoother
  int trend_deg;
  int low_pass_deg;
  int inner_iter;    // passes of the inner loop
};

// Seasonal and trend components of y (length n >= 2 period) into ``season`` and ``trend``.
void decompose(ConstVec y, const StlOptions& options, Vec season, Vec trend);

}  // namespace seqlab::stl

"""MacKinnon's response surfaces for the Dickey-Fuller tau statistic (one series, N = 1).

Data, not code: the coefficients below are the published values, for the three
deterministic specifications of :func:`seqlab.ts.adf_test` ("n": none, "c": constant,
"ct": constant and linear trend).

Sources
-------
- p-values: MacKinnon, J. G. (1994). "Approximate asymptotic distribution functions for
  unit-root and cointegration tests." *Journal of Business & Economic Statistics* 12(2),
  167-176. The asymptotic p-value is ``Phi(g0 + g1 tau + g2 tau^2 [+ g3 tau^3])`` with
  one polynomial left of ``TAU_STAR`` (the "small p" fit, degree 2) and one right of
  it (the "large p" fit, degree 3); below ``TAU_MIN`` the p-value is 0 and above
  ``TAU_MAX`` it is 1.
- critical values: MacKinnon, J. G. (2010). "Critical values for cointegration tests."
  Queen's Economics Department Working Paper 1227 (the "n" row is from MacKinnon
  (1996), *Journal of Applied Econometrics* 11, 601-618, which 2010 did not update).
  The finite-sample critical value is ``tau_inf + b1/T + b2/T^2 + b3/T^3``, T the
  number of observations in the test regression.

These are the same numbers that statsmodels carries in ``statsmodels.tsa.adfvalues``
(BSD-3); ``tests/ts/test_stationarity.py`` checks p-values and critical values against
statsmodels' ``mackinnonp`` / ``mackinnoncrit`` over a grid of statistics.
"""

from __future__ import annotations

import math

# Cut-offs between the two p-value polynomials, and where the fits stop.
TAU_STAR = {"n": -1.04, "c": -1.61, "ct": -2.89}
TAU_MIN = {"n": -19.04, "c": -18.83, "ct": -16.18}
TAU_MAX = {"n": math.inf, "c": 2.74, "ct": 0.7}

# Polynomial coefficients in increasing powers of tau (g0, g1, g2 [, g3]).
# Tabulations often print some of these multiplied by 10 or 100; these are unscaled.
SMALL_P = {
    "n": (0.6344, 1.2378, 3.2496e-2),
    "c": (2.1659, 1.4412, 3.8269e-2),
    "ct": (3.2512, 1.6047, 4.9588e-2),
}
LARGE_P = {
    "n": (0.4797, 9.3557e-1, -0.6999e-1, 3.3066e-2),
    "c": (1.7339, 9.3202e-1, -1.2745e-1, -1.0368e-2),
    "ct": (2.5261, 6.1654e-1, -3.7956e-1, -6.0285e-2),
}

# Critical values: for each level (1 %, 5 %, 10 %), (tau_inf, b1, b2, b3).
CRITICAL = {
    "n": {
        "1%": (-2.56574, -2.2358, -3.627, 0.0),
        "5%": (-1.94100, -0.2686, -3.365, 31.223),
        "10%": (-1.61682, 0.2656, -2.714, 25.364),
    },
    "c": {
        "1%": (-3.43035, -6.5393, -16.786, -79.433),
        "5%": (-2.86154, -2.8903, -4.234, -40.040),
        "10%": (-2.56677, -1.5384, -2.809, 0.0),
    },
    "ct": {
        "1%": (-3.95877, -9.0531, -28.428, -134.155),
        "5%": (-3.41049, -4.3904, -9.036, -45.374),
        "10%": (-3.12705, -2.5856, -3.925, -22.380),
    },
}

# Kwiatkowski, Phillips, Schmidt & Shin (1992), Table 1: upper-tail critical values of
# the KPSS statistic (asymptotic), at the 10 %, 5 %, 2.5 % and 1 % levels.
KPSS_LEVELS = (0.10, 0.05, 0.025, 0.01)
KPSS_CRITICAL = {
    "c": (0.347, 0.463, 0.574, 0.739),
    "ct": (0.119, 0.146, 0.176, 0.216),
}

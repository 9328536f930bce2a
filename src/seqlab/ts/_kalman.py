"""Python face of the compiled ARIMA core (``seqlab.ts._arima_core``, C++ in ``ts/_core/``).

The numerics live in C++, one file per layer, each opening with what it computes, the
reference it follows and the test that holds it to a slow reference:

- ``transforms``: partial autocorrelations <-> AR coefficients (Jones 1980; Monahan 1984),
  seasonal polynomial expansion, root moduli, differencing;
- ``linalg``: LU factorisation with partial pivoting;
- ``filter``: the stationary covariance and the Kalman filters (Gardner, Harvey & Phillips
  1980; Harvey 1989), state-space layout of statsmodels' SARIMAX;
- ``adjoint``: the reverse-mode gradient of the exact likelihood;
- ``objective``: exact MLE and CSS objectives with their gradients, for one ``Problem``
  (a ``Spec`` and a series);
- ``optimizer``: BFGS (Nocedal & Wright 2006, Algorithm 6.1);
- ``stl``: STL's inner loop (Cleveland et al. 1990), for the seasonal strength.

This module re-exports them and adds ``unpack``, the Python-side split of an optimiser
vector. It holds no numerics of its own.
"""

from __future__ import annotations

import numpy as np

try:
    from seqlab.ts._arima_core import (
        JOIN_RADIUS,
        MAX_TAPE,
        Objective,
        Problem,
        Spec,
        Status,
        build_system,
        coefs_to_pacf,
        css_residuals,
        difference,
        expand_polys,
        initial_cov,
        kalman_loglik,
        kalman_run,
        min_root_modulus,
        pacf_to_coefs,
        pacf_to_coefs_adjoint,
        remove_regression,
        stationary_cov,
        stl,
    )
except ImportError as error:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "seqlab was installed without its compiled ARIMA core (seqlab.ts._arima_core). "
        "It is built from C++ sources when the package is installed: reinstall with a C++17 "
        "compiler available (for example `pip install --force-reinstall --no-deps .` or "
        "`pip install -e .` from a checkout; Debian/Ubuntu: `apt-get install g++`)."
    ) from error

__all__ = [
    "JOIN_RADIUS",
    "MAX_TAPE",
    "Objective",
    "Problem",
    "Spec",
    "Status",
    "build_system",
    "coefs_to_pacf",
    "css_residuals",
    "difference",
    "expand_polys",
    "initial_cov",
    "kalman_loglik",
    "kalman_run",
    "min_root_modulus",
    "pacf_to_coefs",
    "pacf_to_coefs_adjoint",
    "remove_regression",
    "stationary_cov",
    "stl",
    "unpack",
]


def unpack(
    u: np.ndarray, k_x: int, p: int, q: int, sp: int, sq: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Split an optimiser vector (``Objective.MLE`` layout) into beta, AR, MA, seasonal AR,
    seasonal MA and sigma2.

    AR parts go through ``pacf_to_coefs``; MA parts through its negative (invertibility of
    ``1 + theta(L)`` is stationarity of ``1 - (-theta)(L)``); sigma2 is ``exp(u[-1])``.
    """
    u = np.asarray(u, dtype=float)
    o = k_x
    parts = []
    for size, sign in ((p, 1.0), (q, -1.0), (sp, 1.0), (sq, -1.0)):
        parts.append(sign * pacf_to_coefs(u[o : o + size]))
        o += size
    return (u[:k_x].copy(), *parts, float(np.exp(u[o])))

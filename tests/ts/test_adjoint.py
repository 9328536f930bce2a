"""The adjoint (reverse-mode) gradient of the exact likelihood against central differences.

``ts/_core/adjoint.cpp`` differentiates the objective the optimiser minimises by walking
the filter backwards; these tests compare it with central differences of the objective
itself on the airline series (log, x100) at random stationary, invertible parameters, for
orders that exercise each piece: regression (constant, drift), AR and MA parts,
seasonal factors, and integration states carried through the burn-in (d + D*m of 1, 2, 5
and 13 observations). Central differences with step 1e-5 are accurate to about 1e-9 of
the gradient's scale here (1e-7 where the approximate diffuse prior makes the objective
noisy at ~1e-12), so 1e-5 of the largest component is a tolerance an error in any one
term of the backward pass exceeds by orders of magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.datasets import airline
from seqlab.ts import ARIMA, _kalman
from seqlab.ts._estimation import _Problem
from seqlab.ts._kalman import Objective

CASES = [
    ((1, 0, 0), (0, 0, 0, 0), "c"),
    ((2, 1, 2), (0, 0, 0, 0), "n"),
    ((1, 1, 1), (0, 0, 0, 0), "t"),
    ((1, 1, 1), (1, 1, 1, 12), "n"),
    ((0, 2, 2), (0, 1, 1, 4), "n"),
    ((2, 0, 1), (1, 0, 0, 12), "c"),
]


def _problem(order, seasonal_order, trend):
    y = np.log(airline().to_numpy()) * 100
    model = ARIMA(order=order, seasonal_order=seasonal_order, trend=trend)
    spec = model._spec()
    return spec, _Problem(spec, model._prepare(spec, y, None, "mle"))


def _fresh(problem):
    """A second compiled problem on the same data, so that each path has its own buffers."""
    return _kalman.Problem(problem.core_spec, problem.y, problem.X, problem.T_base, problem.Z)


@pytest.mark.parametrize(("order", "seasonal_order", "trend"), CASES)
def test_adjoint_gradient_matches_central_differences(order, seasonal_order, trend):
    spec, problem = _problem(order, seasonal_order, trend)
    core, plain = problem.core, _fresh(problem)
    rng = np.random.default_rng(sum(order) + seasonal_order[3])
    k = problem.k_x + spec.k_arma + 1
    for _ in range(3):
        u = rng.normal(0.0, 0.8, k)
        f, g = core.value_and_gradient(Objective.MLE, u)
        assert f == pytest.approx(plain.value(Objective.MLE, u), rel=1e-12)
        numeric = np.empty(k)
        for i in range(k):
            h = 1e-5 * max(abs(u[i]), 1.0)
            x = u.copy()
            x[i] += h
            up = plain.value(Objective.MLE, x)
            x[i] -= 2 * h
            down = plain.value(Objective.MLE, x)
            numeric[i] = (up - down) / (2 * h)
        scale = np.max(np.abs(numeric))
        assert np.max(np.abs(g - numeric)) <= 1e-5 * scale, (g, numeric)


def test_optimiser_uses_adjoint_where_it_is_cheaper():
    """The gradient takes the adjoint path for more than 3 parameters (it then equals
    value_and_gradient's exactly) and forward differences for 3 or fewer."""
    for order, uses_adjoint in (((2, 1, 2), True), ((1, 1, 1), False)):
        spec, problem = _problem(order, (0, 0, 0, 0), "n")
        core = problem.core
        u = np.full(spec.k_arma + 1, 0.3)
        f = core.value(Objective.MLE, u)
        g = core.gradient(Objective.MLE, u, f, False)
        _, exact = _fresh(problem).value_and_gradient(Objective.MLE, u)
        assert np.array_equal(g, exact) == uses_adjoint
        np.testing.assert_allclose(g, exact, rtol=0, atol=1e-5 * np.max(np.abs(exact)))


def test_pacf_transform_adjoint_matches_differences():
    """The Durbin-Levinson backward pass on its own (p = 4), against central differences of
    a random linear function of the coefficients."""
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 1.0, 4)
    weights = rng.normal(0.0, 1.0, 4)
    x_bar = _kalman.pacf_to_coefs_adjoint(x, weights)
    for i in range(4):
        h = 1e-6
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric = weights @ (_kalman.pacf_to_coefs(up) - _kalman.pacf_to_coefs(down)) / (2 * h)
        assert x_bar[i] == pytest.approx(numeric, abs=1e-8)


@pytest.mark.parametrize(("order", "seasonal_order", "trend"), CASES)
def test_css_gradient_matches_central_differences(order, seasonal_order, trend):
    """The conditional-sum-of-squares objective (raw coefficients, ``Objective.CSS``): its
    backward pass against central differences. The objective is a polynomial in the
    coefficients, smooth to rounding, so central differences are accurate to ~1e-9."""
    spec, problem = _problem(order, seasonal_order, trend)
    core = problem.core
    rng = np.random.default_rng(3)
    k = problem.k_x + spec.k_arma
    for _ in range(3):
        u = rng.normal(0.0, 0.3, k)
        f, g = core.value_and_gradient(Objective.CSS, u)
        assert f == core.value(Objective.CSS, u)
        numeric = np.empty(k)
        for i in range(k):
            h = 1e-6 * max(abs(u[i]), 1.0)
            x = u.copy()
            x[i] += h
            up = core.value(Objective.CSS, x)
            x[i] -= 2 * h
            down = core.value(Objective.CSS, x)
            numeric[i] = (up - down) / (2 * h)
        assert np.max(np.abs(g - numeric)) <= 1e-6 * np.max(np.abs(numeric)), (g, numeric)


def test_adjoint_gradient_refuses_series_with_missing_values():
    """The tape needs a series without NaN; asking for it otherwise is an error, not a
    silent wrong gradient."""
    y = np.log(airline().to_numpy()) * 100
    y[[5, 40]] = np.nan
    model = ARIMA(order=(1, 1, 1))
    spec = model._spec()
    problem = _Problem(spec, model._prepare(spec, y, None, "mle"))
    with pytest.raises(ValueError, match="without NaN"):
        problem.core.value_and_gradient(Objective.MLE, np.zeros(3))

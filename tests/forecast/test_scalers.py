"""Scalers: exact inverses, training-part-only fitting, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqlab.forecast.scalers import MinMaxScaler, StandardScaler, make_scaler, scaler_from_state


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_inverse_is_exact(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(50, 10, size=(40, 3))
    scaler = make_scaler(kind).fit(x[:30])
    back = scaler.inverse_transform(scaler.transform(x))
    # Two float64 affine maps: error is a few ulps of |x| ~ 1e2.
    np.testing.assert_allclose(back, x, rtol=0, atol=1e-12)


def test_standard_fits_on_training_rows_only():
    x = np.r_[np.arange(10.0), 1000.0 + np.arange(5.0)]
    scaler = StandardScaler().fit(x[:10])
    assert scaler.offset_[0] == pytest.approx(4.5)
    assert scaler.scale_[0] == pytest.approx(np.std(np.arange(10.0)))
    z = scaler.transform(x[:10])
    assert z.mean() == pytest.approx(0.0, abs=1e-12)
    assert z.std() == pytest.approx(1.0)


def test_minmax_range_and_constant_column():
    x = np.column_stack([np.array([2.0, 4.0, 6.0]), np.full(3, 7.0)])
    scaler = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(x)
    z = scaler.transform(x)
    np.testing.assert_allclose(z[:, 0], [-1.0, 0.0, 1.0])
    # A constant column is shifted, not divided by zero, and still inverts exactly.
    assert np.isfinite(z[:, 1]).all()
    np.testing.assert_allclose(scaler.inverse_transform(z), x)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_state_round_trip_through_json(kind):
    x = np.random.default_rng(2).normal(size=(20, 2))
    scaler = make_scaler(kind).fit(x)
    again = scaler_from_state(json.loads(json.dumps(scaler.state_dict())))
    np.testing.assert_array_equal(again.transform(x), scaler.transform(x))


def test_column_scaler_matches_full():
    x = np.random.default_rng(3).normal(size=(20, 3)) * [1, 10, 100]
    scaler = StandardScaler().fit(x)
    np.testing.assert_array_equal(scaler.column(0).transform(x[:, 0]), scaler.transform(x)[:, 0])


def test_errors():
    with pytest.raises(ValueError, match="not fitted"):
        StandardScaler().transform([1.0, 2.0])
    with pytest.raises(ValueError, match="fitted on 2 columns, got 3"):
        StandardScaler().fit(np.ones((4, 2))).transform(np.ones((4, 3)))
    with pytest.raises(ValueError, match="scaler must be one of"):
        make_scaler("robust")

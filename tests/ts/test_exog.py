"""The one regressor parser and future-rows check that ARIMA, auto_arima, the
many-series driver and the forecasters share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.forecast.base import check_features
from seqlab.ts._exog import as_exog, check_future_exog, first_nonfinite


def test_names_come_from_pandas_or_are_numbered():
    values, names = as_exog(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), 2)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(values, [[1.0, 3.0], [2.0, 4.0]])
    assert as_exog(pd.Series([1.0, 2.0], name="temp"), 2)[1] == ["temp"]
    assert as_exog(pd.Series([1.0, 2.0]), 2)[1] == ["x1"]
    values, names = as_exog([1.0, 2.0, 3.0], 3)
    assert values.shape == (3, 1) and names == ["x1"]


@pytest.mark.parametrize(
    ("exog", "n", "error", "message"),
    [
        ("abc", 3, TypeError, "must be a 2-D array of numbers"),
        (np.zeros((2, 2, 2)), 2, ValueError, "must be 2-D"),
        ([["a"], ["b"]], 2, ValueError, "must be numeric"),
        (np.zeros((4, 1)), 3, ValueError, "has 4 rows but 3 are needed"),
        (np.zeros((3, 0)), 3, ValueError, "has no columns"),
        (pd.DataFrame({"a": [1.0, np.nan]}), 2, ValueError, "column 'a' holds nan at row 1"),
    ],
)
def test_bad_regressors_are_refused(exog, n, error, message):
    with pytest.raises(error, match=message):
        as_exog(exog, n)


def test_first_nonfinite():
    assert first_nonfinite(np.ones((2, 2))) is None
    assert first_nonfinite(np.array([[1.0, 2.0], [np.inf, np.nan]])) == (1, 0)


def test_future_rows_must_match_the_fitted_regressors():
    with pytest.raises(ValueError, match=r"fitted with 2 regressor\(s\) \['a', 'b'\]; pass exog="):
        check_future_exog(None, 3, 2, ["a", "b"])
    with pytest.raises(ValueError, match="has 1 columns but the model was fitted with 2"):
        check_future_exog(np.zeros((3, 1)), 3, 2)
    with pytest.raises(ValueError, match=r"one per forecast step"):
        check_future_exog(np.zeros((2, 2)), 3, 2)
    assert check_future_exog(np.ones((3, 2)), 3, 2).shape == (3, 2)


def test_forecaster_features_allow_nan_but_not_a_wrong_length():
    features = check_features(np.array([1.0, np.nan]), 2)
    assert features.shape == (2, 1) and np.isnan(features[1, 0])
    with pytest.raises(ValueError, match="X has 3 rows but 2 are needed"):
        check_features(np.zeros((3, 1)), 2)

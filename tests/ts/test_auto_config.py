"""AutoARIMAConfig: auto_arima's arguments checked once, with the field and value named."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from seqlab.datasets import nile
from seqlab.ts.auto import AutoARIMAConfig, auto_arima


def test_defaults_are_r_auto_arima_defaults():
    # R forecast 8.20, args(auto.arima): max.p=5, max.q=5, max.P=2, max.Q=2, max.order=5,
    # max.d=2, max.D=1, start.p=2, start.q=2, start.P=1, start.Q=1, stepwise=TRUE,
    # nmodels=94, ic="aicc", test="kpss", seasonal.test="seas", alpha=0.05.
    config = AutoARIMAConfig()
    assert (config.max_p, config.max_q, config.max_P, config.max_Q) == (5, 5, 2, 2)
    assert (config.max_order, config.max_d, config.max_D) == (5, 2, 1)
    assert (config.start_p, config.start_q, config.start_P, config.start_Q) == (2, 2, 1, 1)
    assert (config.stepwise, config.max_models, config.ic) == (True, 94, "aicc")
    assert (config.test, config.seasonal_test, config.alpha) == ("kpss", "seas", 0.05)


def test_auto_arima_keywords_are_the_config_fields_with_the_same_defaults():
    signature = inspect.signature(auto_arima).parameters
    fields = {f.name: f.default for f in dataclasses.fields(AutoARIMAConfig)}
    keywords = {k: p.default for k, p in signature.items() if k not in ("y", "exog")}
    assert keywords == fields


def test_config_is_frozen_and_normalised():
    config = AutoARIMAConfig(m=np.int64(12), max_p=np.int32(3), ic="AICc", stepwise=np.True_)
    assert config.m == 12 and type(config.m) is int
    assert config.max_p == 3 and type(config.max_p) is int
    assert config.ic == "aicc"
    assert config.stepwise is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_p = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("start_p", -1, "start_p must be >= 0, got -1"),
        ("start_Q", -2, "start_Q must be >= 0, got -2"),
        ("start_q", 101, r"start_q must be <= 100 .*got 101"),
        ("start_P", 11, r"start_P must be <= 10 .*got 11"),
        ("max_q", -1, "max_q must be >= 0, got -1"),
        ("max_D", 3, r"max_D must be <= 2 .*got 3"),
        ("d", 4, r"d must be <= 3 .*got 4"),
        ("D", -1, "D must be >= 0, got -1"),
        ("max_models", -1, "max_models must be >= 0, got -1"),
        ("maxiter", 0, "maxiter must be >= 1, got 0"),
        ("ic", "hqic", r"ic must be one of \['aicc', 'aic', 'bic'\], got 'hqic'"),
        ("test", "adf", r"test must be one of \['kpss'\], got 'adf'"),
        ("seasonal_test", "ch", r"seasonal_test must be one of \['seas', 'ocsb'\], got 'ch'"),
        ("alpha", 1.5, "alpha must be strictly between 0 and 1, got 1.5"),
        ("m", 0, "m must be >= 1, got 0"),
    ],
)
def test_bad_values_are_value_errors_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        AutoARIMAConfig(**{field: value})
    with pytest.raises(ValueError, match=match):
        auto_arima(nile(), **({"m": value} if field == "m" else {field: value}))


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("start_p", 2.0, "start_p must be an integer, got 2.0"),
        ("start_P", True, "start_P must be an integer, got True"),
        ("max_p", "5", "max_p must be an integer, got '5'"),
        ("d", 1.0, "d must be an integer, got 1.0"),
        ("stepwise", "yes", "stepwise must be True or False, got 'yes'"),
        ("approximation", 1, "approximation must be True or False, got 1"),
        ("ic", None, "ic must be one of"),
        ("alpha", "0.05", "alpha must be a number"),
    ],
)
def test_wrong_types_are_type_errors_naming_the_field(field, value, match):
    with pytest.raises(TypeError, match=match):
        AutoARIMAConfig(**{field: value})


def test_arguments_are_checked_before_the_search():
    # D is checked although m=1 leaves no seasonal difference to take.
    with pytest.raises(ValueError, match="D must be >= 0"):
        auto_arima(nile(), D=-1)


def test_a_start_above_its_maximum_starts_at_the_maximum():
    # R's auto.arima: start.p <- min(start.p, max.p); lowering a maximum alone suffices.
    y = nile()
    clipped = auto_arima(y, max_p=1, max_q=1, start_p=5, start_q=5)
    default = auto_arima(y, max_p=1, max_q=1)
    assert [c.label for c in clipped.tried] == [c.label for c in default.tried]
    first = clipped.tried[0]
    assert (first.order[0], first.order[2]) == (1, 1)

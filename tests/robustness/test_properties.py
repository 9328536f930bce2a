"""Property-based checks (hypothesis) of the series readers, the series validation and the
estimators on arbitrary short input.

The contract under test: any input either raises the documented ValueError/TypeError
(with a message), or gives a result whose numbers are finite (NaN only where the input
had a gap). Never another exception, never NaN/inf estimates returned as a success.
Examples are derandomized (the same on every run and machine), so CI is deterministic.
"""

from __future__ import annotations

import csv
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from seqlab._validation import (
    MAX_ABS_VALUE,
    MIN_SPREAD,
    as_float_series,
    check_levels,
    ordered_series,
)
from seqlab.forecast.data import load_frame
from seqlab.io import read_series_csv
from seqlab.ts import ARIMA
from seqlab.ts.stationarity import adf_test, kpss_test

SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
}

_extreme_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e3, 1e3),
    st.sampled_from([0.0, 1e-39, -1e-200, 1e111, 1e149, -1e150, 1e151, 1e300]),
)
_cells = st.one_of(
    _extreme_floats.map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["2020-01-01", "2020-02-01", "2020-03-01", "2019-12-01", "1/2/2020", "9999-12-31"]
    ),
    st.sampled_from(["", " ", "abc", "N1", "NaN", "inf", "-inf", "1e999", "0x10", "1,5"]),
    st.text(max_size=6),
)
_headers = st.sampled_from(["date", "ds", "value", "y", "unique_id", "Volume", "", "1.5"])


def _write_csv(folder: Path, header: list[str], rows: list[list[str]]) -> Path:
    path = folder / "data.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _check_series(series: pd.Series) -> None:
    assert series.dtype == np.float64
    if isinstance(series.index, pd.DatetimeIndex):
        assert series.index.is_unique and series.index.is_monotonic_increasing


@settings(max_examples=150, **SETTINGS)
@given(
    header=st.lists(_headers, min_size=1, max_size=3),
    rows=st.integers(0, 8).flatmap(
        lambda n: st.lists(st.lists(_cells, min_size=3, max_size=3), min_size=n, max_size=n)
    ),
)
def test_read_series_csv_gives_a_series_or_a_value_error(header, rows):
    with tempfile.TemporaryDirectory() as folder:
        path = _write_csv(Path(folder), header, [row[: len(header)] for row in rows])
        try:
            series = read_series_csv(path)
        except ValueError as exc:
            assert str(exc)
            return
        _check_series(series)


@settings(max_examples=100, **SETTINGS)
@given(text=st.text(max_size=80))
def test_read_series_csv_on_arbitrary_text(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw.csv"
        path.write_text(text, encoding="utf-8")
        for read in (read_series_csv, lambda p: load_frame(p, "y")):
            try:
                result = read(path)
            except (ValueError, TypeError) as exc:
                assert str(exc)
                continue
            if isinstance(result, pd.Series):
                _check_series(result)


@settings(max_examples=150, **SETTINGS)
@given(
    days=st.lists(st.integers(0, 40), min_size=1, max_size=25),
    kind=st.sampled_from(["datetime", "period"]),
)
def test_ordered_series_sorts_or_refuses_repeats(days, kind):
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")
    index = pd.DatetimeIndex(dates) if kind == "datetime" else pd.PeriodIndex(dates, freq="D")
    y = pd.Series(np.arange(len(days), dtype=float), index=index)
    if len(set(days)) < len(days):
        with pytest.raises(ValueError, match="repeated dates"):
            ordered_series(y)
        return
    out = ordered_series(y)
    assert out.index.is_monotonic_increasing
    assert dict(zip(out.index, out, strict=True)) == dict(zip(y.index, y, strict=True))


@settings(max_examples=200, **SETTINGS)
@given(values=st.lists(_extreme_floats, max_size=30), allow_nan=st.booleans())
def test_as_float_series_output_is_within_the_bounds(values, allow_nan):
    try:
        x = as_float_series(values, allow_nan=allow_nan)
    except ValueError as exc:
        assert str(exc)
        return
    observed = x[~np.isnan(x)]
    assert observed.size and np.isfinite(observed).all()
    assert np.abs(observed).max() <= MAX_ABS_VALUE
    spread = observed.max() - observed.min()
    assert spread == 0 or spread >= MIN_SPREAD
    assert allow_nan or not np.isnan(x).any()


_in_range_floats = st.one_of(
    st.floats(-1e3, 1e3),
    st.floats(-MAX_ABS_VALUE, MAX_ABS_VALUE),
    st.sampled_from([0.0, 1e-39, 1e-140, 1e111, 1e149, -1e150, np.nan]),
)


@settings(max_examples=200, **SETTINGS)
@given(
    values=st.one_of(
        st.lists(_extreme_floats, max_size=25),
        st.lists(_in_range_floats, min_size=6, max_size=25),
    ),
    order=st.sampled_from([(0, 0, 0), (1, 0, 0), (0, 1, 1), (1, 1, 1), (2, 0, 1)]),
    method=st.sampled_from(["css-mle", "mle", "css"]),
)
# Found by this test: a tiny spread made the end-of-sample filter's diffuse prior overflow.
@example(values=[0.0, 0.0, 0.0, 8.229802393607733e-80], order=(0, 1, 1), method="css-mle")
def test_arima_fit_gives_finite_results_or_a_value_error(values, order, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = ARIMA(order, method=method).fit(values)
        except (ValueError, TypeError) as exc:
            assert str(exc)
            event(f"refused: {str(exc)[:25]}")
            return
        event("fitted")
        assert np.isfinite(result.params).all() and np.isfinite(result.loglik)
        assert result.sigma2 > 0
        try:
            forecast = result.forecast(3)
        except ValueError as exc:
            # A CSS fit whose AR part is not stationary has no filter to forecast with.
            assert "cannot forecast" in str(exc)
            return
        assert np.isfinite(forecast.mean).all()
        assert np.isfinite(forecast.lower[95]).all() and np.isfinite(forecast.upper[95]).all()


@settings(max_examples=150, **SETTINGS)
@given(values=st.lists(_extreme_floats, max_size=20), regression=st.sampled_from(["c", "ct"]))
def test_unit_root_tests_give_finite_statistics_or_a_value_error(values, regression):
    for test in (kpss_test, adf_test):
        try:
            result = test(values, regression)
        except ValueError as exc:
            assert str(exc)
            continue
        assert np.isfinite(result.statistic) and 0 <= result.pvalue <= 1


@settings(max_examples=12, **SETTINGS)
@given(exponent=st.integers(-140, 140))
def test_arima_is_equivariant_to_the_units(exponent):
    rng = np.random.default_rng(7)
    e = rng.standard_normal(60)
    y = np.empty(60)
    y[0] = e[0]
    for t in range(1, 60):
        y[t] = 0.6 * y[t - 1] + e[t] + 0.3 * e[t - 1]
    scale = 10.0**exponent
    base = ARIMA((1, 0, 1)).fit(y)
    got = ARIMA((1, 0, 1)).fit(y * scale)
    units = np.array([scale, 1.0, 1.0, scale**2])
    np.testing.assert_allclose(got.params.to_numpy() / units, base.params.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(got.forecast(4).mean / scale, base.forecast(4).mean, rtol=1e-6)


@settings(max_examples=100, **SETTINGS)
@given(level=st.floats(0.0, 150.0, exclude_min=True))
def test_levels_are_percentages(level):
    if level < 1:
        with pytest.raises(ValueError, match="Did you mean"):
            check_levels(level)
    elif level >= 100:
        with pytest.raises(ValueError, match=r"\[1, 100\)"):
            check_levels(level)
    else:
        assert check_levels(level) == (int(level) if level.is_integer() else level,)

"""Bad and awkward series through the Python API: each gives a clear error or a correct answer.

Dates out of order are sorted (with a logging warning) and must then give exactly the
fit of the sorted series; repeated dates, values whose variance overflows float64,
horizons and periods past their limits, and fractional levels are ValueErrors that
name the problem. Expected numbers come from the same library on the well-formed input.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqlab._validation import (
    MAX_HORIZON,
    MAX_PERIOD,
    as_float_series,
    check_finite_estimates,
    check_levels,
    ordered_series,
)
from seqlab.forecast.base import check_levels as forecast_check_levels
from seqlab.forecast.baselines import Drift, MeanForecast, Naive, SeasonalNaive
from seqlab.forecast.classical import ArimaForecaster
from seqlab.forecast.data import load_frame
from seqlab.io import atomic_write, read_series_csv
from seqlab.ts import ARIMA, auto_arima, fit_many
from seqlab.ts.stationarity import adf_test, check_stationarity, kpss_test
from seqlab.ts.stattools import acf
from seqlab.ts.transforms import boxcox, difference

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import ar1

N = 96


@pytest.fixture(scope="module")
def monthly() -> pd.Series:
    return pd.Series(ar1(N), index=pd.date_range("2010-01-01", periods=N, freq="MS"), name="y")


def _shuffled(series: pd.Series, seed: int = 1) -> pd.Series:
    order = np.random.default_rng(seed).permutation(series.size)
    return series.iloc[order]


# ------------------------------------------------------------------ date order
@pytest.mark.parametrize("how", ["backwards", "shuffled"])
def test_ordered_series_sorts_and_says_so(monthly, how, caplog):
    messy = monthly.iloc[::-1] if how == "backwards" else _shuffled(monthly)
    with caplog.at_level(logging.WARNING, logger="seqlab._validation"):
        out = ordered_series(messy)
    pd.testing.assert_series_equal(out, monthly)
    assert out.index.freqstr == "MS"
    expected = "run backwards" if how == "backwards" else "are not in order"
    assert [r.getMessage() for r in caplog.records] == [
        f"y: its dates {expected}; sorted them into increasing order."
    ]


def test_ordered_series_leaves_sorted_and_plain_input_alone(monthly, caplog):
    with caplog.at_level(logging.WARNING):
        assert ordered_series(monthly) is monthly
        array = np.arange(5.0)[::-1]
        assert ordered_series(array) is array
        reversed_range = pd.Series(np.arange(5.0), index=pd.RangeIndex(4, -1, -1))
        assert ordered_series(reversed_range) is reversed_range
    assert caplog.records == []


def test_repeated_dates_are_refused_with_their_labels(monthly):
    y = monthly.copy()
    y.index = y.index.where(np.arange(N) != 5, y.index[4])
    with pytest.raises(ValueError, match=r"repeated dates in its index: 2010-05-01"):
        ordered_series(y)
    for fit in (
        lambda: ARIMA((1, 0, 0)).fit(y),
        lambda: auto_arima(y),
        lambda: Naive().fit(y),
        lambda: check_stationarity(y),
    ):
        with pytest.raises(ValueError, match="2010-05-01"):
            fit()


def test_missing_date_in_index_is_refused(monthly):
    y = monthly.copy()
    y.index = y.index.where(np.arange(N) != 3, pd.NaT)
    with pytest.raises(ValueError, match=r"missing date \(NaT\) at position 3"):
        ARIMA((1, 0, 0)).fit(y)


@pytest.mark.parametrize("how", ["backwards", "shuffled"])
def test_arima_on_unsorted_dates_equals_the_sorted_fit(monthly, how):
    messy = monthly.iloc[::-1] if how == "backwards" else _shuffled(monthly)
    expected = ARIMA((1, 0, 0)).fit(monthly)
    got = ARIMA((1, 0, 0)).fit(messy)
    np.testing.assert_allclose(got.params, expected.params, rtol=1e-10)
    assert got.params["ar.L1"] > 0.6  # the series' own AR, not the scrambled one's
    forecast = got.forecast(3)
    assert list(forecast.mean.index) == list(
        pd.date_range(monthly.index[-1], periods=4, freq="MS")[1:]
    )
    np.testing.assert_allclose(forecast.mean, expected.forecast(3).mean, rtol=1e-10)


def test_arima_exog_is_sorted_with_y(monthly):
    x = pd.Series(np.linspace(0.0, 1.0, N), index=monthly.index, name="x")
    messy = _shuffled(monthly, seed=3)
    expected = ARIMA((1, 0, 0)).fit(monthly, exog=x)
    got = ARIMA((1, 0, 0)).fit(messy, exog=x.loc[messy.index])
    np.testing.assert_allclose(got.params, expected.params, rtol=1e-8)
    with pytest.raises(ValueError, match="exog cannot be sorted with it"):
        ARIMA((1, 0, 0)).fit(messy, exog=x.to_numpy())


def test_auto_arima_on_reversed_dates_forecasts_after_the_data(monthly):
    expected = auto_arima(monthly)
    got = auto_arima(monthly.iloc[::-1])
    assert got.label == expected.label
    index = got.forecast(2).mean.index
    assert index[0] == monthly.index[-1] + pd.offsets.MonthBegin(1)


@pytest.mark.parametrize("model", [Naive, Drift, MeanForecast, lambda: SeasonalNaive(12)])
def test_baselines_on_reversed_dates_forecast_from_the_last_date(monthly, model):
    expected = model().fit(monthly).predict(4)
    np.testing.assert_array_equal(model().fit(monthly.iloc[::-1]).predict(4), expected)


def test_baseline_without_degrees_of_freedom_gives_no_interval():
    from seqlab.forecast.conformal import LevelUnavailableError

    model = Drift().fit([1.0, 3.0])
    np.testing.assert_array_equal(model.predict(2), [5.0, 7.0])
    assert model.forecast(2, level=None).lower == {}
    with pytest.raises(LevelUnavailableError, match="Drift fitted on 2 observations"):
        model.forecast(2)


def test_arima_forecaster_and_tests_sort_too(monthly):
    expected = ArimaForecaster((1, 0, 0)).fit(monthly).predict(3)
    np.testing.assert_allclose(
        ArimaForecaster((1, 0, 0)).fit(_shuffled(monthly)).predict(3), expected, rtol=1e-10
    )
    assert kpss_test(_shuffled(monthly)).statistic == kpss_test(monthly).statistic
    np.testing.assert_array_equal(acf(monthly.iloc[::-1], 5), acf(monthly, 5))
    pd.testing.assert_series_equal(difference(monthly.iloc[::-1]), difference(monthly))
    pd.testing.assert_series_equal(boxcox(monthly.iloc[::-1], 0.5)[0], boxcox(monthly, 0.5)[0])


# ------------------------------------------------------------ magnitude, finiteness
@pytest.mark.parametrize("value", [1.5e150, 1e200, -1e300, np.finfo(float).max])
def test_values_beyond_the_bound_are_refused(value):
    y = ar1(40)
    y[7] = value
    with pytest.raises(ValueError, match=r"observed position 7.*not supported.*Divide the series"):
        ARIMA((1, 0, 0)).fit(y)


@pytest.mark.parametrize("fit", ["arima", "auto", "kpss", "naive"])
def test_every_entry_point_refuses_huge_values(fit):
    y = ar1(40) * 1e160
    call = {
        "arima": lambda: ARIMA((0, 1, 1)).fit(y),
        "auto": lambda: auto_arima(y),
        "kpss": lambda: kpss_test(y),
        "naive": lambda: Naive().fit(y),
    }[fit]
    with pytest.raises(ValueError, match="not supported"):
        call()


def test_spread_below_the_bound_is_refused_but_a_constant_is_not_a_magnitude_error():
    with pytest.raises(ValueError, match=r"varies by only 1e-200"):
        ARIMA((1, 0, 0)).fit(np.tile([0.0, 1e-200], 10))
    with pytest.raises(ValueError, match="constant"):
        ARIMA((1, 0, 0)).fit(np.full(20, 3e-200))


@pytest.mark.parametrize("scale", [1e-140, 1e-20, 1e20, 1e140])
@pytest.mark.parametrize("method", ["css-mle", "css"])
def test_scaled_series_give_the_scaled_fit(scale, method):
    # The optimiser runs on the series divided by its own spread, so estimates are
    # equivariant: ARMA terms equal, mean x scale, sigma2 x scale^2, forecasts x scale,
    # log-likelihood shifted by -n log(scale).
    y = ar1(80)
    base = ARIMA((1, 0, 1), method=method).fit(y)
    got = ARIMA((1, 0, 1), method=method).fit(y * scale)
    units = np.array([scale, 1.0, 1.0, scale**2])
    np.testing.assert_allclose(got.params.to_numpy() / units, base.params.to_numpy(), rtol=1e-5)
    assert got.loglik == pytest.approx(base.loglik - got.nobs_effective * np.log(scale), rel=1e-7)
    np.testing.assert_allclose(got.bse.to_numpy() / units, base.bse.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(
        got.forecast(5).mean / scale, base.forecast(5).mean, rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("scale", [1e-2, 1e-40, 1e-100, 1e-140])
@pytest.mark.parametrize("order", [(0, 1, 1), (1, 1, 1)])
def test_small_differenced_series_forecast_like_the_unscaled_one(scale, order):
    # The integration states' prior variance, in units of the scaled series, grows as
    # 1/scale^2; the end-of-sample filter caps it so forecasts stay exact and finite.
    y = np.cumsum(np.random.default_rng(0).standard_normal(80)) + 5.0
    base = ARIMA(order).fit(y).forecast(3)
    got = ARIMA(order).fit(y * scale).forecast(3)
    np.testing.assert_allclose(got.mean / scale, base.mean, rtol=1e-6)
    np.testing.assert_allclose(got.lower[95] / scale, base.lower[95], rtol=1e-6)


def test_values_at_the_bound_fit_with_finite_results():
    y = ar1(60)
    y = y / np.abs(y).max() * 1e150
    result = ARIMA((1, 0, 0)).fit(y)
    assert np.isfinite(result.params).all() and np.isfinite(result.loglik)
    assert np.isfinite(result.forecast(3).mean).all()


def test_non_finite_estimates_are_an_error_naming_them():
    with pytest.raises(ValueError, match=r"ARIMA\(1,0,0\) fit produced non-finite estimates "):
        check_finite_estimates(
            [0.5, np.nan, np.inf], ["ar.L1", "sigma2", "loglik"], "ARIMA(1,0,0) fit"
        )
    check_finite_estimates([0.5, 1.0], ["ar.L1", "sigma2"], "ok")


@pytest.mark.parametrize(
    "values",
    [
        [1e111, 1e-39, 1e111, 1e-39, 1e-39, 1e111],
        [1e111, 1e-39, 1e-39, 1e111, 1e-39, 1e111],
        [1e-39, 1e111, 1e111, 1e-39, 1e111, 1e-39],
    ],
)
def test_kpss_auto_lag_with_a_zero_pilot_variance(values):
    # The pilot's long-run variance cancels to exactly 0 on these; the bandwidth is
    # then unbounded and capped at n - 1 lags.
    result = kpss_test(values)
    assert result.lags == len(values) - 1 and np.isfinite(result.statistic)
    adf = adf_test(values)
    assert np.isfinite(adf.statistic)


# ------------------------------------------------------------------------- sizes
def test_horizons_past_the_limit_are_refused_at_once(monthly):
    result = ARIMA((1, 0, 0)).fit(monthly)
    calls = [
        lambda: result.forecast(10**9),
        lambda: result.simulate(10**9),
        lambda: Naive().fit(monthly).predict(10**9),
        lambda: ArimaForecaster((1, 0, 0)).fit(monthly).forecast(10**9),
        lambda: fit_many(
            pd.DataFrame({"unique_id": "a", "ds": monthly.index, "y": monthly.to_numpy()}),
            h=10**9,
            progress=False,
        ),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=f"largest forecast horizon is {MAX_HORIZON:,}"):
            call()
    assert Naive().fit(monthly).predict(MAX_HORIZON).size == MAX_HORIZON


def test_seasonal_periods_past_the_limit_are_refused(monthly):
    big = MAX_PERIOD + 1
    calls = [
        lambda: ARIMA((0, 0, 0), (1, 0, 0, big)).fit(monthly),
        lambda: auto_arima(monthly, m=10**9),
        lambda: SeasonalNaive(m=10**9).fit(monthly),
        lambda: difference(monthly, D=1, m=10**9),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=f"largest supported is {MAX_PERIOD:,}"):
            call()


def test_lags_past_the_series_length_are_refused_before_allocating(monthly):
    from seqlab.ts.stattools import ljung_box, pacf

    with pytest.raises(ValueError, match=f"lags=1000000000 must be smaller than len.resid. = {N}"):
        ljung_box(monthly, lags=10**9)
    with pytest.raises(ValueError, match="nlags=1000000000 must be at most n - 1"):
        acf(monthly, 10**9)
    with pytest.raises(ValueError, match="nlags=1000000000 is too large"):
        pacf(monthly, 10**9)
    with pytest.raises(ValueError, match="maxlag=1000000000 is too large"):
        adf_test(monthly, maxlag=10**9)
    with pytest.raises(ValueError, match="nlags=1000000000 must be smaller"):
        kpss_test(monthly, nlags=10**9)


def test_fit_many_refuses_more_workers_than_the_machine_can_run(monthly):
    frame = pd.DataFrame({"unique_id": "a", "ds": monthly.index, "y": monthly.to_numpy()})
    with pytest.raises(ValueError, match=r"n_jobs=1000000 is more workers .* \(four per core\)"):
        fit_many(frame, h=2, backend="process", n_jobs=10**6, progress=False)


@pytest.mark.parametrize("name", ["max_p", "max_q", "max_P", "max_order"])
def test_auto_arima_order_maxima_are_bounded(monthly, name):
    with pytest.raises(ValueError, match=rf"{name} must be <= \d+"):
        auto_arima(monthly, **{name: 10**6})


# ------------------------------------------------------------------------ levels
@pytest.mark.parametrize(("level", "meant"), [(0.95, "95"), (0.8, "80"), ((80, 0.5), "50")])
@pytest.mark.parametrize("where", ["arima", "naive", "forecaster", "auto", "many"])
def test_fractional_levels_are_refused_with_the_percentage(monthly, level, meant, where):
    call = {
        "arima": lambda: ARIMA((1, 0, 0)).fit(monthly).forecast(2, level=level),
        "naive": lambda: Naive().fit(monthly).forecast(2, level=level),
        "forecaster": lambda: ArimaForecaster((1, 0, 0)).fit(monthly).forecast(2, level=level),
        "auto": lambda: auto_arima(monthly, max_p=1, max_q=1).forecast(2, level=level),
        "many": lambda: fit_many(
            pd.DataFrame({"unique_id": "a", "ds": monthly.index, "y": monthly.to_numpy()}),
            h=2,
            level=level,
            progress=False,
        ),
    }[where]
    with pytest.raises(ValueError, match=f"levels are percentages. Did you mean {meant}\\?"):
        call()


@pytest.mark.parametrize(
    ("level", "error", "message"),
    [
        (100, ValueError, r"\[1, 100\)"),
        (-5, ValueError, r"\[1, 100\)"),
        (0, ValueError, r"\[1, 100\)"),
        ("95", TypeError, "a number or a sequence"),
        ([80, "95"], TypeError, "percentages such as 80"),
        (True, TypeError, "percentages such as 80"),
    ],
)
def test_other_bad_levels(level, error, message):
    with pytest.raises(error, match=message):
        check_levels(level)


def test_levels_keep_their_keys():
    assert check_levels((80, 95.0, 99.5)) == (80, 95, 99.5)
    assert check_levels(np.array([80, 95])) == (80, 95)
    assert check_levels(None) == ()
    assert forecast_check_levels is check_levels


# ------------------------------------------------------------------------- files
def _write(path, text: str):
    path.write_text(text)
    return path


def test_csv_with_backwards_dates_is_sorted_with_a_notice(tmp_path, caplog):
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01,{v}" for i, v in enumerate(range(24))]
    path = _write(tmp_path / "back.csv", "date,value\n" + "\n".join(reversed(rows)) + "\n")
    with caplog.at_level(logging.WARNING, logger="seqlab.io"):
        y = read_series_csv(path)
    assert list(y) == list(map(float, range(24))) and y.index.freqstr == "MS"
    assert "run backwards; sorted them" in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2020-01-01,1\n2020-02-01,2\n2020-01-01,3\n", r"2020-01-01 appears on lines 2 and 4"),
        (
            "2020-01-01,1\n2020-01-01,2\n2020-01-01,3\n2020-02-01,4\n",
            r"2020-01-01 appears on lines 2, 3 and 4 \(2 repeated dates in all\)",
        ),
    ],
)
def test_csv_with_repeated_dates_names_the_lines(tmp_path, body, message):
    path = _write(tmp_path / "dup.csv", "date,value\n" + body)
    with pytest.raises(ValueError, match=f"dup.csv: column 'date': {message}"):
        read_series_csv(path)
    with pytest.raises(ValueError, match=message):
        load_frame(path, "value")


@pytest.mark.parametrize(
    "text",
    [
        "unique_id,ds,y\nA,2020-01-01,1\nA,2020-02-01,2\nB,2020-01-01,3\nB,2020-02-01,4\n",
        "store,date,sales\nA,2020-01-01,1\nB,2020-01-01,3\nA,2020-02-01,2\nB,2020-02-01,4\n",
        "unique_id,y\nA,1\nA,2\nB,3\nB,4\n",
    ],
)
def test_long_form_files_point_to_fit_many(tmp_path, text):
    path = _write(tmp_path / "long.csv", text)
    with pytest.raises(ValueError, match=r"holds 2 series in long form .*seqlab ts many"):
        read_series_csv(path)


def test_guessed_value_column_is_named(tmp_path, caplog):
    text = "Date,Open,Close,Volume\n2020-01-01,1,2,100\n2020-01-02,2,3,90\n2020-01-03,3,2,80\n"
    path = _write(tmp_path / "px.csv", text)
    with caplog.at_level(logging.WARNING, logger="seqlab.io"):
        y = read_series_csv(path)
    assert y.name == "Volume"
    assert "using 'Volume', the last numeric column (the others: 'Open', 'Close')" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="seqlab.io"):
        assert read_series_csv(path, value="Close").name == "Close"
    assert caplog.records == []


def test_load_frame_sorts_rows_with_their_features(tmp_path):
    text = "date,y,x\n2020-03-01,3,30\n2020-01-01,1,10\n2020-02-01,2,20\n"
    frame = load_frame(_write(tmp_path / "f.csv", text), "y", "x")
    assert list(frame["y"]) == [1.0, 2.0, 3.0] and list(frame["x"]) == [10.0, 20.0, 30.0]
    assert frame.index.freqstr == "MS"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_respects_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        with atomic_write(tmp_path / "out.txt") as handle:
            handle.write("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == mode
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_as_float_series_checks_magnitude_only_where_asked():
    with pytest.raises(ValueError, match="not supported"):
        as_float_series([1.0, 1e151])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(
            as_float_series([1.0, 1e151], check_magnitude=False), [1.0, 1e151]
        )


@pytest.mark.parametrize("function", ["stl", "seasonal_strength", "ndiffs", "nsdiffs", "ocsb"])
def test_seasonality_functions_read_a_shuffled_series_in_date_order(function, caplog):
    from seqlab.datasets import airline
    from seqlab.ts import ndiffs, nsdiffs, ocsb_test, seasonal_strength, stl

    y = np.log(airline())
    shuffled = y.sample(frac=1.0, random_state=0)
    call = {
        "stl": lambda s: stl(s, 12).trend,
        "seasonal_strength": lambda s: seasonal_strength(s, 12),
        "ndiffs": ndiffs,
        "nsdiffs": lambda s: nsdiffs(s, 12),
        "ocsb": lambda s: ocsb_test(s, 12).statistic,
    }[function]
    with caplog.at_level(logging.WARNING):
        np.testing.assert_array_equal(np.asarray(call(shuffled)), np.asarray(call(y)))
    assert "sorted" in caplog.text

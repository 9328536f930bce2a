"""future_index: the dates after a series, for forecasters and ARIMA results alike."""

import numpy as np
import pandas as pd
import pytest

from seqlab._validation import check_freq, date_offset, future_index
from seqlab.ts import ARIMA


def _trading_days(n: int = 30) -> pd.DatetimeIndex:
    """Business days with one holiday removed: no frequency pandas can infer."""
    days = pd.bdate_range("2024-01-02", periods=n + 1, name="Date")
    return days.delete(5)


def test_inferred_monthly_dates_continue():
    index = pd.date_range("2020-01-01", periods=24, freq="MS", name="ds")
    out = future_index(index, 3)
    assert list(out) == list(pd.to_datetime(["2022-01-01", "2022-02-01", "2022-03-01"]))


def test_the_index_frequency_is_used_without_inference():
    index = pd.DatetimeIndex(["2020-01-03", "2020-01-06"], freq="B")
    assert list(future_index(index, 2)) == list(pd.to_datetime(["2020-01-07", "2020-01-08"]))


def test_business_days_skip_the_weekend_with_freq():
    index = _trading_days()
    assert index[-1].day_name() == "Tuesday"
    out = future_index(index, 5, freq="B")
    assert [d.day_name() for d in out] == [
        "Wednesday",
        "Thursday",
        "Friday",
        "Monday",
        "Tuesday",
    ]


def test_custom_business_day_skips_the_holiday():
    index = pd.DatetimeIndex(["2024-12-20", "2024-12-23", "2024-12-24"])
    holidays = pd.offsets.CustomBusinessDay(holidays=["2024-12-25"])
    assert list(future_index(index, 1, freq=holidays)) == [pd.Timestamp("2024-12-26")]


def test_irregular_dates_without_freq_ask_for_freq():
    with pytest.raises(ValueError, match=r"cannot infer the frequency.*freq='B'"):
        future_index(_trading_days(), 3)


def test_too_few_and_repeated_dates_are_named():
    with pytest.raises(ValueError, match="fewer than the 3"):
        date_offset(pd.DatetimeIndex(["2020-01-01", "2020-01-02"]))
    with pytest.raises(ValueError, match="repeat"):
        date_offset(pd.DatetimeIndex(["2020-01-01", "2020-01-01", "2020-01-02"]))


def test_periods_continue_and_reject_another_freq():
    index = pd.period_range("2020Q1", periods=8, freq="Q")
    assert list(future_index(index, 2)) == list(pd.period_range("2022Q1", periods=2, freq="Q"))
    with pytest.raises(ValueError, match="disagrees"):
        future_index(index, 2, freq="D")


def test_integer_indexes_continue_by_their_step():
    assert list(future_index(pd.RangeIndex(10), 2)) == [10, 11]
    assert list(future_index(pd.Index([0, 5, 10]), 2)) == [15, 20]
    assert future_index(None, 3) is None
    with pytest.raises(ValueError, match="only for a series indexed by dates"):
        future_index(pd.RangeIndex(10), 2, freq="D")


def test_bad_freq_is_a_clear_error():
    with pytest.raises(ValueError, match="not a pandas frequency"):
        check_freq("fortnightly")
    with pytest.raises(TypeError, match="freq must be"):
        check_freq(7)


def test_arima_forecasts_by_date_and_refuses_irregular_dates():
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(size=40))
    monthly = pd.Series(values, index=pd.date_range("2020-01-01", periods=40, freq="MS"))
    fc = ARIMA(order=(1, 1, 0)).fit(monthly).forecast(2)
    assert list(fc.mean.index) == list(pd.to_datetime(["2023-05-01", "2023-06-01"]))
    trading = pd.Series(values[:30], index=_trading_days(30))
    result = ARIMA(order=(1, 1, 0)).fit(trading)
    with pytest.raises(ValueError, match=r"cannot infer the frequency.*CustomBusinessDay"):
        result.forecast(2)

"""Dates in, dates out: every single-series forecaster fitted on a dated Series forecasts
the dates that follow; numpy in, numpy out; irregular dates need freq."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from seqlab.forecast import (
    ArimaForecaster,
    AutoArimaForecaster,
    ConformalForecaster,
    Drift,
    MeanForecast,
    Naive,
    SeasonalNaive,
)
from seqlab.forecast.base import Forecast

RNG = np.random.default_rng(3)
VALUES = 50 + np.cumsum(RNG.normal(size=48))
MONTHLY = pd.Series(VALUES, index=pd.date_range("2020-01-01", periods=48, freq="MS"), name="y")
NEXT_MONTHS = pd.date_range("2024-01-01", periods=3, freq="MS")

LOCAL = [
    Naive(),
    SeasonalNaive(12),
    Drift(),
    MeanForecast(),
    ArimaForecaster((1, 1, 0)),
    AutoArimaForecaster(m=1, stepwise=True),
    ConformalForecaster(Naive(), horizon=3, hold_out=20),
]


def _trading_days(n: int) -> pd.DatetimeIndex:
    """Business days less one holiday (a Monday): no frequency pandas can infer."""
    days = pd.bdate_range("2024-01-02", periods=n + 1, name="Date")
    return days.delete(5)


@pytest.mark.parametrize("model", LOCAL, ids=lambda m: type(m).__name__)
def test_dated_series_in_dated_forecasts_out(model):
    model.fit(MONTHLY)
    point = model.predict(3)
    assert isinstance(point, pd.Series)
    assert point.index.equals(NEXT_MONTHS) and point.name == "y"
    fc = model.forecast(3, level=(80,))
    assert fc.index.equals(NEXT_MONTHS)
    frame = fc.to_frame()
    assert frame.index.equals(NEXT_MONTHS)
    np.testing.assert_allclose(frame["mean"].to_numpy(), point.to_numpy())
    assert (frame["lower_80"] <= frame["mean"]).all()


@pytest.mark.parametrize("model", LOCAL, ids=lambda m: type(m).__name__)
def test_numpy_in_numpy_out_with_the_same_numbers(model):
    dated = copy.deepcopy(model).fit(MONTHLY).predict(3)
    point = model.fit(VALUES).predict(3)
    assert isinstance(point, np.ndarray)
    np.testing.assert_allclose(point, dated.to_numpy())
    fc = model.forecast(3, level=(80,))
    assert fc.index is None
    assert fc.to_frame().index.equals(pd.RangeIndex(1, 4, name="step"))


def test_periods_continue_as_periods():
    quarters = pd.Series(VALUES[:20], index=pd.period_range("2019Q1", periods=20, freq="Q"))
    point = Naive().fit(quarters).predict(2)
    assert point.index.equals(pd.period_range("2024Q1", periods=2, freq="Q"))


def test_trading_days_need_freq_and_business_days_skip_the_weekend():
    closes = pd.Series(VALUES[:30], index=_trading_days(30), name="Close")
    with pytest.raises(ValueError, match=r"cannot infer the frequency.*freq='B'"):
        Naive().fit(closes)
    point = Naive().fit(closes, freq="B").predict(4)
    assert list(point.index.day_name()) == ["Wednesday", "Thursday", "Friday", "Monday"]
    holidays = pd.offsets.CustomBusinessDay(holidays=["2024-02-15"])
    point = ArimaForecaster((0, 1, 0)).fit(closes, freq=holidays).predict(2)
    assert list(point.index) == list(pd.to_datetime(["2024-02-14", "2024-02-16"]))


def test_update_keeps_the_freq_given_to_fit():
    closes = pd.Series(VALUES[:30], index=_trading_days(30))
    model = ArimaForecaster((1, 1, 0)).fit(closes.iloc[:25], freq="B")
    model.update(closes)
    assert model.predict(1).index[0] == closes.index[-1] + pd.offsets.BDay()
    model.update(VALUES[:30])
    assert isinstance(model.predict(1), np.ndarray)


def test_freq_for_undated_input_is_an_error():
    with pytest.raises(ValueError, match="freq='D' is only for a pandas Series indexed by dates"):
        Naive().fit(VALUES, freq="D")
    with pytest.raises(ValueError, match="not a pandas frequency"):
        Naive().fit(MONTHLY, freq="monthly")


def test_unsorted_dates_forecast_after_the_last_date():
    shuffled = MONTHLY.iloc[::-1]
    assert Naive().fit(shuffled).predict(1).index[0] == NEXT_MONTHS[0]


def test_forecast_frame_without_index_is_by_step():
    fc = Forecast(mean=np.array([1.0, 2.0]))
    assert list(fc.to_frame().index) == [1, 2]


def test_hybrid_forecasts_by_date():
    pytest.importorskip("torch")
    from seqlab.forecast import HybridForecaster, RecurrentForecaster

    network = RecurrentForecaster(
        "gru", lookback=6, horizon=3, hidden_size=4, epochs=1, valid_size=24, seed=0
    )
    model = HybridForecaster(ArimaForecaster((1, 1, 0)), network).fit(MONTHLY)
    assert model.predict(3).index.equals(NEXT_MONTHS)
    assert model.forecast(3, level=(80,)).to_frame().index.equals(NEXT_MONTHS)
    assert isinstance(model.network_.predict(3), np.ndarray)  # fitted on residual values


def test_a_dated_fit_pickles_with_its_dates():
    import pickle

    closes = pd.Series(VALUES[:30], index=_trading_days(30))
    model = Drift().fit(closes, freq="B")
    copy_ = pickle.loads(pickle.dumps(model))
    pd.testing.assert_series_equal(copy_.predict(3), model.predict(3))


def _tiny_recurrent():
    pytest.importorskip("torch")
    from seqlab.forecast import RecurrentForecaster

    return RecurrentForecaster(
        "gru", lookback=6, horizon=3, hidden_size=4, epochs=1, valid_size=24, seed=0
    )


def test_recurrent_forecaster_dates_in_dates_out():
    model = _tiny_recurrent().fit(MONTHLY)
    point = model.predict(3)
    assert isinstance(point, pd.Series)
    assert point.index.equals(NEXT_MONTHS) and point.name == "y"
    fc = model.forecast(3, level=(80, 95))
    assert fc.index.equals(NEXT_MONTHS)
    np.testing.assert_allclose(fc.to_frame()["mean"].to_numpy(), point.to_numpy())
    assert (fc.to_frame()["lower_95"] <= fc.to_frame()["lower_80"]).all()
    model.update(MONTHLY.iloc[:40])
    assert model.predict(1).index[0] == pd.Timestamp("2023-05-01")


def test_recurrent_forecaster_trading_days_need_freq():
    closes = pd.Series(VALUES[:40], index=_trading_days(40), name="Close")
    with pytest.raises(ValueError, match=r"cannot infer the frequency.*freq='B'"):
        _tiny_recurrent().fit(closes)
    model = _tiny_recurrent().fit(closes, freq="B")
    assert model.predict(2).index[0] == closes.index[-1] + pd.offsets.BDay()
    model.update(closes)  # keeps freq="B" from fit
    assert model.forecast(2, level=(80,)).index.equals(model.predict(2).index)


def test_recurrent_forecaster_numpy_in_numpy_out_with_the_same_numbers():
    dated = _tiny_recurrent().fit(MONTHLY).forecast(3, level=(80,))
    model = _tiny_recurrent().fit(VALUES)
    point = model.predict(3)
    assert isinstance(point, np.ndarray)
    fc = model.forecast(3, level=(80,))
    assert fc.index is None
    np.testing.assert_allclose(point, dated.mean)
    np.testing.assert_allclose(fc.upper[80], dated.upper[80])


def test_forecast_fit_cli_takes_trading_days_without_freq(tmp_path, capsys):
    # The run folder keeps values, not dates, so 'forecast fit' needs no --freq for
    # trading days; 'forecast predict' dates the forecast from FILE and --freq.
    pytest.importorskip("torch")
    from seqlab.cli import main

    days = _trading_days(60)
    csv = tmp_path / "prices.csv"
    pd.DataFrame(
        {"Date": days.strftime("%Y-%m-%d"), "Close": 50 + np.sin(np.arange(60) / 3)}
    ).to_csv(csv, index=False)
    run = tmp_path / "run"
    fit = ["forecast", "fit", str(csv), "--value", "Close", "--model", "gru", "--lookback", "6"]
    assert main([*fit, "--h", "2", "--epochs", "1", "--hidden", "4", "--out", str(run)]) == 0
    capsys.readouterr()
    predict = ["forecast", "predict", "--run", str(run), str(csv), "--freq", "B"]
    assert main([*predict, "--level", "80"]) == 0
    out = capsys.readouterr().out
    assert str((days[-1] + pd.offsets.BDay()).date()) in out


def test_recurrent_forecaster_sorts_dates_given_out_of_order_with_their_regressors():
    # Trained on the series in date order, as every other forecaster; the regressors
    # follow y row for row, and the forecasts are dated after the last date.
    import torch

    from seqlab.forecast.neural import RecurrentForecaster

    torch.set_num_threads(1)
    dates = pd.date_range("2001-01-01", periods=40, freq="MS")
    y = pd.Series(np.sin(np.arange(40) / 3.0) + np.arange(40) / 10.0, index=dates)
    X = pd.DataFrame({"x": np.cos(np.arange(40) / 5.0)}, index=dates)
    shuffled = np.random.default_rng(0).permutation(40)
    kwargs = dict(lookback=6, horizon=2, hidden_size=4, epochs=2, seed=0)
    ordered = RecurrentForecaster("gru", **kwargs).fit(y, X)
    mixed = RecurrentForecaster("gru", **kwargs).fit(y.iloc[shuffled], X.iloc[shuffled])
    np.testing.assert_array_equal(mixed.data_, ordered.data_)
    pd.testing.assert_series_equal(mixed.predict(2), ordered.predict(2))

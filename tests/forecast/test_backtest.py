"""Backtest origins, windows and refit logic on a tiny series, checked by hand."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from seqlab.forecast.backtest import backtest, origins
from seqlab.forecast.base import Forecaster
from seqlab.forecast.baselines import Naive, SeasonalNaive


class Recorder(Forecaster):
    """Forecasts the mean of what fit saw (update keeps it); logs every call.

    The log is a class attribute because backtest deep-copies each model.
    """

    label = "recorder"
    log: ClassVar[list] = []

    def fit(self, y, X=None):
        self.log.append(("fit", len(y), float(y[0])))
        self.level_ = float(np.mean(y))
        return self

    def update(self, y, X=None):
        self.log.append(("update", len(y), float(y[0])))
        return self

    def predict(self, h):
        return np.full(h, self.level_)


def test_origins():
    np.testing.assert_array_equal(origins(10, 2, 5, 1), [5, 6, 7, 8])
    np.testing.assert_array_equal(origins(10, 2, 5, 2), [5, 7])
    with pytest.raises(ValueError, match="5 \\+ horizon 6 = 11 rows are needed, the series has 10"):
        origins(10, 6, 5)


def test_expanding_refit_every_two():
    log = Recorder.log = []
    y = np.arange(1.0, 11.0)
    result = backtest({"rec": Recorder()}, y, horizon=2, initial=5, refit_every=2)
    assert log == [
        ("fit", 5, 1.0),
        ("update", 6, 1.0),
        ("fit", 7, 1.0),
        ("update", 8, 1.0),
    ]
    # Forecast at origin 6 (an update) still uses the mean fitted at origin 5: 3.0.
    at6 = result.forecasts[(result.forecasts["row"] == 6) & (result.forecasts["step"] == 1)]
    assert float(at6["mean"].iloc[0]) == 3.0
    # The caller's model object is untouched (deep-copied).
    model = Recorder()
    backtest([model], y, horizon=2, initial=5)
    assert not hasattr(model, "level_")


def test_sliding_window():
    log = Recorder.log = []
    backtest([Recorder()], np.arange(1.0, 11.0), horizon=1, initial=4, step=3, window="sliding")
    # origins 4, 7: windows rows [0,4) and [3,7)
    assert log == [("fit", 4, 1.0), ("fit", 4, 4.0)]


def test_naive_scores_by_hand():
    y = pd.Series([1.0, 2.0, 4.0, 3.0, 5.0, 6.0])
    result = backtest([Naive()], y, horizon=2, initial=4)
    # origin 4 (last 3): forecasts 3,3 vs 5,6 -> errors 2,3; origin... only one more: none
    # (4 + 2 = 6 rows). So exactly one origin.
    row = result.metrics.loc["naive"]
    assert row["origins"] == 1
    assert row["mae"] == pytest.approx(2.5)
    assert row["rmse"] == pytest.approx(np.sqrt((4 + 9) / 2))
    # MASE scale from rows [0, 4): |1| + |2| + |-1| over 3 = 4/3
    assert row["mase"] == pytest.approx(2.5 / (4 / 3))
    step2 = result.by_step.loc[("naive", 2)]
    assert step2["mae"] == pytest.approx(3.0)
    assert {"lower_80", "upper_95"} <= set(result.forecasts.columns)


def test_plot_shows_only_the_last_windows_with_their_intervals(tmp_path):
    import matplotlib.image
    import matplotlib.pyplot as plt

    y = np.sin(np.arange(60) / 3)
    # origins 30, 33, ..., 54: nine windows of 4 steps
    result = backtest([Naive(), SeasonalNaive(6)], y, horizon=4, initial=30, step=3)
    fig, ax = plt.subplots()
    try:
        assert result.plot(model="naive", windows=2, ax=ax) is fig
        lines = ax.lines
        actual = next(line for line in lines if line.get_label() == "actual")
        # one horizon of context before origin 51, then rows 51..57 (origins 51 and 54)
        assert list(actual.get_xdata()) == list(range(47, 58))
        forecasts = [line for line in lines if len(line.get_xdata()) == 4]
        assert [list(f.get_xdata()) for f in forecasts] == [[51, 52, 53, 54], [54, 55, 56, 57]]
        lo, hi = ax.get_xlim()
        assert 45 < lo < 47 and 57 < hi < 59  # not the whole history from row 0
        assert len(ax.collections) == 4  # 80% and 95% bands for each of the two windows
    finally:
        plt.close(fig)
    fig = result.plot(tmp_path / "all.png", windows=3)
    assert not plt.fignum_exists(fig.number)  # made here and saved: closed
    height, width = matplotlib.image.imread(tmp_path / "all.png").shape[:2]
    assert width > 600 and height > 300
    axes = fig.axes[0]
    assert len(axes.collections) == 0  # several models: means only
    assert sum(len(line.get_xdata()) == 4 for line in axes.lines) == 6  # 3 windows x 2
    with pytest.raises(ValueError, match="no model named 'arima'"):
        result.plot(model="arima")


def test_bad_arguments():
    with pytest.raises(TypeError, match="fit/predict"):
        backtest({"x": object()}, np.arange(10.0), 1, initial=5)
    with pytest.raises(ValueError, match="window must be"):
        backtest([Naive()], np.arange(10.0), 1, initial=5, window="rolling")
    with pytest.raises(ValueError, match="labelled 'naive'"):
        backtest([Naive(), Naive()], np.arange(10.0), 1, initial=5)


def test_refit_none_fits_once_then_updates():
    log = Recorder.log = []
    backtest([Recorder()], np.arange(1.0, 11.0), horizon=2, initial=6, refit_every=None)
    assert log == [("fit", 6, 1.0), ("update", 7, 1.0), ("update", 8, 1.0)]


def test_progress_bar_on_stderr_only_when_asked(capsys, monkeypatch):

    import seqlab._progress as module

    # The bar appears after two seconds; a zero delay makes it visible in a quick test.
    monkeypatch.setattr(module, "PROGRESS_DELAY_S", 0.0)
    y = np.sin(np.arange(40) / 3)
    backtest([Naive()], y, horizon=2, initial=30)
    out, err = capsys.readouterr()
    assert "backtest" in err and out == ""
    backtest([Naive()], y, horizon=2, initial=30, progress=False)
    out, err = capsys.readouterr()
    assert err == "" and out == ""

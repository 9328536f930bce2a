"""``Forecasts`` and ``evaluate``: the long-frame front door for many series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.forecast import (
    AutoArimaForecaster,
    Forecast,
    Forecaster,
    Forecasts,
    GlobalRecurrentForecaster,
    Naive,
    SeasonalNaive,
    evaluate,
)


def _frame(lengths=(30, 36, 41), freq="MS", start="2000-01-01", seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        y = 10 + k + np.sin(2 * np.pi * t / 12) + 0.05 * t + rng.normal(scale=0.3, size=n)
        ds = pd.date_range(start, periods=n, freq=freq)
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


class SeenLength(Forecaster):
    """Forecasts the number of rows it was fitted on, with a fixed +-1 interval."""

    label = "seen"

    def fit(self, y, X=None):
        self.n_ = len(self._series(y))
        return self

    def predict(self, h):
        return np.full(self._check_h(h), float(self.n_))

    def forecast(self, h, level=(80, 95)):
        mean = self.predict(h)
        return Forecast(
            mean, {lv: mean - 1 for lv in level or ()}, {lv: mean + 1 for lv in level or ()}
        )


class LinearOnX(Forecaster):
    """y = a + b x by least squares; forecasts from the future regressor values."""

    label = "linear"

    def fit(self, y, X=None):
        design = np.column_stack([np.ones(len(y)), np.asarray(X)])
        self.coef_ = np.linalg.lstsq(design, np.asarray(y), rcond=None)[0]
        return self

    def forecast(self, h, level=None, X=None):
        mean = np.column_stack([np.ones(h), np.asarray(X)]) @ self.coef_
        return Forecast(mean, {lv: mean for lv in level or ()}, {lv: mean for lv in level or ()})


class GlobalMean(Forecaster):
    """A global model: forecasts every series with the mean over all series."""

    is_global = True
    label = "gmean"

    def fit(self, series, X=None):
        self.n_series_ = len(series)
        self.mean_ = float(np.mean(np.concatenate(series)))
        return self

    def forecast(self, h, level=None):
        return [Forecast(np.full(h, self.mean_)) for _ in range(self.n_series_)]


# ------------------------------------------------------------------ output shape
def test_forecast_columns_and_monthly_dates():
    df = _frame()
    out = Forecasts([SeasonalNaive(12), Naive()], freq="MS").forecast(df, h=3, level=[80, 95])
    assert list(out.columns) == [
        "unique_id", "ds",
        "snaive", "snaive-lo-80", "snaive-hi-80", "snaive-lo-95", "snaive-hi-95",
        "naive", "naive-lo-80", "naive-hi-80", "naive-lo-95", "naive-hi-95",
    ]  # fmt: skip
    first = out[out["unique_id"] == "s0"]
    assert list(first["ds"]) == list(pd.date_range("2002-07-01", periods=3, freq="MS"))
    y0 = df.loc[df["unique_id"] == "s0", "y"].to_numpy()
    np.testing.assert_array_equal(first["naive"], np.full(3, y0[-1]))
    np.testing.assert_array_equal(first["snaive"], y0[-12:-9])
    fc = Naive().fit(y0).forecast(3, level=(80, 95))
    np.testing.assert_allclose(first["naive-lo-95"], fc.lower[95])


def test_business_days_inferred_and_given():
    df = _frame(lengths=(25, 25), freq="B", start="2024-01-01")  # Monday; 25 days = 5 weeks
    out = Forecasts([Naive()]).forecast(df, h=3)
    last = df["ds"].max()  # Friday 2024-02-02
    assert last.day_name() == "Friday"
    assert list(out.loc[out["unique_id"] == "s1", "ds"]) == list(
        pd.to_datetime(["2024-02-05", "2024-02-06", "2024-02-07"])
    )
    holidays = pd.offsets.CustomBusinessDay(holidays=["2024-02-05"])
    out = Forecasts([Naive()], freq=holidays).forecast(df, h=1)
    assert out["ds"].iloc[0] == pd.Timestamp("2024-02-06")


def test_period_and_integer_stamps():
    df = _frame(lengths=(20, 24))
    periods = df.assign(ds=df["ds"].dt.to_period("M"))
    out = Forecasts([Naive()]).forecast(periods, h=2)
    assert out["ds"].dtype == periods["ds"].dtype
    assert list(out.loc[out["unique_id"] == "s0", "ds"].astype(str)) == ["2001-09", "2001-10"]
    text = df.assign(ds=df["ds"].dt.strftime("%Y-%m-%d"))  # as read from a CSV
    pd.testing.assert_frame_equal(
        Forecasts([Naive()]).forecast(text, h=2), Forecasts([Naive()]).forecast(df, h=2)
    )
    integers = df.assign(ds=df.groupby("unique_id").cumcount() * 5 + 100)
    out = Forecasts([Naive()]).forecast(integers, h=2)
    assert list(out.loc[out["unique_id"] == "s1", "ds"]) == [100 + 24 * 5, 100 + 25 * 5]


def test_fit_then_predict_equals_forecast():
    df = _frame()
    models = [SeasonalNaive(12), Naive()]
    out = Forecasts(models).forecast(df, h=4, level=[80])
    again = Forecasts(models).fit(df).predict(4, level=[80])
    pd.testing.assert_frame_equal(out, again)


def test_aliases_from_a_dict_and_duplicates_refused():
    df = _frame()
    out = Forecasts({"a": Naive(), "b": Naive()}).forecast(df, h=1)
    assert list(out.columns) == ["unique_id", "ds", "a", "b"]
    with pytest.raises(ValueError, match="two models are called 'naive'"):
        Forecasts([Naive(), Naive()]).forecast(df, h=1)


# ------------------------------------------------------------- cross-validation
def test_cutoffs_follow_statsforecast_windows():
    df = _frame(lengths=(20, 23))
    cv = Forecasts([SeenLength()]).cross_validation(df, h=3, n_windows=3, step_size=2)
    for uid, n in (("s0", 20), ("s1", 23)):
        ds = df.loc[df["unique_id"] == uid, "ds"].reset_index(drop=True)
        part = cv[cv["unique_id"] == uid]
        # window i forecasts rows [n - h - (n_windows - 1 - i) * step, ... + h)
        starts = [n - 3 - 4, n - 3 - 2, n - 3]
        assert list(part["cutoff"].unique()) == [ds[s - 1] for s in starts]
        assert list(part["ds"]) == [ds[s + j] for s in starts for j in range(3)]
        assert part["ds"].iloc[-1] == ds.iloc[-1]  # the last window ends at the last row
        # the model saw exactly the rows up to and including the cutoff
        assert list(part["seen"]) == [float(s) for s in starts for _ in range(3)]
        y = df.loc[df["unique_id"] == uid, "y"].to_numpy()
        np.testing.assert_array_equal(part["y"], [y[s + j] for s in starts for j in range(3)])
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "seen"]


def test_no_future_leaks_into_a_window():
    """Naive forecasts the value at the cutoff; a window that let the model see one more
    row would forecast the first actual instead (the series never repeats a value)."""
    df = _frame(lengths=(30,))
    df["y"] = np.arange(30.0) ** 1.5
    cv = Forecasts([Naive()]).cross_validation(df, h=2, n_windows=4, step_size=1)
    at_cutoff = df.set_index("ds").loc[cv["cutoff"], "y"].to_numpy()
    np.testing.assert_array_equal(cv["naive"], at_cutoff)
    assert not np.any(cv["naive"].to_numpy() == cv["y"].to_numpy())


def test_serial_and_process_backends_give_identical_frames():
    df = _frame(lengths=(40, 44, 48, 52))
    models = [AutoArimaForecaster(m=1), SeasonalNaive(12)]
    serial = Forecasts(models).cross_validation(df, h=3, n_windows=2, level=[80])
    process = Forecasts(models, backend="process", n_jobs=2, batch_size=1).cross_validation(
        df, h=3, n_windows=2, level=[80]
    )
    pd.testing.assert_frame_equal(serial, process)
    fitted = Forecasts([Naive()], backend="process", n_jobs=2).fit(df)  # models come back
    pd.testing.assert_frame_equal(fitted.predict(3), Forecasts([Naive()]).forecast(df, h=3))


def test_global_model_sees_all_series_and_refits_per_window():
    df = _frame(lengths=(20, 24))
    cv = Forecasts([GlobalMean(), Naive()]).cross_validation(df, h=2, n_windows=2)
    for cutoff_rank in (0, 1):
        seen = []
        for uid, part in cv.groupby("unique_id"):
            cutoff = part["cutoff"].unique()[cutoff_rank]
            rows = df[(df["unique_id"] == uid) & (df["ds"] <= cutoff)]
            seen.append(rows["y"].to_numpy())
        expected = np.mean(np.concatenate(seen))
        window = cv.groupby("unique_id")["cutoff"].transform(
            lambda c, r=cutoff_rank: c == c.unique()[r]
        )
        np.testing.assert_allclose(cv.loc[window, "gmean"], expected)


def test_global_recurrent_forecaster_in_the_frame():
    df = _frame(lengths=(40, 44, 48))
    model = GlobalRecurrentForecaster(
        "gru", lookback=6, horizon=2, hidden_size=4, epochs=1, valid_size=8
    )
    out = Forecasts({"gru": model}).forecast(df, h=2, level=[80])
    assert list(out.columns) == ["unique_id", "ds", "gru", "gru-lo-80", "gru-hi-80"]
    assert (out["gru-lo-80"] <= out["gru"]).all() and (out["gru"] <= out["gru-hi-80"]).all()


def test_regressors_with_future_values():
    df = _frame(lengths=(20, 25))
    df["x"] = np.random.default_rng(1).normal(size=len(df))
    df["y"] = 3.0 + 2.0 * df["x"]
    future = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": pd.date_range(last, periods=3, freq="MS")[1:]})
            for uid, last in df.groupby("unique_id")["ds"].max().items()
        ]
    )
    future["x"] = [1.0, 2.0, -1.0, 0.5]
    out = Forecasts([LinearOnX()]).forecast(df, h=2, X_df=future)
    np.testing.assert_allclose(out["linear"], 3.0 + 2.0 * future["x"].to_numpy())
    cv = Forecasts([LinearOnX()]).cross_validation(df, h=2, n_windows=2)
    np.testing.assert_allclose(cv["linear"], cv["y"])  # the window's own regressor rows
    with pytest.raises(ValueError, match=r"cannot use regressors"):
        Forecasts([Naive(), LinearOnX()]).forecast(df, h=2, X_df=future)
    with pytest.raises(ValueError, match="pass X_df"):
        Forecasts([LinearOnX()]).forecast(df, h=2)
    with pytest.raises(ValueError, match="series 's1': future regressors are missing for ds"):
        Forecasts([LinearOnX()]).forecast(df, h=2, X_df=future.iloc[:3])


# ------------------------------------------------------------------------ errors
def test_bad_frames_and_arguments():
    df = _frame(lengths=(20, 24))
    with pytest.raises(ValueError, match="Did you mean 95"):
        Forecasts([Naive()]).forecast(df, h=2, level=0.95)
    mixed = pd.concat(
        [_frame(lengths=(20,)), _frame(lengths=(20,), freq="D").assign(unique_id="d")]
    )
    with pytest.raises(ValueError, match="ambiguous: pass freq="):
        Forecasts([Naive()]).forecast(mixed, h=2)
    irregular = df.drop(index=[5, 9, 11])
    with pytest.raises(ValueError, match=r"series 's0'.* does not follow"):
        Forecasts([Naive()], freq="MS").forecast(irregular, h=2)
    with pytest.raises(ValueError, match="cannot infer the frequency"):
        Forecasts([Naive()]).forecast(df.drop(index=[5, 9, 11, 25, 27, 30]), h=2)
    with pytest.raises(ValueError, match="has 20 rows"):
        Forecasts([Naive()]).cross_validation(df, h=5, n_windows=4, step_size=5)
    with pytest.raises(ValueError, match="lacks the column"):
        Forecasts([Naive()]).forecast(df.rename(columns={"y": "value"}), h=2)
    with pytest.raises(ValueError, match="backend must be"):
        Forecasts([Naive()], backend="threads").forecast(df, h=2)
    with pytest.raises(TypeError, match="pass an instance"):
        Forecasts([Naive]).forecast(df, h=2)
    with pytest.raises(ValueError, match="gave no 80% interval"):
        Forecasts([GlobalMean()]).forecast(df, h=2, level=[80])
    with pytest.raises(ValueError, match="not fitted yet"):
        Forecasts([Naive()]).predict(2)


# ------------------------------------------------------- cross-series conformal
def test_cross_series_conformal_intervals_by_hand():
    df = pd.DataFrame(
        {
            "unique_id": ["a"] * 5 + ["b"] * 5,
            "ds": list(range(5)) * 2,
            "y": [0.0, 1.0, 2.0, 3.0, 5.0, 0.0, 2.0, 0.0, 2.0, 0.0],
        }
    )
    out = Forecasts([Naive()], conformal_windows=1).forecast(df, h=1, level=[50])
    # Calibration window: fit on 4 rows, forecast row 4. a: |5 - 3| / scale(0,1,2,3) = 2 / 1;
    # b: |0 - 2| / scale(0,2,0,2) = 2 / 2. Scores {2, 1}: rank ceil(3 * .5) = 2 -> q = 2.
    # Half-widths: q * scale of all 5 rows: a: 2 * 5/4, b: 2 * 2.
    np.testing.assert_allclose(out["naive-hi-50"] - out["naive"], [2.5, 4.0])
    np.testing.assert_allclose(out["naive"] - out["naive-lo-50"], [2.5, 4.0])
    with pytest.raises(ValueError, match=r"at least 4 .*Raise conformal_windows"):
        Forecasts([Naive()], conformal_windows=1).forecast(df, h=1, level=[80])
    with pytest.raises(ValueError, match="use forecast"):
        Forecasts([Naive()], conformal_windows=1).fit(df).predict(1, level=[80])


def test_cross_series_conformal_coverage_on_random_walks():
    """1000 independent Gaussian random walks, Naive, one calibration window each: the
    scores are exchangeable across series, so P(cover) is at least L % and below
    L % + 1/1001; the mean of 1000 independent hits has standard deviation at most
    sqrt(.16 / 1000) = 1.3 points at 80 %; 3.5 of them is the tolerance."""
    rng = np.random.default_rng(5)
    walks = np.cumsum(rng.normal(size=(1000, 31)), axis=1)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(1000), 30),
            "ds": np.tile(np.arange(30), 1000),
            "y": walks[:, :30].reshape(-1),
        }
    )
    out = Forecasts([Naive()], conformal_windows=1).forecast(df, h=1, level=[80, 95])
    actual = walks[:, 30]
    for level, tolerance in ((80, 4.4), (95, 2.4)):
        inside = (out[f"naive-lo-{level}"] <= actual) & (actual <= out[f"naive-hi-{level}"])
        assert abs(100 * inside.mean() - level) <= tolerance


# ---------------------------------------------------------------------- evaluate
def test_evaluate_against_hand_computed_scores():
    train = pd.DataFrame(
        {"unique_id": "a", "ds": [1, 2, 3, 4, 5, 6], "y": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]}
    )
    cv = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": [4, 5, 5, 6],
            "cutoff": [3, 3, 4, 4],
            "y": [5.0, 4.0, 4.0, 6.0],
            "m": [4.0, 6.0, 5.0, 6.0],
            "m-lo-80": [3.0, 5.0, 4.5, 5.0],
            "m-hi-80": [6.0, 7.0, 5.5, 7.0],
        }
    )
    table = evaluate(cv, train_df=train, season_length=1).set_index("metric")["m"]
    errors = np.array([1.0, 2.0, 1.0, 0.0])
    assert table["mae"] == pytest.approx(1.0)
    assert table["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    smape = 200 * np.mean([1 / 9, 2 / 10, 1 / 9, 0 / 12])
    assert table["smape"] == pytest.approx(smape)
    # cutoff 3: rows y1..y3 = 1, 3, 2: scale mean(|2|, |-1|) = 1.5, window MAE 1.5 -> 1.0
    # cutoff 4: rows 1, 3, 2, 5: scale (2 + 1 + 3) / 3 = 2, window MAE 0.5 -> 0.25
    assert table["mase"] == pytest.approx((1.0 + 0.25) / 2)
    assert table["coverage-80"] == pytest.approx(50.0)  # 5 in [3,6]; 4 out of [5,7]; ...
    assert table["width-80"] == pytest.approx(np.mean([3.0, 2.0, 1.0, 2.0]))
    mean = evaluate(cv, ["mae"], agg="mean")
    assert list(mean.columns) == ["metric", "m"] and mean["m"].iloc[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="needs train_df"):
        evaluate(cv, ["mase"])
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate(cv, ["mape2"])


def test_evaluate_a_real_cross_validation():
    df = _frame()
    cv = Forecasts([Naive(), SeasonalNaive(12)]).cross_validation(
        df, h=3, n_windows=2, level=[80, 95]
    )
    table = evaluate(cv, train_df=df, season_length=12)
    assert set(table["metric"]) == {
        "mae", "rmse", "smape", "mase", "coverage-80", "coverage-95", "width-80", "width-95",
    }  # fmt: skip
    assert len(table) == 3 * 8
    part = cv[cv["unique_id"] == "s2"]
    row = table[(table["unique_id"] == "s2") & (table["metric"] == "mae")]
    assert row["naive"].iloc[0] == pytest.approx(np.mean(np.abs(part["y"] - part["naive"])))


def test_progress_bar_of_series_on_stderr_unless_turned_off(capsys, monkeypatch):

    import seqlab._progress as module
    from seqlab.forecast import Forecasts, Naive

    monkeypatch.setattr(module, "PROGRESS_DELAY_S", 0.0)  # drawn at once in a quick test
    ds = pd.date_range("2020-01-01", periods=30, freq="D")
    df = pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(30.0) + k})
        for k, uid in enumerate("abc")
    )
    Forecasts([Naive()], freq="D").forecast(df, h=2)
    assert "series" in capsys.readouterr().err
    Forecasts([Naive()], freq="D", progress=False).forecast(df, h=2)
    assert capsys.readouterr().err == ""

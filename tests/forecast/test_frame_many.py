"""``fit_many`` is the auto ARIMA case of ``Forecasts``: the same forecasts at the same dates.

Both run through ``seqlab.ts._longframe`` (frame checks, calendar, jobs, backends); these
tests hold the two front doors together on real M3 series and on synthetic ones with
every kind of stamp (dates, Periods, integers), and check that a bad series gets the
same message under both policies (an error row in ``fit_many``, a raise in
``Forecasts``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.forecast import AutoArimaForecaster, Forecasts
from seqlab.ts import auto_arima, fit_many

LEVELS = (80, 95)


def _assert_agree(df: pd.DataFrame, h: int, m: int, **options) -> pd.DataFrame:
    """fit_many and Forecasts([AutoArimaForecaster]) on ``df``: identical ids, dates,
    means and bounds (bit for bit: the same fits through the same path)."""
    many = fit_many(df, h, m, level=LEVELS, progress=False, **options)
    assert many.errors.empty, many.errors
    front = Forecasts([AutoArimaForecaster(m=m, **options)], progress=False).forecast(
        df, h=h, level=list(LEVELS)
    )
    fc = many.forecasts
    assert len(fc) == len(front) == h * df["unique_id"].nunique()
    assert list(fc["unique_id"]) == list(front["unique_id"])
    pd.testing.assert_series_equal(fc["ds"], front["ds"])
    np.testing.assert_array_equal(fc["mean"], front["auto_arima"])
    for lv in LEVELS:
        np.testing.assert_array_equal(fc[f"lower_{lv}"], front[f"auto_arima-lo-{lv}"])
        np.testing.assert_array_equal(fc[f"upper_{lv}"], front[f"auto_arima-hi-{lv}"])
    return fc


# ------------------------------------------------------------------ real series
@pytest.fixture(scope="module")
def m3(shared_data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three M3 monthly series on monthly dates and three yearly ones on integer stamps
    (the training parts)."""
    meta = pd.read_csv(shared_data / "m3" / "m3_meta.csv")
    frame = pd.read_csv(shared_data / "m3" / "m3_series.csv")
    frame = frame[frame["split"] == "train"]
    monthly_ids = list(meta.loc[meta["period"] == "MONTHLY", "unique_id"].iloc[:3])
    yearly_ids = list(meta.loc[meta["period"] == "YEARLY", "unique_id"].iloc[:3])
    monthly = frame[frame["unique_id"].isin(monthly_ids)].sort_values(["unique_id", "t"])
    months = pd.period_range("1990-01", periods=int(monthly["t"].max()), freq="M")
    monthly = pd.DataFrame(
        {
            "unique_id": monthly["unique_id"].to_numpy(),
            "ds": months.to_timestamp()[monthly["t"].to_numpy() - 1],
            "y": monthly["y"].to_numpy(),
        }
    )
    yearly = frame[frame["unique_id"].isin(yearly_ids)].rename(columns={"t": "ds"})
    return monthly, yearly[["unique_id", "ds", "y"]]


def test_m3_monthly_dates_agree(m3):
    monthly, _ = m3
    fc = _assert_agree(monthly, h=18, m=12)
    for uid, part in monthly.groupby("unique_id"):
        last = part["ds"].max()
        got = fc.loc[fc["unique_id"] == uid, "ds"]
        assert list(got) == list(pd.date_range(last, periods=19, freq="MS")[1:])
        alone = auto_arima(part["y"].to_numpy(), 12).forecast(18, level=LEVELS)
        np.testing.assert_array_equal(fc.loc[fc["unique_id"] == uid, "mean"], alone.mean)


def test_m3_yearly_integer_stamps_agree(m3):
    _, yearly = m3
    fc = _assert_agree(yearly, h=6, m=1)
    for uid, part in yearly.groupby("unique_id"):
        n = part["ds"].max()
        assert list(fc.loc[fc["unique_id"] == uid, "ds"]) == list(range(n + 1, n + 7))


def test_m3_process_backends_agree(m3):
    monthly, _ = m3
    many = fit_many(monthly, 6, 12, backend="process", n_jobs=2, batch_size=1, progress=False)
    front = Forecasts(
        [AutoArimaForecaster(m=12)], backend="process", n_jobs=2, batch_size=1, progress=False
    ).forecast(monthly, h=6, level=[80, 95])
    np.testing.assert_array_equal(many.forecasts["mean"], front["auto_arima"])
    pd.testing.assert_series_equal(many.forecasts["ds"], front["ds"])


# ------------------------------------------------------------- synthetic series
def _synthetic(stamps) -> pd.DataFrame:
    """Three seasonal series of different lengths with the given stamp maker."""
    rng = np.random.default_rng(14)
    parts = []
    for k, n in enumerate((40, 47, 52)):
        t = np.arange(n)
        y = 20 + 3 * k + 2 * np.sin(2 * np.pi * t / 4) + 0.1 * t + rng.normal(scale=0.4, size=n)
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": stamps(n), "y": y}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    ("kind", "stamps", "after"),
    [
        ("dates", lambda n: pd.date_range("2001-01-01", periods=n, freq="QS"), "QS"),
        ("periods", lambda n: pd.period_range("2001Q1", periods=n, freq="Q"), "Q"),
        ("integers", lambda n: 100 + 5 * np.arange(n), 5),
        (
            "text",
            lambda n: pd.date_range("2001-01-01", periods=n, freq="QS").strftime("%Y-%m-%d"),
            "QS",
        ),
    ],
)
def test_synthetic_series_agree_on_every_kind_of_stamp(kind, stamps, after):
    df = _synthetic(stamps)
    fc = _assert_agree(df, h=5, m=4, max_p=2, max_q=2)
    last = df.loc[df["unique_id"] == "s2", "ds"].iloc[-1]
    got = list(fc.loc[fc["unique_id"] == "s2", "ds"])
    if kind == "integers":
        assert got == [last + after * j for j in range(1, 6)]
    elif kind == "periods":
        assert got == list(pd.period_range(last, periods=6, freq=after)[1:])
    else:
        assert got == list(pd.date_range(pd.Timestamp(last), periods=6, freq=after)[1:])


def test_a_bad_series_has_the_same_message_under_both_policies():
    df = _synthetic(lambda n: np.arange(n))
    alone = Forecasts([AutoArimaForecaster(m=4, max_p=1, max_q=1)], progress=False).forecast(
        df, h=3
    )
    dup = pd.DataFrame({"unique_id": "dup", "ds": [0, 1, 1, 2, 3, 4], "y": np.arange(6.0)})
    gap = pd.DataFrame({"unique_id": "gap", "ds": [0, 1, 2, 4, 5, 6], "y": np.arange(6.0)})
    for bad, expected in ((dup, "duplicate ds 1"), (gap, "gap in ds after 2: next is 4")):
        uid = bad["unique_id"].iloc[0]
        frame = pd.concat([df, bad], ignore_index=True)
        many = fit_many(frame, 3, 4, max_p=1, max_q=1, progress=False)
        message = many.errors.set_index("unique_id").loc[uid, "error"]
        assert message.startswith(expected)
        with pytest.raises(ValueError) as raised:
            Forecasts([AutoArimaForecaster(m=4)], progress=False).forecast(frame, h=3)
        assert str(raised.value) == f"series {uid!r}: {message}"
        # fit_many forecasts the good series all the same, as without the bad one
        np.testing.assert_array_equal(many.forecasts["mean"], alone["auto_arima"])


def test_a_first_stamp_off_the_frequency_is_named():
    df = _synthetic(lambda n: pd.date_range("2001-01-01", periods=n, freq="MS"))
    off = pd.DataFrame(
        {
            "unique_id": "off",
            "ds": pd.to_datetime(["2001-01-15", "2001-02-01", "2001-03-01", "2001-04-01"]),
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    frame = pd.concat([df, off], ignore_index=True)
    many = fit_many(frame, 2, freq="MS", max_p=1, max_q=1, progress=False)
    assert list(many.errors["unique_id"]) == ["off"]
    assert many.errors["error"].iloc[0].startswith("ds 2001-01-15 00:00:00 is not a stamp of")
    with pytest.raises(ValueError, match="series 'off': ds 2001-01-15 00:00:00 is not a stamp"):
        Forecasts([AutoArimaForecaster()], freq="MS", progress=False).forecast(frame, h=2)

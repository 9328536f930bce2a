"""seqlab against R's forecast package, from committed fixtures.

Every expected number here was produced by ``tests/reference/r/forecast_reference.R``
(``make r-reference``; R and package versions in ``tests/reference/fixtures/r_versions.csv``)
on the bundled series and on the first ten M3 series of each period. The tests read the
CSV fixtures and need no R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqlab.datasets import airline, nile
from seqlab.ts import auto_arima, boxcox_lambda, ndiffs, nsdiffs

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
BUNDLED = ("airline", "airline_log", "nile")

# M3 series where R's stepwise search ends on another model than ours. Both searches are
# local: on these the criterion surfaces differ slightly (R's diffuse prior is scaled by
# sigma2, ours is absolute; R's optimiser stops at other points), and a different first
# step leads each search to a different local optimum. Any series that newly disagrees,
# or one of these that starts to agree, fails the test so the list stays true.
KNOWN_ORDER_DIFFERENCES = {"N0003", "N0653", "N1406", "N2830", "N2831"}


def _fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name)


def _bundled(series_id: str) -> np.ndarray:
    if series_id == "nile":
        return nile().to_numpy(float)
    y = airline().to_numpy(float)
    return np.log(y) if series_id == "airline_log" else y


@pytest.fixture(scope="module")
def m3_train(shared_data) -> dict[str, np.ndarray]:
    ids = set(_fixture("auto_arima_orders.csv")["series"]) - set(BUNDLED)
    frame = pd.read_csv(shared_data / "m3" / "m3_series.csv")
    frame = frame[frame["unique_id"].isin(ids) & (frame["split"] == "train")]
    return {uid: g.sort_values("t")["y"].to_numpy(float) for uid, g in frame.groupby("unique_id")}


def _series(series_id: str, m3: dict[str, np.ndarray] | None) -> np.ndarray:
    return _bundled(series_id) if series_id in BUNDLED else m3[series_id]


def _r_model(row) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    return (int(row.p), int(row.d), int(row.q)), (int(row.P), int(row.D), int(row.Q))


def _our_model(y: np.ndarray, m: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    result = auto_arima(y, m=m) if m > 1 else auto_arima(y)
    return tuple(result.order), tuple(result.seasonal_order[:3])


def test_fixtures_record_the_r_versions():
    versions = dict(_fixture("r_versions.csv").itertuples(index=False))
    assert versions["forecast"] == "8.20"
    assert versions["R"].startswith("4.")


@pytest.mark.parametrize("series_id", BUNDLED)
def test_auto_arima_orders_and_forecasts_match_r_on_bundled_series(series_id):
    row = next(_fixture("auto_arima_orders.csv").query("series == @series_id").itertuples())
    y = _bundled(series_id)
    result = auto_arima(y, m=int(row.m)) if row.m > 1 else auto_arima(y)
    assert (tuple(result.order), tuple(result.seasonal_order[:3])) == _r_model(row)
    ref = _fixture("auto_arima_forecasts.csv").query("series == @series_id")
    ours = result.forecast(len(ref), level=(80, 95)).to_frame()
    # Same model, coefficients from two optimisers that stop at slightly different points
    # (R also scales its diffuse prior by sigma2): point forecasts and interval bounds agree
    # to a twentieth of R's forecast standard error, far below what separates two models.
    r_se = (ref["hi95"] - ref["lo95"]).to_numpy(float) / (2 * 1.959963984540054)
    names = {"mean": "mean", "lower_80": "lo80", "upper_80": "hi80"}
    names |= {"lower_95": "lo95", "upper_95": "hi95"}
    for ours_column, r_column in names.items():
        gap = np.abs(ours[ours_column].to_numpy(float) - ref[r_column].to_numpy(float))
        assert np.all(gap <= 0.05 * r_se), (ours_column, float(np.max(gap / r_se)))


def test_auto_arima_orders_match_r_on_m3(m3_train):
    orders = _fixture("auto_arima_orders.csv")
    differ = set()
    for row in orders.itertuples():
        if row.series in BUNDLED:
            continue
        if _our_model(m3_train[row.series], int(row.m)) != _r_model(row):
            differ.add(row.series)
    assert differ == KNOWN_ORDER_DIFFERENCES


@pytest.mark.parametrize("part", ["bundled", "m3"])
def test_guerrero_lambda_matches_r(part, request):
    lambdas = _fixture("boxcox_lambda.csv")
    m3 = request.getfixturevalue("m3_train") if part == "m3" else None
    rows = [r for r in lambdas.itertuples() if (r.series in BUNDLED) == (part == "bundled")]
    assert rows
    for row in rows:
        # Brent's method at R optimize's tolerance takes the same iterates, so the two
        # agree far inside the 1e-4 at which R's optimize stops.
        ours = boxcox_lambda(_series(row.series, m3), m=int(row.m))
        assert ours == pytest.approx(row.guerrero, abs=1e-8), row.series


@pytest.mark.parametrize("part", ["bundled", "m3"])
def test_ndiffs_and_nsdiffs_match_r(part, request):
    table = _fixture("ndiffs.csv")
    m3 = request.getfixturevalue("m3_train") if part == "m3" else None
    rows = [r for r in table.itertuples() if (r.series in BUNDLED) == (part == "bundled")]
    assert rows
    for row in rows:
        y = _series(row.series, m3)
        assert ndiffs(y) == row.ndiffs_kpss, row.series
        if not np.isnan(row.nsdiffs_seas):
            m = int(row.m)
            assert nsdiffs(y, m) == row.nsdiffs_seas, row.series
            assert nsdiffs(y, m, test="ocsb") == row.nsdiffs_ocsb, row.series

"""Foundation: input validation, crash-safe writes, reading series from CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab._validation import as_float_series, check_int
from seqlab.datasets import airline, nile
from seqlab.io import atomic_write, read_json, read_series_csv, write_json


def test_bundled_series_match_their_published_totals():
    # Box & Jenkins series G sums to 40363; R's Nile has 100 values averaging 919.35.
    assert airline().sum() == 40363 and len(airline()) == 144
    assert len(nile()) == 100 and nile().mean() == pytest.approx(919.35)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "empty"),
        ([np.nan, np.nan], "all NaN"),
        ([1.0, np.inf], "inf at position 1"),
        (np.ones((3, 2)), "must be 1-D"),
        (["1", "x"], "position 1"),
        ([1.0, np.nan, 2.0], "NaN"),
    ],
)
def test_as_float_series_rejects_bad_input(value, message):
    with pytest.raises(ValueError, match=message):
        as_float_series(value)


def test_as_float_series_accepts_list_array_series():
    for y in ([1, 2, 3], np.array([1.0, 2.0, 3.0]), pd.Series([1, 2, 3])):
        np.testing.assert_array_equal(as_float_series(y), [1.0, 2.0, 3.0])
    assert np.isnan(as_float_series([1, np.nan], allow_nan=True)[1])


def test_check_int():
    assert check_int(3, "p", minimum=0) == 3
    with pytest.raises(TypeError):
        check_int(1.5, "p")
    with pytest.raises(ValueError, match="p must be >= 0"):
        check_int(-1, "p", minimum=0)


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "a.json"
    write_json(target, {"x": 1})
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("{half")
        raise RuntimeError("crash mid-write")
    assert read_json(target) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_read_series_csv_dates_values_and_errors(tmp_path):
    good = tmp_path / "s.csv"
    good.write_text("date,x,y\n2020-01-01,1,10\n2020-02-01,2,11\n2020-03-01,3,12\n")
    s = read_series_csv(good)
    assert s.name == "y" and isinstance(s.index, pd.DatetimeIndex)
    assert list(read_series_csv(good, value="x")) == [1, 2, 3]
    assert list(read_series_csv(good, value=1)) == [1, 2, 3]

    one = tmp_path / "one.txt"
    one.write_text("1.5\n2.5\n3.5\n")
    assert list(read_series_csv(one)) == [1.5, 2.5, 3.5]

    bad = tmp_path / "bad.csv"
    bad.write_text("date,y\n2020-01-01,1\n2020-02-01,oops\n")
    with pytest.raises(ValueError, match=r"bad.csv: column 'y', line 3: 'oops'"):
        read_series_csv(bad)
    with pytest.raises(ValueError, match="no column named 'z'"):
        read_series_csv(good, value="z")
    with pytest.raises(ValueError, match="no such file"):
        read_series_csv(tmp_path / "missing.csv")

"""Reading a forecasting frame from CSV, with errors that name the column and line."""

from __future__ import annotations

import pytest

from seqlab.forecast.data import load_frame, split_frame

CSV = "Date,Open,Close,Note\n2020-01-01,1.0,2.0,a\n2020-01-02,1.5,2.5,b\n2020-01-03,2.0,3.0,c\n"


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(CSV)
    return path


def test_target_first_then_features_with_date_index(csv):
    frame = load_frame(csv, "Close", ["Open"])
    assert list(frame.columns) == ["Close", "Open"]
    assert str(frame.index[0].date()) == "2020-01-01"
    y, X = split_frame(frame)
    assert y.name == "Close" and list(X.columns) == ["Open"]
    # "all" takes every other numeric column and skips text and the date.
    assert list(load_frame(csv, "Close", "all").columns) == ["Close", "Open"]


def test_missing_target_names_it_and_lists_columns(csv):
    with pytest.raises(ValueError, match=r"no target column named 'Price'.*'Open', 'Close'"):
        load_frame(csv, "Price")
    with pytest.raises(ValueError, match="no feature column named 'High'"):
        load_frame(csv, "Close", ["High"])


def test_non_numeric_target_names_column_and_line(csv):
    with pytest.raises(ValueError, match=r"target column 'Note' must be numeric; line 2 holds 'a'"):
        load_frame(csv, "Note")
    bad = csv.parent / "bad.csv"
    bad.write_text(CSV.replace("2.5,b", "n/a?,b"))
    with pytest.raises(ValueError, match=r"'Close' must be numeric; line 3 holds 'n/a\?'"):
        load_frame(bad, "Close")


def test_sbux(shared_data):
    frame = load_frame(
        shared_data / "stocks" / "SBUX.csv", "Close", ["Open", "High", "Low", "Volume"]
    )
    assert frame.shape == (253, 5)
    assert frame.index.name == "Date"

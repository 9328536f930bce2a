"""Windows and time splits: contents, alignment, no crossing of the split, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.forecast.windows import make_windows, time_split


def test_window_contents_and_alignment():
    y = np.arange(10.0)
    w = make_windows(y, lookback=3, horizon=2)
    assert w.inputs.shape == (6, 3, 1) and w.targets.shape == (6, 2)
    np.testing.assert_array_equal(w.inputs[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(w.targets[0], [3, 4])
    # The last window ends at the last observation.
    np.testing.assert_array_equal(w.targets[-1], [8, 9])
    np.testing.assert_array_equal(w.target_starts, np.arange(3, 9))


def test_stride_keeps_the_newest_window():
    w = make_windows(np.arange(10.0), lookback=3, horizon=2, stride=4)
    np.testing.assert_array_equal(w.starts, [1, 5])
    np.testing.assert_array_equal(w.targets[-1], [8, 9])


def test_multivariate_target_column():
    x = np.column_stack([np.arange(8.0), 100 + np.arange(8.0)])
    w = make_windows(x, lookback=2, horizon=1, target_column=1)
    assert w.inputs.shape == (6, 2, 2)
    np.testing.assert_array_equal(w.targets[:, 0], 102 + np.arange(6.0))


def test_windows_over_training_part_never_cross_the_split():
    y = np.arange(100.0)
    split = time_split(y, test=0.2, valid=0.1)
    assert (split.valid_start, split.test_start) == (70, 80)
    w = make_windows(y[split.train], lookback=5, horizon=3)
    assert w.targets.max() < split.valid_start


def test_split_by_date_and_rows():
    index = pd.date_range("2020-01-01", periods=10, freq="D")
    s = pd.Series(np.arange(10.0), index=index)
    split = time_split(s, test="2020-01-09")
    assert split.test_start == 8
    assert time_split(s, test=3, valid=2).valid_start == 5
    with pytest.raises(TypeError, match="DatetimeIndex"):
        time_split(np.arange(10.0), test="2020-01-09")
    with pytest.raises(ValueError, match="no training rows"):
        time_split(s, test=0.5, valid=5)


def test_too_short_names_both_lengths():
    with pytest.raises(ValueError, match=r"lookback \+ horizon = 5 \+ 3 = 8 .* got 6"):
        make_windows(np.arange(6.0), lookback=5, horizon=3)


def test_nan_inside_window_names_column_and_row():
    x = np.column_stack([np.arange(10.0), np.arange(10.0)])
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN in 'Volume' at row 4"):
        make_windows(x, 3, 1, columns=["Close", "Volume"])

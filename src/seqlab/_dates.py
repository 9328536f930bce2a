"""The dates that follow a series: one rule for every forecaster and result.

A series indexed by dates (:class:`pandas.DatetimeIndex`) or periods
(:class:`pandas.PeriodIndex`) is forecast at the dates that follow its last one, one
step of its frequency apart. The frequency is ``freq`` when given (any pandas offset or
alias, e.g. ``'B'`` for business days, ``'MS'`` for month starts, or a
:class:`pandas.offsets.CustomBusinessDay` with the exchange's holidays), else the
index's own, else the one pandas infers from three or more dates. Dates whose
frequency cannot be inferred (trading days with holidays, gaps, fewer than three dates)
are an error that asks for ``freq``: a dated series is never forecast at integer steps.
Integer indexes continue by their last step; other indexes by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["check_freq", "date_offset", "future_index"]

#: What to pass when the frequency cannot be inferred (appended to the error).
FREQ_HINT = (
    "pass freq= (e.g. freq='B' for business days, 'D', 'W', 'MS', or a pandas "
    "CustomBusinessDay with the holidays)"
)


def check_freq(freq: Any) -> pd.offsets.BaseOffset | None:
    """``freq`` (a pandas alias or offset) as a pandas offset; None stays None.

    Raises
    ------
    TypeError
        ``freq`` is neither a string nor a pandas offset.
    ValueError
        ``freq`` is a string pandas does not know as a frequency.
    """
    if freq is None:
        return None
    if isinstance(freq, pd.offsets.BaseOffset):
        return freq
    if not isinstance(freq, str):
        raise TypeError(
            f"freq must be a pandas frequency string (e.g. 'B', 'D', 'MS') or offset, "
            f"got {type(freq).__name__} {freq!r}."
        )
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency (e.g. 'B', 'D', 'W', 'MS', 'QS', 'YS')."
        ) from None


def date_offset(index: pd.Index, freq: Any = None, hint: str = FREQ_HINT) -> Any:
    """The step between the dates of ``index``, or None for an index of no dates.

    ``freq`` wins when given; then the index's own frequency; then the one pandas infers
    (three or more unique dates). ``hint`` ends the error and says how to give a
    frequency in the caller's terms.

    Raises
    ------
    ValueError
        ``index`` holds dates whose frequency cannot be inferred and no ``freq`` was
        given; ``freq`` is given for periods of another frequency, or for an index that
        holds no dates.
    """
    offset = check_freq(freq)
    if isinstance(index, pd.PeriodIndex):
        if offset is not None and offset != index.freq:
            raise ValueError(
                f"freq={freq!r} disagrees with the periods' own frequency "
                f"{index.freq.freqstr!r}; leave freq out for a PeriodIndex."
            )
        return index.freq
    if not isinstance(index, pd.DatetimeIndex):
        if offset is not None:
            raise ValueError(
                f"freq={freq!r} is only for a series indexed by dates; this one's index "
                f"holds {index.dtype} values."
            )
        return None
    if offset is not None:
        return offset
    if index.freq is not None:
        return index.freq
    if len(index) >= 3 and index.is_unique:
        # freq="infer" gives the offset itself (pandas warns on infer_freq's string).
        inferred = pd.DatetimeIndex(index.sort_values(), freq="infer").freq
        if inferred is not None:
            return inferred
    if len(index) < 3:
        why = f"{len(index)} date(s), fewer than the 3 needed to infer it"
    elif not index.is_unique:
        why = "the dates repeat"
    else:
        why = (
            f"{len(index)} dates from {index.min():%Y-%m-%d} to {index.max():%Y-%m-%d} "
            "are not evenly spaced (e.g. trading days with holidays)"
        )
    raise ValueError(f"cannot infer the frequency of the dates: {why}; {hint}.")


def future_index(
    index: pd.Index | None, h: int, freq: Any = None, hint: str = FREQ_HINT
) -> pd.Index | None:
    """The ``h`` index labels after the last one of ``index`` (None for None).

    Dates and periods continue by :func:`date_offset` (same ``freq`` and ``hint``), with
    the index's name and time zone; integers by their last step; any other index by
    position (``len(index)``, ``len(index) + 1``, ...).

    Raises
    ------
    ValueError
        As :func:`date_offset`.
    """
    if index is None:
        return None
    offset = date_offset(index, freq, hint)
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=h, freq=offset, name=index.name)
    if isinstance(index, pd.DatetimeIndex):
        last = index.max()
        return pd.date_range(last + offset, periods=h, freq=offset, name=index.name)
    if isinstance(index, pd.RangeIndex):
        return pd.RangeIndex(index.stop, index.stop + h * index.step, index.step)
    if pd.api.types.is_integer_dtype(index) and len(index) >= 2:
        step = int(index[-1] - index[-2]) or 1
        return pd.Index(index[-1] + step * np.arange(1, h + 1))
    return pd.RangeIndex(len(index), len(index) + h)

"""Input checks shared by every sub-package: series (finite, magnitude, order of the
dates), sizes (horizon, seasonal period), interval levels, and the dates that follow a series.

Errors follow one rule: TypeError for a wrong type, ValueError for a bad value, and the
message says what was expected, what was received, and what to do next.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Largest magnitude a series value may have. Variances are squares of the values, and
#: float64 overflows past about 1.8e308, so a variance of values beyond ~1e154 is inf.
MAX_ABS_VALUE = 1e150
#: Smallest nonzero spread (max - min) a series may have; below it the variances
#: underflow to zero (float64's smallest normal number is about 2.2e-308).
MIN_SPREAD = 1e-150
#: Largest forecast horizon (steps) any forecaster or simulation accepts.
MAX_HORIZON = 100_000
#: Largest seasonal period ``m``; a seasonal ARIMA carries about ``m * (P + D)`` states.
MAX_PERIOD = 1_000


def as_float_series(
    y: Any, name: str = "y", *, allow_nan: bool = False, check_magnitude: bool = True
) -> np.ndarray:
    """Return ``y`` as a 1-D float64 array, or raise a clear error.

    Accepts lists, tuples, numpy arrays, pandas Series and single-column DataFrames.
    Rejects: non-numeric values, 2-D data with more than one column, empty input, inf,
    and NaN unless ``allow_nan`` (then an all-NaN input is still rejected). With
    ``check_magnitude`` (the default) also rejects what :func:`check_magnitude` rejects.
    The order is taken as given: pass pandas input through :func:`ordered_series` first
    to sort it by date.

    Raises
    ------
    TypeError
        ``y`` is a string, None or complex.
    ValueError
        Any other rejected input; the message names the first offending position.
    """
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {type(y).__name__}.")
    if hasattr(y, "to_numpy"):
        values = y.to_numpy()
    else:
        values = np.asarray(y)
    if values.ndim == 2 and 1 in values.shape and values.size > 0:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got an array of shape {values.shape}. "
            "Pass one series at a time (e.g. df['col'] or array[:, 0])."
        )
    if values.dtype == object or not np.issubdtype(values.dtype, np.number):
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            bad = _first_non_numeric(values)
            raise ValueError(
                f"{name} must be numeric; position {bad[0]} holds {bad[1]!r}."
            ) from None
    if np.iscomplexobj(values):
        raise TypeError(f"{name} must be real-valued, got complex numbers.")
    values = values.astype(np.float64, copy=True)
    if values.size == 0:
        raise ValueError(f"{name} is empty; it needs at least one observation.")
    if np.isinf(values).any():
        pos = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(f"{name} contains inf at position {pos}; remove or replace it.")
    nan = np.isnan(values)
    if nan.all():
        raise ValueError(f"{name} is all NaN; there is nothing to fit.")
    if nan.any() and not allow_nan:
        pos = int(np.flatnonzero(nan)[0])
        raise ValueError(
            f"{name} contains NaN (first at position {pos}); this method cannot handle "
            "missing values. Fill or drop them first."
        )
    if check_magnitude:
        _check_magnitude(values[~nan], name)
    return values


def _check_magnitude(observed: np.ndarray, name: str) -> None:
    """``observed``: finite values. See :func:`check_magnitude`."""
    top = float(np.max(np.abs(observed)))
    if top > MAX_ABS_VALUE:
        pos = int(np.argmax(np.abs(observed)))
        raise ValueError(
            f"{name} holds {observed[pos]:.3g} (observed position {pos}); values beyond "
            f"+-{MAX_ABS_VALUE:.0e} are not supported because their variances overflow "
            "float64. Divide the series by a power of ten first and scale the results back."
        )
    spread = float(np.max(observed) - np.min(observed))
    if 0 < spread < MIN_SPREAD:
        raise ValueError(
            f"{name} varies by only {spread:.3g} (max - min); spreads below "
            f"{MIN_SPREAD:.0e} are not supported because their variances underflow "
            "float64. Multiply the deviations by a power of ten first and scale the results back."
        )


def check_magnitude(values: Any, name: str = "y") -> None:
    """Refuse a series whose variance cannot be represented in float64.

    The finite values of ``values`` must lie within ``+-MAX_ABS_VALUE`` and, unless the
    series is constant, spread over at least ``MIN_SPREAD``. Inside these bounds every
    estimator works on an internally rescaled series, so results do not depend on the
    units; outside them the reported variances would be inf or 0.

    Raises
    ------
    ValueError
        Naming the offending value (or the spread) and what to do.
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = array[np.isfinite(array)]
    if finite.size:
        _check_magnitude(finite, name)


def ordered_series(y: Any, name: str = "y") -> Any:
    """``y`` sorted by its dates, when it is pandas data indexed by dates or periods.

    A Series or DataFrame with a ``DatetimeIndex`` or ``PeriodIndex`` that is not in
    increasing order is sorted (stable), with a ``logging`` warning saying so; anything
    else (arrays, lists, other indexes) is returned unchanged, because its order is the
    only time order there is. A sorted index recovers its frequency when it is regular.

    Raises
    ------
    ValueError
        The index repeats a date: a series has one value per date. The message lists
        the repeated labels.
    """
    index = getattr(y, "index", None)
    if not isinstance(y, (pd.Series, pd.DataFrame)) or not isinstance(
        index, (pd.DatetimeIndex, pd.PeriodIndex)
    ):
        return y
    if index.hasnans:
        pos = int(np.flatnonzero(index.isna())[0])
        raise ValueError(f"{name}'s index has a missing date (NaT) at position {pos}.")
    if not index.is_unique:
        repeated = index[index.duplicated(keep=False)].unique()
        shown = ", ".join(str(label) for label in repeated[:5])
        more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
        raise ValueError(
            f"{name} has repeated dates in its index: {shown}{more}. A series needs one "
            "value per date; aggregate them first (e.g. y.groupby(level=0).mean())."
        )
    if index.is_monotonic_increasing:
        return y
    direction = "run backwards" if index.is_monotonic_decreasing else "are not in order"
    logger.warning("%s: its dates %s; sorted them into increasing order.", name, direction)
    out = y.sort_index(kind="stable")
    if isinstance(out.index, pd.DatetimeIndex) and len(out.index) >= 3:
        out.index = pd.DatetimeIndex(out.index, freq="infer")
    return out


def check_horizon(h: Any, name: str = "h") -> int:
    """``h`` as an int in ``1..MAX_HORIZON``.

    Raises
    ------
    TypeError
        ``h`` is not an integer.
    ValueError
        ``h`` is below 1 or above ``MAX_HORIZON``.
    """
    h = check_int(h, name, minimum=1)
    if h > MAX_HORIZON:
        raise ValueError(
            f"{name}={h} is too far ahead; the largest forecast horizon is {MAX_HORIZON:,}."
        )
    return h


def check_period(m: Any, name: str = "m") -> int:
    """A seasonal period as an int in ``1..MAX_PERIOD``.

    Raises
    ------
    TypeError
        ``m`` is not an integer.
    ValueError
        ``m`` is below 1 or above ``MAX_PERIOD``.
    """
    m = check_int(m, name, minimum=1)
    if m > MAX_PERIOD:
        raise ValueError(
            f"{name}={m} is too long a seasonal period; the largest supported is {MAX_PERIOD:,} "
            "(for longer cycles, use Fourier terms as regressors)."
        )
    return m


def check_levels(level: Any) -> tuple[float, ...]:
    """Prediction-interval levels in percent, each in ``[1, 100)``; None gives ``()``.

    Integral levels come back as ints (``95``, not ``95.0``), so they can key dicts and
    label columns as given.

    Raises
    ------
    TypeError
        A level is not a real number.
    ValueError
        A level is outside ``[1, 100)``; a fraction such as 0.95 is refused with the
        percentage it probably meant.
    """
    if level is None:
        return ()
    if isinstance(level, (numbers.Real, np.ndarray)) and np.ndim(level) == 0:
        levels = [level]
    elif isinstance(level, (Sequence, np.ndarray)) and not isinstance(level, (str, bytes)):
        levels = list(np.asarray(level, dtype=object).reshape(-1))
    else:
        raise TypeError(f"level must be a number or a sequence of numbers, got {level!r}.")
    out: list[float] = []
    for lv in levels:
        if isinstance(lv, bool) or not isinstance(lv, numbers.Real):
            raise TypeError(f"level must hold percentages such as 80 or 95, got {lv!r}.")
        value = float(lv)
        if 0 < value < 1:
            raise ValueError(
                f"level={value:g} means a {value:g}% interval; levels are percentages. "
                f"Did you mean {value * 100:g}?"
            )
        if not 1 <= value < 100:
            raise ValueError(
                f"level must be percentages in [1, 100), e.g. (80, 95); got {value:g}."
            )
        out.append(int(value) if value.is_integer() else value)
    return tuple(out)


def check_finite_estimates(values: Any, names: Sequence[str], what: str) -> None:
    """Refuse an estimation result with a non-finite value.

    Raises
    ------
    ValueError
        Naming the non-finite estimates; the series is probably extreme or degenerate.
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = [str(n) for n, v in zip(names, array, strict=True) if not np.isfinite(v)]
    if bad:
        raise ValueError(
            f"{what} produced non-finite estimates ({', '.join(bad)}); the series is too "
            "extreme or degenerate for this model. Try a lower order or rescale the series."
        )


def _first_non_numeric(values: np.ndarray) -> tuple[int, Any]:
    for i, v in enumerate(values):
        try:
            float(v)
        except (TypeError, ValueError):
            return i, v
    return -1, None


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, rejecting bools, floats and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return value


def check_choice(
    value: Any, name: str, choices: Sequence[Any], *, ignore_case: bool = False
) -> Any:
    """``value`` if it is one of ``choices``.

    With ``ignore_case`` the value must be a string and is compared, and returned, in
    lower case (``choices`` are then lower-case strings).

    Raises
    ------
    TypeError
        ``ignore_case`` is set and ``value`` is not a string.
    ValueError
        ``value`` is not one of ``choices``; the message lists them.
    """
    if ignore_case:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be one of {list(choices)}, got {value!r}.")
        key = value.lower()
    else:
        key = value
    if key not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}.")
    return key


def check_alpha(alpha: Any, *, allow_none: bool = False) -> float | None:
    """A significance level ``alpha`` as a float strictly between 0 and 1.

    With ``allow_none``, None is accepted and returned (no confidence band).

    Raises
    ------
    TypeError
        ``alpha`` is not a real number (bools are refused).
    ValueError
        ``alpha`` is not strictly between 0 and 1.
    """
    if alpha is None and allow_none:
        return None
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        what = "a number between 0 and 1" + (" or None" if allow_none else "")
        raise TypeError(f"alpha must be {what}, got {alpha!r}.")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}.")
    return float(alpha)


# ------------------------------------------------------------------ future dates
# One rule for every forecaster and result: a series indexed by dates
# (DatetimeIndex) or periods (PeriodIndex) is forecast at the dates that follow its
# last one, one step of its frequency apart: ``freq`` when given (any pandas offset or
# alias, e.g. 'B', 'MS', or a CustomBusinessDay with the exchange's holidays), else the
# index's own, else the one pandas infers from three or more dates. Dates whose
# frequency cannot be inferred are an error asking for ``freq``: a dated series is
# never forecast at integer steps.

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

    Dates and periods continue by :func:`date_offset` (same ``freq`` and ``hint``), in
    the index's time zone; integers by their last step; any other index by
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
        return pd.period_range(index.max() + 1, periods=h, freq=offset)
    if isinstance(index, pd.DatetimeIndex):
        last = index.max()
        return pd.date_range(last + offset, periods=h, freq=offset)
    if isinstance(index, pd.RangeIndex):
        return pd.RangeIndex(index.stop, index.stop + h * index.step, index.step)
    if pd.api.types.is_integer_dtype(index) and len(index) >= 2:
        step = int(index[-1] - index[-2]) or 1
        return pd.Index(index[-1] + step * np.arange(1, h + 1))
    return pd.RangeIndex(len(index), len(index) + h)

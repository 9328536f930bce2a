"""The one interface every forecaster follows, and the forecast it returns.

sklearn/darts style: ``__init__`` only stores hyperparameters; ``fit(y, X=None,
freq=None)`` validates and estimates, leaving fitted state in attributes ending in
``_``; ``predict(h)`` returns the point forecast for the ``h`` steps after the end of
the fitted series; ``forecast(h, level=(80, 95))`` returns a :class:`Forecast` with
prediction intervals where the model has them (an empty ``lower``/``upper``
otherwise). Models that can absorb new observations without re-estimating their
parameters also define ``update(y, X=None)``; the backtest uses it between refits.

Dates in, dates out: fitted on a pandas Series indexed by dates (``DatetimeIndex``) or
periods (``PeriodIndex``), ``predict(h)`` is a Series indexed by the ``h`` dates that
follow (:func:`seqlab._validation.future_index`) and the :class:`Forecast` carries
them as its ``index``. ``freq`` (a keyword of ``fit``, as statsmodels and darts take
the frequency with the data) gives the step where pandas cannot infer it, business
days included; dates with no inferable frequency and no ``freq`` are a ValueError at
``fit``, never integer steps. Anything else in (arrays, lists, other indexes) gives a
float ndarray out.

A subclass records the dates by reading ``y`` with :meth:`Forecaster._series` (or
:meth:`Forecaster._remember_dates`) in ``fit`` and ``update``, and returns
``self._dated(...)`` of its ndarray or :class:`Forecast` from ``predict`` and
``forecast``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from seqlab._validation import (
    as_float_series,
    check_horizon,
    check_levels,
    date_offset,
    future_index,
    ordered_series,
)
from seqlab.ts._exog import as_exog

__all__ = ["Forecast", "Forecaster", "check_features", "check_levels"]


@dataclass(frozen=True)
class Forecast:
    """Point forecast ``mean`` (h,), ``lower[level]`` / ``upper[level]`` bounds, and the
    ``index`` (h dates or periods) they forecast, None for a series fitted without dates.
    """

    mean: np.ndarray
    lower: dict[int, np.ndarray] = field(default_factory=dict)
    upper: dict[int, np.ndarray] = field(default_factory=dict)
    index: pd.Index | None = None

    def to_frame(self) -> pd.DataFrame:
        """Columns ``mean``, ``lower_80``, ``upper_80``, ... indexed by ``index`` (the
        forecast dates), or by ``step`` 1..h when there is none."""
        columns = {"mean": np.asarray(self.mean)}
        for level in sorted(self.lower):
            columns[f"lower_{level:g}"] = np.asarray(self.lower[level])
            columns[f"upper_{level:g}"] = np.asarray(self.upper[level])
        if self.index is not None:
            return pd.DataFrame(columns, index=self.index)
        return pd.DataFrame(columns, index=pd.RangeIndex(1, len(self.mean) + 1, name="step"))


def check_features(X, n: int, name: str = "X") -> np.ndarray | None:
    """``X`` as a (n, k) float array aligned with a series of length ``n``, or None.

    Parsed as regressors are everywhere (:func:`seqlab.ts._exog.as_exog`); NaN is allowed.

    Raises
    ------
    TypeError
        ``X`` is a string.
    ValueError
        ``X`` is not numeric, not 2-D, has no columns or not ``n`` rows.
    """
    if X is None:
        return None
    return as_exog(X, n, name, finite=False)[0]


@dataclass(frozen=True)
class _Dates:
    """Where a fitted series' dates end: its ``last`` label (a one-element index), the
    ``offset`` between dates, the ``freq`` given to ``fit`` (None if inferred) and the
    series' ``name``."""

    last: pd.Index
    offset: object
    freq: object
    name: object


class Forecaster:
    """Base class: validation helpers, the dates of the fitted series, and the default
    interval-free ``forecast``."""

    #: Short label for tables and plots; subclasses override.
    label = "forecaster"

    def fit(self, y, X=None, *, freq=None) -> Forecaster:
        raise NotImplementedError

    def predict(self, h: int) -> np.ndarray | pd.Series:
        raise NotImplementedError

    def forecast(self, h: int, level: Sequence[float] | None = (80, 95)) -> Forecast:
        """The point forecast; subclasses with a predictive distribution add intervals."""
        check_levels(level)
        return Forecast(mean=np.asarray(self.predict(h)), index=self._future(h))

    def _series(
        self, y, allow_nan: bool = False, freq=None, *, keep_freq: bool = False
    ) -> np.ndarray:
        """``y`` as floats, in date order when it is pandas indexed by dates; its dates
        are remembered for the forecasts (see :meth:`_remember_dates`)."""
        ordered = ordered_series(y, "y")
        values = as_float_series(ordered, "y", allow_nan=allow_nan)
        self._remember_dates(ordered, freq, keep_freq=keep_freq)
        return values

    def _remember_dates(self, y, freq=None, *, keep_freq: bool = False) -> None:
        """Record where ``y``'s dates end and their step, so that forecasts are dated.

        ``y`` without a ``DatetimeIndex`` or ``PeriodIndex`` (arrays, lists, other
        indexes) records nothing and forecasts stay ndarrays. ``keep_freq`` (for
        ``update``) keeps the ``freq`` given to ``fit`` when ``freq`` is None.

        Raises
        ------
        ValueError
            The dates' frequency cannot be inferred and no ``freq`` is given, or
            ``freq`` is given for a series without dates (see
            :func:`seqlab._validation.date_offset`).
        """
        previous = getattr(self, "_dates_", None)
        if freq is None and keep_freq and previous is not None:
            freq = previous.freq
        index = getattr(y, "index", None) if isinstance(y, (pd.Series, pd.DataFrame)) else None
        if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
            if freq is not None and not keep_freq:
                raise ValueError(
                    f"freq={freq!r} is only for a pandas Series indexed by dates or periods; "
                    f"y is {type(y).__name__}"
                    + (f" with a {type(index).__name__}" if index is not None else "")
                    + "."
                )
            self._dates_ = None
            return
        offset = date_offset(index, freq)
        self._dates_ = _Dates(index[[index.argmax()]], offset, freq, getattr(y, "name", None))

    def _future(self, h: int) -> pd.Index | None:
        """The ``h`` dates after the fitted series' last one (None without dates)."""
        dates = getattr(self, "_dates_", None)
        if dates is None:
            return None
        return future_index(dates.last, h, dates.offset)

    def _dated(self, out):
        """``out`` indexed by the forecast dates when the fitted series had dates: an
        ndarray of ``h`` points becomes a Series named like ``y``, a :class:`Forecast`
        carries the dates as its ``index``; unchanged otherwise."""
        if getattr(self, "_dates_", None) is None:
            return out
        if isinstance(out, Forecast):
            return replace(out, index=self._future(len(out.mean)))
        values = np.asarray(out, dtype=np.float64)
        return pd.Series(values, index=self._future(values.size), name=self._dates_.name)

    def _check_h(self, h: int) -> int:
        self._check_fitted()
        return check_horizon(h)

    def _check_fitted(self) -> None:
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise ValueError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"

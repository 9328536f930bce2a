"""The one interface every forecaster follows, and the forecast it returns.

sklearn/darts style: ``__init__`` only stores hyperparameters; ``fit(y, X=None)``
validates and estimates, leaving fitted state in attributes ending in ``_``;
``predict(h)`` returns the point forecast for the ``h`` steps after the end of the
fitted series as a float ndarray; ``forecast(h, level=(80, 95))`` returns a
:class:`Forecast` with prediction intervals where the model has them (an empty
``lower``/``upper`` otherwise). Models that can absorb new observations without
re-estimating their parameters also define ``update(y, X=None)``; the backtest uses
it between refits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from seqlab._validation import as_float_series, check_horizon, check_levels, ordered_series
from seqlab.ts._exog import as_exog

__all__ = ["Forecast", "Forecaster", "check_features", "check_levels"]


@dataclass(frozen=True)
class Forecast:
    """Point forecast ``mean`` (h,), and ``lower[level]`` / ``upper[level]`` bounds."""

    mean: np.ndarray
    lower: dict[int, np.ndarray] = field(default_factory=dict)
    upper: dict[int, np.ndarray] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Columns ``mean``, ``lower_80``, ``upper_80``, ... indexed by step 1..h."""
        columns = {"mean": self.mean}
        for level in sorted(self.lower):
            columns[f"lower_{level:g}"] = self.lower[level]
            columns[f"upper_{level:g}"] = self.upper[level]
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


class Forecaster:
    """Base class: validation helpers and the default interval-free ``forecast``."""

    #: Short label for tables and plots; subclasses override.
    label = "forecaster"

    def fit(self, y, X=None) -> Forecaster:
        raise NotImplementedError

    def predict(self, h: int) -> np.ndarray:
        raise NotImplementedError

    def forecast(self, h: int, level: Sequence[float] | None = (80, 95)) -> Forecast:
        """The point forecast; subclasses with a predictive distribution add intervals."""
        check_levels(level)
        return Forecast(mean=self.predict(h))

    def _series(self, y, allow_nan: bool = False) -> np.ndarray:
        """``y`` as floats, in date order when it is pandas indexed by dates."""
        return as_float_series(ordered_series(y, "y"), "y", allow_nan=allow_nan)

    def _check_h(self, h: int) -> int:
        self._check_fitted()
        return check_horizon(h)

    def _check_fitted(self) -> None:
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise ValueError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"

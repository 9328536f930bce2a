"""Automatic ARIMA order selection (Hyndman & Khandakar 2008), as R's ``forecast::auto.arima``.

The algorithm, step by step (Hyndman & Khandakar 2008, section 3.2; R forecast 8.x):

1. Regressors: with ``exog``, the order of integration is chosen on the residuals of an
   OLS regression of ``y`` on ``[1, exog]``; every candidate is a regression with ARIMA
   errors.
2. ``D`` by a seasonal test (``nsdiffs``: STL seasonal strength > 0.64 by default, or
   OCSB), then ``d`` by successive KPSS tests on the seasonally differenced series
   (``ndiffs``). A constant series gets a mean model; a series that is constant after
   differencing gets the deterministic model it follows; both are said in ``messages``.
3. Candidate models are scored by an information criterion (AICc by default) with
   ``n* = n - d - D m`` observations and ``k`` counting sigma2. A constant (``d + D = 0``)
   or a drift (``d + D = 1``) is tried when allowed. Fits whose AR or MA polynomial has a
   root with modulus < 1.01 (near non-stationary / non-invertible) get an infinite score,
   and so do candidates whose converged CSS estimate (the exact fit's start) has a
   non-stationary AR part: R's ``arima`` refuses those ("non-stationary AR part from CSS").
4. ``approximation`` (default: ``n > 150`` or ``m > 12``): the search scores CSS fits by
   ``offset + n* log(sigma2_css) + 2 k``, then refits the best candidates by exact
   likelihood in order of score until one passes the root checks.
5. Stepwise search: four (five with a constant) starting models, then moves of the
   current best by one step in P, Q, both, then p, q, both, then toggling the constant,
   restarting from the top whenever a move improves the score, until no move does or
   ``max_models`` have been fitted. Moves are a table (``_MOVES``) and one loop.
   ``stepwise=False`` fits every model with ``p + q + P + Q <= max_order``.

The search's settings (R's arguments) are one frozen :class:`AutoARIMAConfig`, checked once
when :func:`auto_arima` builds it; what the series decides (the period kept, ``d``, ``D``,
the order limits for its length) is derived from it inside the search.

The result wraps the chosen fitted :class:`~seqlab.ts.arima.ARIMAResult` (``.model``; its
attributes are reachable on the result too) and records every candidate (``.candidates``).
Checked in ``tests/ts/test_auto.py``: chosen orders refitted by statsmodels give the same
log-likelihood and AICc; ``d`` equals a direct KPSS sequence on statsmodels' ``kpss``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqlab._validation import (
    as_float_series,
    check_alpha,
    check_choice,
    check_horizon,
    check_int,
    check_levels,
    check_period,
)
from seqlab.ts import _kalman
from seqlab.ts._exog import as_exog, check_future_exog
from seqlab.ts._results import _future_index
from seqlab.ts.arima import ARIMA, ARIMAForecast, ARIMAResult, CSSStartError, _in_date_order
from seqlab.ts.seasonality import ndiffs, nsdiffs
from seqlab.ts.transforms import _difference_array

__all__ = [
    "AutoARIMAConfig",
    "AutoARIMAResult",
    "Candidate",
    "DeterministicResult",
    "auto_arima",
]

logger = logging.getLogger(__name__)

_IC = ("aicc", "aic", "bic")
# Stepwise moves (dp, dq, dP, dQ) in forecast::auto.arima's order: seasonal first.
_MOVES = [
    (0, 0, -1, 0),
    (0, 0, 0, -1),
    (0, 0, 1, 0),
    (0, 0, 0, 1),
    (0, 0, -1, -1),
    (0, 0, -1, 1),
    (0, 0, 1, -1),
    (0, 0, 1, 1),
    (-1, 0, 0, 0),
    (0, -1, 0, 0),
    (1, 0, 0, 0),
    (0, 1, 0, 0),
    (-1, -1, 0, 0),
    (-1, 1, 0, 0),
    (1, -1, 0, 0),
    (1, 1, 0, 0),
]
# forecast's myarima: roots of the AR/MA polynomials closer than this to the unit circle
# make a candidate unusable (its forecasts would be unstable).
_MIN_ROOT_MODULUS = 1.01


# ------------------------------------------------------------------ helpers
arima_logger = logging.getLogger("seqlab.ts.arima")


@contextlib.contextmanager
def _quiet(target: logging.Logger):
    """Silence ``target`` below ERROR: in a search, a CSS fit with a non-stationary AR part
    is expected (the root check rejects it) and not worth a warning per candidate."""
    level = target.level
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(level)


def _min_root_modulus(poly: np.ndarray) -> float:
    return float(_kalman.min_root_modulus(np.ascontiguousarray(poly, dtype=float)))


def _factored_root_modulus(params: pd.Series, prefix: str, m: int, sign: float) -> float:
    """Smallest root modulus of the model's AR (``prefix`` "ar", ``sign`` -1) or MA
    ("ma", +1) polynomial, ``(1 + sign * non-seasonal)(1 + sign * seasonal in L^m)``, from
    its two factors: the product's roots are the non-seasonal factor's and the m-th roots
    of the seasonal factor's (a polynomial in L^m), so two tiny root problems replace one
    of degree p + m*P."""
    short, seasonal = [], []
    for name, value in params.items():
        if name.startswith(f"{prefix}.L"):
            short.append(value)
        elif name.startswith(f"{prefix}.S.L"):
            seasonal.append(value)
    modulus = _min_root_modulus(np.concatenate([[1.0], sign * np.asarray(short, dtype=float)]))
    if seasonal:
        poly = np.concatenate([[1.0], sign * np.asarray(seasonal, dtype=float)])
        modulus = min(modulus, _min_root_modulus(poly) ** (1.0 / m))
    return modulus


def _trend_for(constant: bool, diffs: int) -> str:
    if not constant:
        return "n"
    return "c" if diffs == 0 else "t"


def _label(order, seasonal_order, constant: bool) -> str:
    p, d, q = order
    P, D, Q, m = seasonal_order
    text = f"ARIMA({p},{d},{q})"
    if m > 1 and (P or D or Q):
        text += f"({P},{D},{Q})[{m}]"
    if constant:
        text += " with drift" if d + D == 1 else " with non-zero mean"
    elif d + D == 0:
        text += " with zero mean"
    return text


def _check_exog(exog: Any, n: int) -> pd.DataFrame | None:
    if exog is None:
        return None
    values, names = as_exog(exog, n, "exog")
    frame = pd.DataFrame(values, columns=names)
    for j, name in enumerate(frame.columns):
        if np.ptp(values[:, j]) == 0:
            raise ValueError(
                f"exog column {name!r} is constant; it duplicates the model's mean/drift. Drop it."
            )
    design = np.column_stack([np.ones(n), values])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ValueError(
            "exog is rank deficient (some columns are linear combinations of others "
            "or of a constant); drop the redundant columns."
        )
    return frame


# ------------------------------------------------------------ configuration
# The largest value of each order argument: the orders ARIMA itself accepts.
_ORDER_BOUNDS = {
    "max_p": 100,
    "max_q": 100,
    "max_P": 10,
    "max_Q": 10,
    "max_order": 220,
    "max_d": 3,
    "max_D": 2,
    "start_p": 100,
    "start_q": 100,
    "start_P": 10,
    "start_Q": 10,
}
_FLAGS = ("seasonal", "stepwise", "allow_drift", "allow_mean", "trace")


@dataclass(frozen=True)
class AutoARIMAConfig:
    """What :func:`auto_arima` searches and how, checked once when it is built.

    The fields are :func:`auto_arima`'s keyword arguments, with R's names and defaults
    (``max.p`` -> ``max_p`` ...; ``nmodels`` -> ``max_models``).

    Parameters
    ----------
    m : int
        Seasonal period, 1 to ``seqlab._validation.MAX_PERIOD`` (1 = non-seasonal).
    seasonal : bool
        Search seasonal models when ``m > 1``.
    stepwise : bool
        Stepwise search (True) or every model with ``p + q + P + Q <= max_order``.
    ic : {"aicc", "aic", "bic"}
        Information criterion that ranks the candidates.
    d, D : int or None
        Orders of (seasonal) differencing; None chooses them by the unit-root tests.
        At most 3 and 2.
    max_p, max_q, max_P, max_Q : int
        Largest orders searched (at most 100, 100, 10, 10).
    max_order : int
        Largest ``p + q + P + Q`` of the full search (at most 220).
    max_d, max_D : int
        Largest orders of differencing the tests may choose (at most 3 and 2).
    start_p, start_q, start_P, start_Q : int
        Orders of the stepwise search's first model (at most 100, 100, 10, 10). As in
        R, a start above its ``max_*`` starts at the maximum instead, so lowering a
        maximum alone is enough; series of fewer than 10 observations start at
        ``min(start_p, 1), min(start_q, 1), 0, 0``.
    allow_drift, allow_mean : bool
        Try a drift (``d + D = 1``) or a mean (``d + D = 0``).
    approximation : bool or None
        Score the search by CSS fits, then refit the best exactly; None means
        ``n > 150 or m > 12``.
    test : {"kpss"}
        Unit-root test that chooses ``d``.
    seasonal_test : {"seas", "ocsb"}
        Seasonal test that chooses ``D``.
    alpha : float
        Significance level of the unit-root test, strictly between 0 and 1 (the KPSS
        table clips it to [0.01, 0.1]).
    max_models : int
        Most models the stepwise search fits (>= 0).
    trace : bool
        Log every candidate at INFO on ``seqlab.ts.auto``.
    maxiter : int
        Most optimiser iterations per fit (>= 1).

    Raises
    ------
    TypeError
        A field of the wrong type: an order that is not an integer (bools and floats
        included), a flag that is not a bool, a choice that is not a string.
    ValueError
        A field out of range or not one of its choices; the message names the field and
        the value.
    """

    m: int = 1
    seasonal: bool = True
    stepwise: bool = True
    ic: str = "aicc"
    d: int | None = None
    D: int | None = None
    max_p: int = 5
    max_q: int = 5
    max_P: int = 2
    max_Q: int = 2
    max_order: int = 5
    max_d: int = 2
    max_D: int = 1
    start_p: int = 2
    start_q: int = 2
    start_P: int = 1
    start_Q: int = 1
    allow_drift: bool = True
    allow_mean: bool = True
    approximation: bool | None = None
    test: str = "kpss"
    seasonal_test: str = "seas"
    alpha: float = 0.05
    max_models: int = 94
    trace: bool = False
    maxiter: int = 500

    def __post_init__(self) -> None:
        checked: dict[str, Any] = {"m": check_period(self.m)}
        for name in _FLAGS:
            checked[name] = _check_flag(getattr(self, name), name)
        if self.approximation is not None:
            checked["approximation"] = _check_flag(self.approximation, "approximation")
        checked["ic"] = check_choice(self.ic, "ic", _IC, ignore_case=True)
        checked["test"] = check_choice(self.test, "test", ("kpss",), ignore_case=True)
        checked["seasonal_test"] = check_choice(
            self.seasonal_test, "seasonal_test", ("seas", "ocsb"), ignore_case=True
        )
        checked["alpha"] = check_alpha(self.alpha)
        for name, most in _ORDER_BOUNDS.items():
            checked[name] = _check_bounded(getattr(self, name), name, most)
        for name, most in (("d", 3), ("D", 2)):
            if getattr(self, name) is not None:
                checked[name] = _check_bounded(getattr(self, name), name, most)
        checked["max_models"] = check_int(self.max_models, "max_models", minimum=0)
        checked["maxiter"] = check_int(self.maxiter, "maxiter", minimum=1)
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def _check_bounded(value: Any, name: str, most: int) -> int:
    value = check_int(value, name, minimum=0)
    if value > most:
        raise ValueError(f"{name} must be <= {most} (the largest ARIMA order); got {value}.")
    return value


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class Candidate:
    """One model tried by the search."""

    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    constant: bool
    method: str
    ic: float
    status: str

    @property
    def label(self) -> str:
        return _label(self.order, self.seasonal_order, self.constant)


@dataclass(frozen=True, eq=False)
class DeterministicResult:
    """The model of a series with no noise to fit: constant, or constant after differencing.

    ``y`` follows ``(1 - B)^d (1 - B^m)^D y_t = c`` exactly; forecasts continue that
    recursion and have zero-width intervals. ``params`` holds ``c`` ("const" or "drift").
    """

    values: np.ndarray
    index: pd.Index | None
    name: str
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    params: pd.Series
    k_exog: int = 0
    sigma2: float = 0.0
    loglik: float = math.nan
    aic: float = math.nan
    aicc: float = math.nan
    bic: float = math.nan
    converged: bool = True
    method: str = "deterministic"

    @property
    def nobs(self) -> int:
        return int(self.values.size)

    @property
    def fitted(self) -> Any:
        return self._wrap(self.values.copy(), self.index)

    @property
    def resid(self) -> Any:
        return self._wrap(np.zeros(self.values.size), self.index)

    def _wrap(self, values: np.ndarray, index) -> Any:
        return values if index is None else pd.Series(values, index=index, name=self.name)

    def _difference_poly(self) -> np.ndarray:
        d = self.order[1]
        _, D, _, m = self.seasonal_order
        poly = np.array([1.0])
        for _ in range(d):
            poly = np.convolve(poly, [1.0, -1.0])
        for _ in range(D):
            seasonal = np.zeros(m + 1)
            seasonal[0], seasonal[m] = 1.0, -1.0
            poly = np.convolve(poly, seasonal)
        return poly

    def forecast(
        self, h: int, level: Sequence[float] = (80, 95), exog: Any = None
    ) -> ARIMAForecast:
        """Continue the exact recursion for ``h`` steps; intervals have zero width."""
        h = check_horizon(h)
        levels = check_levels(level)
        if self.k_exog:
            check_future_exog(exog, h, self.k_exog)
        poly = self._difference_poly()
        constant = float(self.params.iloc[0])
        history = list(self.values)
        for _ in range(h):
            value = constant - sum(
                poly[k] * history[-k] for k in range(1, poly.size) if k <= len(history)
            )
            history.append(value)
        mean = np.asarray(history[-h:])
        index = _future_index(self.index, h)
        wrapped = self._wrap(mean, index)
        bounds = {lv: wrapped for lv in levels}
        return ARIMAForecast(wrapped, self._wrap(np.zeros(h), index), bounds, dict(bounds))

    def apply(self, y: Any, exog: Any = None) -> DeterministicResult:
        """The same recursion and constant on the series ``y`` (no NaN); ``exog`` as at
        fit time (n rows of the regressors, which the recursion does not use)."""
        values = as_float_series(y, "y")
        if self.k_exog:
            check_future_exog(exog, values.size, self.k_exog)
        index = y.index if isinstance(y, pd.Series) else None
        name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else self.name
        return dataclasses.replace(self, values=values, index=index, name=name)

    def summary(self) -> str:
        constant = self.order[1] + self.seasonal_order[1] == 0
        kind = "constant" if constant else "a polynomial recursion after differencing"
        return (
            f"Deterministic model ARIMA{self.order}{self.seasonal_order}: the series is "
            f"exactly {kind} (params {dict(self.params)}); forecasts have no uncertainty."
        )


@dataclass(frozen=True, eq=False)
class AutoARIMAResult:
    """The model ``auto_arima`` chose, and how it got there.

    ``model`` is the fitted :class:`~seqlab.ts.arima.ARIMAResult` (or a
    :class:`DeterministicResult`); ``params``, ``loglik``, ``aicc``, ``resid``, ``summary``
    and every other attribute of it are available on this object too. ``candidates`` is a
    DataFrame with one row per model tried (order, seasonal order, constant, method, ic,
    status); ``messages`` lists what the search decided on the user's behalf.
    """

    model: ARIMAResult | DeterministicResult
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    constant: bool
    ic: str
    ic_value: float
    m: int
    approximation: bool
    tried: tuple[Candidate, ...]
    messages: tuple[str, ...] = field(default=())

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class lacks; guard the fields so that copying or
        # unpickling (when they are not yet set) cannot recurse.
        if name.startswith("_") or name in self.__dataclass_fields__:
            raise AttributeError(name)
        return getattr(self.model, name)

    @property
    def label(self) -> str:
        return _label(self.order, self.seasonal_order, self.constant)

    @property
    def candidates(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "model": c.label,
                    "p": c.order[0],
                    "d": c.order[1],
                    "q": c.order[2],
                    "P": c.seasonal_order[0],
                    "D": c.seasonal_order[1],
                    "Q": c.seasonal_order[2],
                    "m": c.seasonal_order[3],
                    "constant": c.constant,
                    "method": c.method,
                    self.ic: c.ic,
                    "status": c.status,
                }
                for c in self.tried
            ]
        )

    def forecast(
        self, h: int, level: Sequence[float] = (80, 95), exog: Any = None
    ) -> ARIMAForecast:
        """Forecasts of the chosen model (``exog``: h future rows of the regressors)."""
        return self.model.forecast(h, level=level, exog=exog)

    def save(self, path: str | os.PathLike) -> Path:
        """Write this result to the run folder ``path`` (JSON and safetensors, no pickle):
        the chosen model as :meth:`ARIMAResult.save` writes it, and the search (every
        candidate, the criterion, the notes); see :mod:`seqlab.ts.runs`. Returns the folder.
        """
        from seqlab.ts.runs import save_arima

        return save_arima(self, path)

    @staticmethod
    def load(path: str | os.PathLike) -> AutoARIMAResult:
        """The result saved in the run folder ``path``; its forecasts equal the original's.

        A damaged or edited folder, or one holding a plain ARIMA result, is a ValueError
        naming the file and the value.
        """
        from seqlab.ts.runs import load_arima

        result = load_arima(path)
        if not isinstance(result, AutoARIMAResult):
            raise ValueError(
                f"{path}: holds a plain ARIMA result; load it with ARIMAResult.load "
                "or seqlab.ts.runs.load_arima."
            )
        return result

    def trace_table(self) -> str:
        """Every candidate and its criterion, one line each, as R's ``trace=TRUE`` prints."""
        lines = [f" {c.label:<48} : {c.ic:.4f}  [{c.method}; {c.status}]" for c in self.tried]
        lines.append(f" Best model: {self.label}")
        return "\n".join(lines)

    def summary(self) -> str:
        head = [f"auto_arima: {self.label}, {self.ic} = {self.ic_value:.4f}"]
        head.append(
            f"{len(self.tried)} models tried"
            + (" (CSS approximation, then exact refit)" if self.approximation else "")
        )
        head.extend(f"note: {msg}" for msg in self.messages)
        return "\n".join(head) + "\n" + self.model.summary()

    def __str__(self) -> str:
        return self.summary()


# ------------------------------------------------------------------- search
class _Search:
    """Fits candidates for one series and remembers each score."""

    def __init__(
        self,
        y: np.ndarray,
        index: pd.Index | None,
        name: str,
        exog: pd.DataFrame | None,
        d: int,
        D: int,
        m: int,
        ic: str,
        approximation: bool,
        offset: float,
        trace: bool,
        maxiter: int,
    ) -> None:
        self.y = pd.Series(y, index=index, name=name) if index is not None else y
        self.exog = exog
        self.d, self.D, self.m = d, D, m
        self.ic = ic
        self.approximation = approximation
        self.offset = offset
        self.trace = trace
        self.maxiter = maxiter
        n = int(np.sum(~np.isnan(y)))
        self.nstar = n - d - D * m
        self.tried: list[Candidate] = []
        self.values: dict[tuple, float] = {}
        self.fits: dict[tuple, ARIMAResult] = {}

    @property
    def search_method(self) -> str:
        return "css" if self.approximation else "css-mle"

    def seen(self, key: tuple[int, int, int, int, bool]) -> bool:
        return (*key, self.search_method) in self.values

    def scored(self) -> list[tuple[float, tuple[int, int, int, int, bool]]]:
        """(score, key) of every model scored by the search method, in the order tried."""
        return [(v, k[:5]) for k, v in self.values.items() if k[5] == self.search_method]

    def score(self, key: tuple[int, int, int, int, bool], method: str | None = None) -> float:
        method = method or self.search_method
        if (*key, method) in self.values:
            return self.values[(*key, method)]
        model = self._model(key, method)
        order, seasonal, constant = model.order, model.seasonal_order, key[4]
        value, status = math.inf, "ok"
        try:
            with warnings.catch_warnings(), _quiet(arima_logger):
                warnings.simplefilter("ignore", RuntimeWarning)
                # One start per candidate, as R's auto.arima: the search compares many
                # models, and the extra starts of ARIMA.fit cost several fits each and mostly
                # find optima with roots near the unit circle, which the root check rejects.
                # The chosen model gets them afterwards (``polish``).
                # R's auto.arima skips a candidate whose converged CSS start has a
                # non-stationary AR part (R's arima stops there); ARIMA.fit would restart
                # that part from zero instead, so the search asks it to raise.
                result = model.fit(
                    self.y,
                    exog=self.exog,
                    maxiter=self.maxiter,
                    multistart=False,
                    css_ar_check="raise",
                )
        except CSSStartError as exc:
            status = f"rejected: {exc}"
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            status = f"failed: {exc}"
        else:
            value, status = self._criterion(result, method)
            self.fits[(*key, method)] = result
        self.values[(*key, method)] = value
        self.tried.append(Candidate(order, seasonal, constant, method, value, status))
        if self.trace:
            logger.info(" %-48s : %.4f  [%s; %s]", self.tried[-1].label, value, method, status)
        return value

    def _model(self, key: tuple[int, int, int, int, bool], method: str) -> ARIMA:
        p, q, P, Q, constant = key
        return ARIMA(
            order=(p, self.d, q),
            seasonal_order=(P, self.D, Q, self.m) if self.m > 1 else (0, 0, 0, 0),
            trend=_trend_for(constant, self.d + self.D),
            method=method,
        )

    def polish(
        self, key: tuple[int, int, int, int, bool], result: ARIMAResult, value: float
    ) -> tuple[ARIMAResult, float]:
        """The chosen model refitted from all of ``ARIMA.fit``'s starts: the best optimum
        that passes the same root checks replaces the search's fit where its likelihood is
        higher (the best overall often has a root on the unit circle)."""
        model = self._model(key, "css-mle")
        try:
            with warnings.catch_warnings(), _quiet(arima_logger):
                warnings.simplefilter("ignore", RuntimeWarning)
                refit = model.fit(self.y, exog=self.exog, maxiter=self.maxiter)
                for params in refit._problem.optima:
                    if refit._problem.loglik(params) <= result.loglik:
                        break
                    candidate = refit
                    if params is not refit._problem.optima[0]:
                        candidate = model.filter(self.y, params, exog=self.exog)
                    new_value, _ = self._criterion(candidate, "css-mle")
                    if math.isfinite(new_value):
                        return candidate, new_value
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            pass
        return result, value

    def _criterion(self, result: ARIMAResult, method: str) -> tuple[float, str]:
        k = result.k_params
        n = self.nstar
        if method == "css":
            # forecast's myarima: the CSS "AIC" with the offset of an exact fit.
            if not result.sigma2 > 0:
                return math.inf, "failed: CSS sigma2 is 0"
            aic = self.offset + n * math.log(result.sigma2) + 2 * k
        else:
            aic = -2.0 * result.loglik + 2 * k
        if not math.isfinite(aic):
            return math.inf, "failed: non-finite likelihood"
        value = {
            "aic": aic,
            "bic": aic + k * (math.log(n) - 2),
            "aicc": aic + 2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf,
        }[self.ic]
        params = result.params
        ar_root = _factored_root_modulus(params, "ar", self.m, -1.0)
        ma_root = _factored_root_modulus(params, "ma", self.m, 1.0)
        if ar_root < _MIN_ROOT_MODULUS:
            return math.inf, f"rejected: near non-stationary AR (root modulus {ar_root:.4f})"
        if ma_root < _MIN_ROOT_MODULUS:
            return math.inf, f"rejected: near non-invertible MA (root modulus {ma_root:.4f})"
        return value, "ok" if result.converged else "ok (optimiser did not converge)"


def auto_arima(
    y: Any,
    m: int = 1,
    *,
    exog: Any = None,
    seasonal: bool = True,
    stepwise: bool = True,
    ic: str = "aicc",
    d: int | None = None,
    D: int | None = None,
    max_p: int = 5,
    max_q: int = 5,
    max_P: int = 2,
    max_Q: int = 2,
    max_order: int = 5,
    max_d: int = 2,
    max_D: int = 1,
    start_p: int = 2,
    start_q: int = 2,
    start_P: int = 1,
    start_Q: int = 1,
    allow_drift: bool = True,
    allow_mean: bool = True,
    approximation: bool | None = None,
    test: str = "kpss",
    seasonal_test: str = "seas",
    alpha: float = 0.05,
    max_models: int = 94,
    trace: bool = False,
    maxiter: int = 500,
) -> AutoARIMAResult:
    """Choose and fit an ARIMA model by Hyndman & Khandakar (2008); see the module docstring.

    Parameters
    ----------
    y : array-like or pandas Series
        The series, 1-D. A Series keeps its index in forecasts; NaN are allowed (the CSS
        approximation is then off).
    m : int
        Seasonal period (1 = non-seasonal).
    exog : array-like or DataFrame, optional
        ``(n, k)`` regressors; forecasts then need ``exog`` for the future rows.
    seasonal, stepwise, ic, approximation, max_models, trace, maxiter
        How the search runs. ``trace=True`` logs every candidate at INFO on
        ``seqlab.ts.auto`` (shown on stderr if logging is not configured);
        ``result.trace_table()`` gives the same lines.
    d, D, max_d, max_D, test, seasonal_test, alpha
        Orders of differencing, given or chosen by the unit-root tests.
    max_p, max_q, max_P, max_Q, max_order, start_p, start_q, start_P, start_Q
        Limits of the search and its first model.
    allow_drift, allow_mean
        Whether a drift or a mean is tried.

    Returns
    -------
    AutoARIMAResult
        The chosen fitted model, every candidate tried and the search's notes.

    Raises
    ------
    TypeError
        ``y`` or an argument has the wrong type (see :class:`AutoARIMAConfig`).
    ValueError
        ``y`` has fewer than 3 observed values, repeated dates or values beyond
        ``seqlab._validation.MAX_ABS_VALUE``; an argument is out of range; ``exog`` is
        constant, rank deficient or of the wrong length; no candidate could be fitted.

    Notes
    -----
    Every argument but ``y`` and ``exog`` is R's ``auto.arima`` argument of the same
    name and default (``max.p`` -> ``max_p`` ...; ``nmodels`` -> ``max_models``); they
    are described and checked by :class:`AutoARIMAConfig`, which the search carries. A
    Series indexed by dates out of order is sorted first (with a ``logging`` warning).
    """
    y, exog = _in_date_order(y, exog)
    values = as_float_series(y, "y", allow_nan=True)
    index = y.index if isinstance(y, pd.Series) else None
    name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
    config = AutoARIMAConfig(
        m=m,
        seasonal=seasonal,
        stepwise=stepwise,
        ic=ic,
        d=d,
        D=D,
        max_p=max_p,
        max_q=max_q,
        max_P=max_P,
        max_Q=max_Q,
        max_order=max_order,
        max_d=max_d,
        max_D=max_D,
        start_p=start_p,
        start_q=start_q,
        start_P=start_P,
        start_Q=start_Q,
        allow_drift=allow_drift,
        allow_mean=allow_mean,
        approximation=approximation,
        test=test,
        seasonal_test=seasonal_test,
        alpha=alpha,
        max_models=max_models,
        trace=trace,
        maxiter=maxiter,
    )
    exog_frame = _check_exog(exog, values.size)

    handler = None
    if config.trace and not logging.getLogger().handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    previous_level = logger.level
    if config.trace:
        logger.setLevel(logging.INFO)
    try:
        return _auto_arima(values, index, name, exog_frame, config)
    finally:
        if config.trace:
            logger.setLevel(previous_level)
        if handler is not None:
            logger.removeHandler(handler)


def _auto_arima(
    values: np.ndarray,
    index: pd.Index | None,
    name: str,
    exog: pd.DataFrame | None,
    config: AutoARIMAConfig,
) -> AutoARIMAResult:
    """The search of :func:`auto_arima` on checked inputs.

    ``values`` (NaN allowed), its ``index`` (None for arrays) and ``name``; ``exog`` as
    :func:`_check_exog` returns it. The series decides what ``config`` leaves open (the
    period kept, the orders of differencing, the limits, the approximation).
    """
    messages: list[str] = []
    m, ic = config.m, config.ic
    observed = values[~np.isnan(values)]
    n = observed.size
    if n < 3:
        raise ValueError(f"y has {n} observed values; auto_arima needs at least 3.")
    k_exog = 0 if exog is None else exog.shape[1]

    if np.ptp(observed) == 0:
        messages.append(f"the series is constant ({observed[0]:g}); using a mean model.")
        logger.info(messages[-1])
        return _deterministic(
            values, index, name, (0, 0, 0), (0, 0, 0, m), observed[0], m, ic, k_exog, messages
        )

    if not config.seasonal:
        m = 1
    if m > 1 and n <= 2 * m:
        messages.append(
            f"the series has {n} observations, not more than two seasonal periods "
            f"(m={m}); falling back to a non-seasonal search."
        )
        logger.info(messages[-1])
        m = 1

    limits = _order_limits(n, m, config.max_p, config.max_q, config.max_P, config.max_Q)
    if n <= 3:
        ic = "aic"

    # Orders of integration on the regression residuals when there are regressors.
    xx = values
    if exog is not None:
        design = np.column_stack([np.ones(values.size), exog.to_numpy()])
        ok = ~np.isnan(values)
        beta = np.linalg.lstsq(design[ok], values[ok], rcond=None)[0]
        xx = values - design @ beta
    xx_obs = xx[~np.isnan(xx)]
    if m == 1:
        D = 0
    elif config.D is None:
        D = nsdiffs(xx_obs, m, test=config.seasonal_test, max_D=config.max_D)
    else:
        D = config.D
    dx = _difference_array(xx_obs, D=D, m=m)
    if config.d is not None:
        d = config.d
    elif dx.size > 2:
        d = ndiffs(dx, alpha=config.alpha, test=config.test, max_d=config.max_d)
    else:
        d = 0
    dx = np.diff(dx, n=d) if d else dx
    if dx.size == 0:
        raise ValueError(
            f"y has {n} observations: nothing is left after d={d}, D={D} differences at m={m}."
        )
    if exog is None and np.ptp(dx) == 0:
        messages.append(
            f"the series is constant after differencing (d={d}, D={D}); using the "
            "deterministic model it follows."
        )
        logger.info(messages[-1])
        return _deterministic(
            values, index, name, (0, d, 0), (0, D, 0, m), dx[0], m, ic, 0, messages
        )

    approximation = config.approximation
    if approximation is None:
        approximation = n > 150 or m > 12
    if approximation and np.isnan(values).any():
        messages.append("the series has missing values, so the CSS approximation is off.")
        approximation = False
    diffs = d + D
    allow_drift = config.allow_drift and diffs == 1
    allow_mean = config.allow_mean and diffs == 0
    constant = allow_drift or allow_mean

    offset = 0.0
    if approximation:
        offset = _approximation_offset(values, index, exog, d, D, m, n)

    search = _Search(
        values, index, name, exog, d, D, m, ic, approximation, offset, config.trace, config.maxiter
    )
    if config.stepwise:
        best = _stepwise(search, limits, config, constant, constant, n)
    else:
        best = _exhaustive(search, limits, config.max_order, constant, constant)

    if approximation:
        best, result, value = _refit_exact(search)
    else:
        result = search.fits.get((*best, "css-mle"))
        value = search.values.get((*best, "css-mle"), math.inf)
    if result is None or not math.isfinite(value):
        failures = "; ".join(sorted({c.status for c in search.tried if c.status != "ok"}))
        raise ValueError(f"no suitable ARIMA model found for this series ({failures}).")
    result, value = search.polish(best, result, value)
    p, q, P, Q, const = best
    return AutoARIMAResult(
        model=result,
        order=(p, d, q),
        seasonal_order=(P, D, Q, m) if m > 1 else (0, 0, 0, 0),
        constant=const,
        ic=ic,
        ic_value=value,
        m=m,
        approximation=approximation,
        tried=tuple(search.tried),
        messages=tuple(messages),
    )


def _order_limits(n: int, m: int, max_p: int, max_q: int, max_P: int, max_Q: int):
    """auto.arima's search limits for ``n`` observations at period ``m``.

    Every order is at most a third of the series (in seasons for P, Q); p and q stay
    below ``m`` only where a seasonal term of the same kind may enter (``max.p <-
    min(max.p, m - 1)`` only ``if (max.P > 0)``): with no seasonal AR allowed, an
    AR(p >= m) is the only way to reach lag m.
    """
    max_p, max_q = min(max_p, n // 3), min(max_q, n // 3)
    max_P = min(max_P, n // (3 * m)) if m > 1 else 0
    max_Q = min(max_Q, n // (3 * m)) if m > 1 else 0
    if max_P > 0:
        max_p = min(max_p, m - 1)
    if max_Q > 0:
        max_q = min(max_q, m - 1)
    return max_p, max_q, max_P, max_Q


def _approximation_offset(values, index, exog, d, D, m, n) -> float:
    """forecast's AIC offset for CSS scores: from an exact ARIMA(0,d,0)(0,D,0) fit.

    The current forecast source takes it from this white-noise model (older releases
    from an ARIMA(1,d,0)). It shifts every CSS score by the same amount, so it changes the
    reported values (making them comparable to exact-likelihood criteria), never the
    ranking.
    """
    y = pd.Series(values, index=index) if index is not None else values
    seasonal = (0, D, 0, m) if D else (0, 0, 0, 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = ARIMA(order=(0, d, 0), seasonal_order=seasonal, trend="n").fit(y, exog=exog)
        return -2.0 * fit.loglik - n * math.log(fit.sigma2)
    except (ValueError, np.linalg.LinAlgError):
        return 0.0


def _stepwise(
    search: _Search,
    limits: tuple[int, int, int, int],
    config: AutoARIMAConfig,
    constant: bool,
    can_toggle: bool,
    n: int,
) -> tuple[int, int, int, int, bool]:
    """The stepwise search from ``config``'s start orders within ``limits`` (max p, q, P,
    Q for this series); returns the best key ``(p, q, P, Q, constant)``."""
    max_p, max_q, max_P, max_Q = limits
    start_p, start_q, start_P, start_Q = (
        config.start_p,
        config.start_q,
        config.start_P,
        config.start_Q,
    )
    max_models = config.max_models
    if n < 10:
        start_p, start_q, start_P, start_Q = min(start_p, 1), min(start_q, 1), 0, 0
    seasonal = search.m > 1
    start = (
        min(start_p, max_p),
        min(start_q, max_q),
        min(start_P, max_P) if seasonal else 0,
        min(start_Q, max_Q) if seasonal else 0,
        constant,
    )
    initial = [start, (0, 0, 0, 0, constant)]
    if max_p > 0 or max_P > 0:
        initial.append((int(max_p > 0), 0, int(seasonal and max_P > 0), 0, constant))
    if max_q > 0 or max_Q > 0:
        initial.append((0, int(max_q > 0), 0, int(seasonal and max_Q > 0), constant))
    if constant:
        initial.append((0, 0, 0, 0, False))
    best, best_value = None, math.inf
    for key in initial:
        if search.seen(key):
            continue
        value = search.score(key)
        if best is None or value < best_value:
            best, best_value = key, value
    while len(search.tried) < max_models:
        improved = False
        p, q, P, Q, const = best
        moves = [((p + dp, q + dq, P + dP, Q + dQ), const) for dp, dq, dP, dQ in _MOVES]
        if can_toggle:
            moves.append(((p, q, P, Q), not const))
        for orders, const_new in moves:
            if any(o < 0 or o > lim for o, lim in zip(orders, limits, strict=True)):
                continue
            key = (*orders, const_new)
            if search.seen(key):
                continue
            if len(search.tried) >= max_models:
                break
            value = search.score(key)
            if value < best_value:
                best, best_value, improved = key, value, True
                break
        if not improved:
            break
    if len(search.tried) >= max_models:
        logger.warning("stepwise search stopped at the model limit max_models=%d", max_models)
    return best


def _exhaustive(
    search: _Search,
    limits: tuple[int, int, int, int],
    max_order: int,
    constant: bool,
    can_toggle: bool,
) -> tuple[int, int, int, int, bool]:
    """Every model with ``p + q + P + Q <= max_order`` within ``limits``; the best key."""
    max_p, max_q, max_P, max_Q = limits
    constants = (True, False) if can_toggle else (constant,)
    best, best_value = None, math.inf
    ranges = [range(max_p + 1), range(max_q + 1), range(max_P + 1), range(max_Q + 1)]
    for p, q, P, Q in itertools.product(*ranges):
        if p + q + P + Q > max_order:
            continue
        for const in constants:
            key = (p, q, P, Q, const)
            value = search.score(key)
            if best is None or value < best_value:
                best, best_value = key, value
    return best


def _refit_exact(search: _Search):
    """Refit candidates by exact likelihood, best CSS score first, until one is usable."""
    ranked = sorted(search.scored(), key=lambda item: item[0])
    if search.trace:
        logger.info(" now re-fitting the best model(s) without approximations")
    for css_value, key in ranked:
        if not math.isfinite(css_value):
            break
        value = search.score(key, "css-mle")
        if math.isfinite(value):
            return key, search.fits[(*key, "css-mle")], value
    return None, None, math.inf


def _deterministic(
    values: np.ndarray,
    index: pd.Index | None,
    name: str,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    constant: float,
    m: int,
    ic: str,
    k_exog: int,
    messages: list[str],
) -> AutoARIMAResult:
    param_name = "const" if order[1] + seasonal_order[1] == 0 else "drift"
    seasonal_order = seasonal_order if m > 1 else (0, 0, 0, 0)
    filled = values.copy()
    if np.isnan(filled).any():
        filled = pd.Series(filled).interpolate(limit_direction="both").to_numpy()
    model = DeterministicResult(
        values=filled,
        index=index,
        name=name,
        order=order,
        seasonal_order=seasonal_order,
        params=pd.Series({param_name: float(constant)}, name="params"),
        k_exog=k_exog,
    )
    return AutoARIMAResult(
        model=model,
        order=order,
        seasonal_order=seasonal_order,
        constant=True,
        ic=ic,
        ic_value=math.nan,
        m=m,
        approximation=False,
        tried=(),
        messages=tuple(messages),
    )

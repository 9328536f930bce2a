"""Zhang's hybrid: ARIMA for the linear part, a recurrent network for what it leaves.

Zhang (2003), "Time series forecasting using a hybrid ARIMA and neural network model",
Neurocomputing 50: model ``y_t = L_t + N_t``; fit ARIMA to ``y`` (``L``), fit the
network to ARIMA's in-sample residuals ``e_t`` using their own lags (``N``), and
forecast ``L_hat + N_hat``. Zhang used a feed-forward network; here it is any
:class:`~seqlab.forecast.neural.RecurrentForecaster` on the residual series.

Intervals are split-conformal (:mod:`seqlab.forecast.conformal`) on the hybrid's own
errors: from every origin in the network's validation hold-out (the last residuals,
which the network did not train on), ARIMA is re-filtered on the data up to the origin
with its parameters fixed, the network forecasts from the residuals up to it, and the
absolute errors of their sum give each step's half-width. (A network built with
``refit_full=True`` has trained on that hold-out, so its intervals come out too narrow.)

:class:`GlobalHybridForecaster` brings the two together across many series: an auto
ARIMA per series, and one :class:`~seqlab.forecast.neural.GlobalRecurrentForecaster`
with its default recipe trained on all of them at once. By default its forecast is
the mean of the two (the network then fits the series themselves); ``how="residuals"``
is Zhang's form. Its intervals are split-conformal over series: both parts are fitted
again with each series' last ``horizon`` rows held out, and the errors of the combined
forecast there, each divided by its series' scale, give each step's half-width.
"""

from __future__ import annotations

import copy

import numpy as np

from seqlab._validation import check_choice, check_horizon, check_int, check_levels
from seqlab.forecast.base import Forecast, Forecaster
from seqlab.forecast.classical import ArimaForecaster, AutoArimaForecaster
from seqlab.forecast.conformal import ConformalScores, LevelUnavailableError, _change_scale
from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster

__all__ = ["GlobalHybridForecaster", "HybridForecaster"]


class HybridForecaster(Forecaster):
    """``arima`` (default ARIMA(1,1,0)) plus ``network`` (default an LSTM) on residuals.

    Both are copied at ``fit``; the fitted parts are ``arima_`` and ``network_``.
    ``update`` re-filters ARIMA with its parameters fixed and moves the network's window
    to the new residuals, so no re-estimation happens between backtest refits.
    """

    def __init__(
        self,
        arima: ArimaForecaster | None = None,
        network: RecurrentForecaster | None = None,
    ) -> None:
        self.arima = arima
        self.network = network

    @property
    def label(self) -> str:  # type: ignore[override]
        net = self.network.label if self.network is not None else "lstm"
        return f"arima+{net}"

    def fit(self, y, X=None, *, freq=None) -> HybridForecaster:
        """Fit ARIMA to ``y`` and the network to its residuals; ``freq`` dates the
        forecasts of a dated ``y`` (see :mod:`seqlab.forecast.base`). ``X`` is ignored."""
        values = self._series(y, freq=freq)
        arima = copy.deepcopy(self.arima) if self.arima is not None else ArimaForecaster()
        network = (
            copy.deepcopy(self.network)
            if self.network is not None
            else RecurrentForecaster("lstm", lookback=10, horizon=1, mode="recursive")
        )
        arima.fit(values)
        try:
            network.fit(arima.resid_)
        except ValueError as exc:
            raise ValueError(f"fitting the network to the ARIMA residuals failed: {exc}") from None
        self.arima_ = arima
        self.network_ = network
        self.conformal_ = self._calibrate(values)
        return self

    def _calibrate(self, values: np.ndarray) -> ConformalScores | None:
        """Scores of the hybrid's forecasts from the origins of the network's hold-out."""
        network = self.network_
        resid = self.arima_.resid_
        burn = values.size - resid.size
        held = network._valid_rows(resid.size)
        if held == 0:
            return None
        steps = network.horizon if network.mode != "recursive" else held
        origins = np.arange(resid.size - held, resid.size)  # residual rows seen
        nets = network._origin_forecasts(resid, origins, steps)  # (K, steps)
        actual = np.full((origins.size, steps), np.nan)
        forecast = np.empty((origins.size, steps))
        for k, origin in enumerate(origins):
            seen = origin + burn
            arima = copy.deepcopy(self.arima_).update(values[:seen])
            forecast[k] = arima.predict(steps) + nets[k]
            future = values[seen : seen + steps]
            actual[k, : future.size] = future
        return ConformalScores.from_forecasts(
            actual,
            forecast,
            source=f"{origins.size} origins in the network's {held}-row validation hold-out",
            remedy="Raise the network's valid_size (each extra row adds an origin), or leave "
            "level out.",
        )

    def update(self, y, X=None) -> HybridForecaster:
        self._check_fitted()
        self.arima_.update(self._series(y, keep_freq=True))
        self.network_.update(self.arima_.resid_)
        return self

    def _point(self, h: int) -> np.ndarray:
        h = self._check_h(h)
        return np.asarray(self.arima_.predict(h)) + np.asarray(self.network_.predict(h))

    def predict(self, h: int):
        """The point forecast (a Series by date when the fitted series had dates)."""
        return self._dated(self._point(h))

    def forecast(self, h: int, level=(80, 95)) -> Forecast:
        """Point forecast and split-conformal intervals (see the module docstring)."""
        levels = check_levels(level)
        mean = self._point(h)
        calibration = getattr(self, "conformal_", None)
        if levels and calibration is None:
            raise LevelUnavailableError(
                "this HybridForecaster has no calibration errors for intervals: its network "
                "had no validation hold-out (valid_size=0). Refit with valid_size > 0, or "
                "pass level=None."
            )
        widths = {lv: calibration.half_widths(h, lv) for lv in levels}
        return self._dated(
            Forecast(
                mean=mean,
                lower={lv: mean - q for lv, q in widths.items()},
                upper={lv: mean + q for lv, q in widths.items()},
            )
        )


def _residuals(model) -> np.ndarray:
    """A fitted ARIMA forecaster's in-sample residuals; zeros for a noise-free fit (auto
    ARIMA's deterministic model has no filter and no residuals)."""
    if hasattr(model.result_, "model"):
        return model.resid_
    return np.zeros(2)


class GlobalHybridForecaster:
    """Auto ARIMA per series combined with one global recurrent network over all of them.

    ``GlobalHybridForecaster(horizon=h, season_length=m)`` fits
    ``AutoArimaForecaster(m=m)`` to each series (in parallel, ``backend`` and ``n_jobs``
    as in :class:`~seqlab.forecast.frame.Forecasts`) and one
    ``GlobalRecurrentForecaster(horizon=h, season_length=m)``, its default recipe. How
    the two combine is ``how``:

    ``"mean"`` (a forecast combination, the default)
        The network is fitted to the series themselves; the forecast is the mean of
        ARIMA's and the network's.
    ``"residuals"`` (Zhang's hybrid)
        The network is fitted to the series of ARIMA's in-sample residuals; the forecast
        is ARIMA's plus the network's.

    The default was chosen by validation on the last horizon of the training parts of
    the four M3 periods (``benchmarks/forecast.py --validate``): the mean was ahead of
    auto ARIMA on sMAPE and MASE in every period and ahead of the network alone in
    most, while the residual form stayed close to ARIMA alone (ARIMA's residuals leave
    the network little to learn).

    ``arima`` and ``network`` replace either part (copied at ``fit``).

    With ``calibrate=True`` (the default) ``fit`` first does all of that on each series
    without its last ``horizon`` rows, and keeps the errors of the combined forecasts
    of those rows, each divided by its series' scale (mean absolute first difference
    before the hold-out): per step, their split-conformal quantile times a series' scale
    at its end is the half-width of its interval. The coverage it promises is over
    series, not for each one; it doubles the cost of ``fit``. Series too short to hold
    out ``horizon`` rows and keep ``horizon + 2`` are left out of the calibration only.

    ``fit(series)`` takes a list of 1-D series or a dict name -> series, as
    :class:`~seqlab.forecast.neural.GlobalRecurrentForecaster` does; ``predict`` and
    ``forecast`` return a list, or a dict matching ``fit``. Saving it to a run folder is
    not supported (nor for :class:`HybridForecaster`): refit it.
    """

    #: One model for every series: ``Forecasts`` fits it to all series at once.
    is_global = True

    def __init__(
        self,
        horizon: int = 1,
        season_length: int = 1,
        *,
        arima: AutoArimaForecaster | ArimaForecaster | None = None,
        network: GlobalRecurrentForecaster | None = None,
        how: str = "mean",
        calibrate: bool = True,
        backend: str = "process",
        n_jobs: int | None = None,
    ) -> None:
        self.horizon = horizon
        self.season_length = season_length
        self.how = how
        self.arima = arima
        self.network = network
        self.calibrate = calibrate
        self.backend = backend
        self.n_jobs = n_jobs

    @property
    def label(self) -> str:
        return "global_hybrid" if self.how == "mean" else "global_hybrid_residuals"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(horizon={self.horizon!r}, "
            f"season_length={self.season_length!r}, how={self.how!r})"
        )

    def _parts(self):
        from seqlab.ts._longframe import check_workers

        horizon = check_horizon(self.horizon, "horizon")
        m = check_int(self.season_length, "season_length", minimum=1)
        check_choice(self.how, "how", ("residuals", "mean"))
        if not isinstance(self.calibrate, bool):
            raise TypeError(f"calibrate must be a bool, got {self.calibrate!r}.")
        n_jobs = check_workers(self.backend, self.n_jobs, None)
        arima = self.arima if self.arima is not None else AutoArimaForecaster(m=m)
        if not isinstance(arima, (ArimaForecaster, AutoArimaForecaster)):
            raise TypeError(
                f"arima must be an ArimaForecaster or AutoArimaForecaster, got "
                f"{type(arima).__name__}."
            )
        network = (
            self.network
            if self.network is not None
            else GlobalRecurrentForecaster(horizon=horizon, season_length=m)
        )
        if not isinstance(network, GlobalRecurrentForecaster):
            raise TypeError(
                f"network must be a GlobalRecurrentForecaster, got {type(network).__name__}."
            )
        return horizon, arima, network, n_jobs

    def _fit_parts(self, labels, arrays, arima, network, n_jobs):
        """Fitted ARIMA per series and the network on their residuals (``how="mean"``:
        on the series)."""
        from seqlab.ts._longframe import Job, LocalCall, run_batches

        jobs = [Job(i, labels[i], values, None, (values.size,)) for i, values in enumerate(arrays)]
        call = LocalCall({"arima": arima}, 1, (), keep=True)
        results, _ = run_batches(jobs, call, self.backend, n_jobs, progress=False)
        fitted = []
        for label, result in zip(labels, results, strict=True):
            if result is None:
                raise ValueError(f"fitting ARIMA to {label} failed: its worker did not answer.")
            if result.error is not None:
                raise ValueError(f"fitting ARIMA to {label} failed: {result.error}")
            fitted.append(result.fitted["arima"])
        if self.how == "mean":
            targets, what = list(arrays), "the series"
        else:
            targets, what = [_residuals(model) for model in fitted], "the ARIMA residuals"
        try:
            net = copy.deepcopy(network).fit(targets)
        except ValueError as exc:
            raise ValueError(f"fitting the network to {what} failed: {exc}") from None
        return fitted, net

    def _points(self, fitted, net, h: int) -> list[np.ndarray]:
        nets = net.predict(h)
        if isinstance(nets, dict):
            nets = list(nets.values())
        weight = 0.5 if self.how == "mean" else 1.0
        return [
            weight * np.asarray(model.predict(h), dtype=np.float64) + weight * np.asarray(extra)
            for model, extra in zip(fitted, nets, strict=True)
        ]

    def fit(self, series, X=None) -> GlobalHybridForecaster:
        """Fit ARIMA to every series and the network to their residuals (see the class
        docstring for the calibration); ``X`` must be None."""
        if X is not None:
            raise ValueError("GlobalHybridForecaster takes univariate series only (X=None).")
        horizon, arima, network, n_jobs = self._parts()
        names, arrays = GlobalRecurrentForecaster._collect(network, series)
        labels = names if names else [f"series[{i}]" for i in range(len(arrays))]
        self.conformal_ = None
        if self.calibrate:
            keep = [i for i, values in enumerate(arrays) if values.size >= 2 * horizon + 2]
            if keep:
                cut = [arrays[i][:-horizon] for i in keep]
                fitted, net = self._fit_parts(
                    [labels[i] for i in keep], cut, arima, network, n_jobs
                )
                points = self._points(fitted, net, horizon)
                scaled = np.stack(
                    [
                        (arrays[i][-horizon:] - point) / _change_scale(part)
                        for i, part, point in zip(keep, cut, points, strict=True)
                    ]
                )
                self.conformal_ = ConformalScores.from_forecasts(
                    scaled,
                    np.zeros_like(scaled),
                    source=f"the last {horizon} rows of {len(keep)} series",
                    remedy="Give more series (or longer ones: each needs 2 * horizon + 2 rows).",
                )
        self.arimas_, self.network_ = self._fit_parts(labels, arrays, arima, network, n_jobs)
        self.names_ = names
        self.scales_ = [_change_scale(values) for values in arrays]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "arimas_"):
            raise ValueError("This GlobalHybridForecaster is not fitted yet. Call 'fit' first.")

    def predict(self, h: int):
        """The point forecasts: a list, or a dict matching ``fit``."""
        forecasts = self.forecast(h, level=None)
        if isinstance(forecasts, dict):
            return {name: fc.mean for name, fc in forecasts.items()}
        return [fc.mean for fc in forecasts]

    def forecast(self, h: int, level=(80, 95)):
        """A :class:`~seqlab.forecast.base.Forecast` per series with split-conformal
        intervals (see the class docstring).

        Raises
        ------
        LevelUnavailableError
            Levels were asked of a model fitted with ``calibrate=False`` or without a
            series long enough to calibrate on, or ``h`` is past ``horizon``.
        """
        self._check_fitted()
        h = check_horizon(h)
        levels = check_levels(level)
        if levels and self.conformal_ is None:
            raise LevelUnavailableError(
                "this GlobalHybridForecaster has no calibration errors for intervals: it was "
                "fitted with calibrate=False, or no series had 2 * horizon + 2 rows. Refit "
                "with calibrate=True on such series, or pass level=None."
            )
        widths = {lv: self.conformal_.half_widths(h, lv) for lv in levels}
        out = []
        for point, scale in zip(
            self._points(self.arimas_, self.network_, h), self.scales_, strict=True
        ):
            out.append(
                Forecast(
                    mean=point,
                    lower={lv: point - q * scale for lv, q in widths.items()},
                    upper={lv: point + q * scale for lv, q in widths.items()},
                )
            )
        return dict(zip(self.names_, out, strict=True)) if self.names_ else out

"""Recurrent forecasters (RNN, LSTM, GRU, bidirectional LSTM) behind the common interface.

Three multi-step strategies (Taieb et al. 2012):

- ``mode="direct"``: one network maps a window to all ``horizon`` future values.
- ``mode="recursive"``: a one-step network fed its own predictions (univariate only:
  future values of extra features are unknown).
- ``mode="seq2seq"``: an encoder-decoder (``Seq2SeqForecastNet``).

Data path, with no leakage: the last ``valid_size`` rows are held out for early
stopping; the scaler is fitted on the rows before them only; training windows have
all their targets before the hold-out, validation windows have all their targets inside
it. With ``local_level=True`` each window is shifted by its last (scaled) target value,
so the network predicts changes from the current level; this is linear, so the inverse
is exact. ``log=True`` models the log of a positive target (multiplicative patterns
become additive; forecasts are exponentiated back). Training uses the project's one
:class:`seqlab.train.Trainer` with ``RegressionTask`` (``loss``: MSE, MAE or Huber) and
early stopping on the validation loss; with ``refit_full=True`` a fresh network is then
trained on every window, the held-out newest ones included, for the epoch count early
stopping chose (the hold-out served only to choose it). Training runs on ``device``
(``"auto"``: CUDA when available, as the Trainer decides); the fitted network is then
moved to the CPU, where forecasting runs.

``RecurrentForecaster`` fits one series (optionally with feature columns: the target is
column 0 of the inputs). ``GlobalRecurrentForecaster`` fits one network across many
univariate series, each scaled by its own scaler (Montero-Manso & Hyndman 2021,
"Principles and algorithms for forecasting groups of time series: Locality and
globality"); series shorter than a window are left-padded with their first value.

Intervals (``forecast(h, level)``) are split-conformal (:mod:`seqlab.forecast.conformal`):
after training, the early-stopped network forecasts from every origin of the validation
hold-out (rows it never trained on), and each step's absolute errors in the scaled
space give that step's half-width, mapped back through the scaler (and ``exp`` with
``log=True``). A global model pools the errors of all its series, each in the units of
its own scaler (standardised by its training rows), so one half-width per step serves
every series. A ``level`` the hold-out holds too few errors for is refused with the
``valid_size`` it needs. With ``refit_full=True`` the errors still
come from the early-stopped network, the one that did not see the hold-out.
"""

from __future__ import annotations

import seqlab

seqlab._require("seqlab.forecast.neural", "torch")

import dataclasses
import inspect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from seqlab._validation import as_float_series, check_int, check_levels
from seqlab.forecast.base import Forecast, Forecaster, check_features
from seqlab.forecast.conformal import ConformalScores, LevelUnavailableError
from seqlab.forecast.scalers import make_scaler
from seqlab.forecast.windows import make_windows
from seqlab.models import build_model
from seqlab.models.forecaster import RecurrentForecasterConfig
from seqlab.train import RegressionTask, TrainConfig, Trainer

__all__ = ["GlobalRecurrentForecaster", "RecurrentForecaster"]

logger = logging.getLogger(__name__)

_MODES = ("direct", "recursive", "seq2seq")


class _WindowBatches:
    """Re-iterable mini-batches of windows, reshuffled each epoch (``set_epoch``)."""

    def __init__(
        self, inputs: np.ndarray, targets: np.ndarray, batch_size: int, shuffle: bool, seed: int
    ) -> None:
        self.inputs = torch.from_numpy(inputs.astype(np.float32))
        self.targets = torch.from_numpy(targets.astype(np.float32))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.inputs.shape[0] // self.batch_size)

    def __iter__(self):
        n = self.inputs.shape[0]
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield {"inputs": self.inputs[rows], "targets": self.targets[rows]}


class _RecurrentBase(Forecaster):
    """Hyperparameters, network building, training and window preparation."""

    def __init__(
        self,
        cell: str = "lstm",
        mode: str = "direct",
        lookback: int = 20,
        horizon: int = 1,
        *,
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        scaler: str = "standard",
        local_level: bool = True,
        log: bool = False,
        epochs: int = 100,
        batch_size: int = 32,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        loss: str = "mse",
        refit_full: bool = False,
        patience: int | None = 10,
        valid_size: int | float = 0.1,
        stride: int = 1,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.cell = cell
        self.mode = mode
        self.lookback = lookback
        self.horizon = horizon
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.scaler = scaler
        self.local_level = local_level
        self.log = log
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.loss = loss
        self.refit_full = refit_full
        self.patience = patience
        self.valid_size = valid_size
        self.stride = stride
        self.seed = seed
        self.device = device

    @property
    def label(self) -> str:  # type: ignore[override]
        name = ("bi" if self.bidirectional else "") + self.cell
        return name if self.mode == "direct" else f"{name}-{self.mode}"

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments as given (JSON-ready), as in scikit-learn."""
        names = list(inspect.signature(_RecurrentBase.__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    # -- checks -----------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}.")
        check_int(self.lookback, "lookback", minimum=1)
        check_int(self.horizon, "horizon", minimum=1)
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.stride, "stride", minimum=1)
        if self.patience is not None:
            check_int(self.patience, "patience", minimum=1)
        make_scaler(self.scaler)

    @property
    def _train_horizon(self) -> int:
        return 1 if self.mode == "recursive" else self.horizon

    def _valid_rows(self, n: int) -> int:
        size = self.valid_size
        if isinstance(size, float) and not isinstance(size, bool):
            if not 0.0 <= size < 1.0:
                raise ValueError(f"valid_size as a fraction must be in [0, 1), got {size}.")
            rows = round(size * n)
        else:
            rows = check_int(size, "valid_size", minimum=0)
        # A hold-out shorter than one horizon holds no complete validation window.
        return 0 if rows == 0 else max(rows, self._train_horizon)

    def _to_model_space(self, values: np.ndarray, label: str = "y") -> np.ndarray:
        """Log of the target (column 0 of 2-D, or a 1-D series) when ``log=True``."""
        if not self.log:
            return values
        target = values[:, 0] if values.ndim == 2 else values
        observed = target[~np.isnan(target)]
        if (observed <= 0).any():
            bad = float(observed[observed <= 0][0])
            raise ValueError(
                f"log=True needs a positive target, but {label} holds {bad:g}; "
                "use log=False or shift the series."
            )
        out = values.copy()
        if out.ndim == 2:
            out[:, 0] = np.log(target)
        else:
            out = np.log(target)
        return out

    def _from_model_space(self, values: np.ndarray) -> np.ndarray:
        return np.exp(values) if self.log else values

    # -- windows ----------------------------------------------------------------------
    def _level(self, inputs: np.ndarray) -> np.ndarray:
        if not self.local_level:
            return np.zeros((inputs.shape[0], 1))
        return inputs[:, -1, :1].copy()  # (N, 1): last scaled target value

    def _shift(self, inputs: np.ndarray, targets: np.ndarray | None):
        level = self._level(inputs)
        inputs = inputs.copy()
        inputs[:, :, 0] -= level
        if targets is not None:
            targets = targets - level
        return inputs, targets, level

    def _network(self, n_features: int):
        config = RecurrentForecasterConfig(
            cell=self.cell,
            input_size=n_features,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            horizon=self._train_horizon,
            target_index=0,
        )
        name = "seq2seq_forecaster" if self.mode == "seq2seq" else "recurrent_forecaster"
        model_config = {"name": name, **asdict(config)}
        return build_model(model_config), model_config

    def _train(
        self, train: tuple, valid: tuple | None, n_features: int, full: tuple | None = None
    ) -> None:
        """Train on ``train`` windows, early-stopping on ``valid``; with ``refit_full``,
        then train a fresh network on ``full`` (every window, the newest included) for
        the best epoch count found."""
        torch.manual_seed(self.seed)
        model, model_config = self._network(n_features)
        train_in, train_out, _ = self._shift(*train)
        batches = _WindowBatches(train_in, train_out, self.batch_size, True, self.seed)
        valid_batches = None
        if valid is not None:
            valid_in, valid_out, _ = self._shift(*valid)
            valid_batches = _WindowBatches(valid_in, valid_out, 1024, False, self.seed)
        config = TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            optimizer="adam",
            weight_decay=self.weight_decay,
            grad_clip=1.0,
            early_stopping_patience=self.patience if valid is not None else None,
            monitor="valid_loss" if valid is not None else "train_loss",
            seed=self.seed,
            device=self.device,
            # Full precision everywhere: a forecast must not depend on whether "auto"
            # found a GPU (the Trainer's amp="auto" would use bf16 autocast there).
            amp="off",
            progress=False,
        )
        trainer = Trainer(
            model, task=RegressionTask(loss=self.loss), config=config, model_config=model_config
        )
        self.history_ = trainer.fit(batches, valid_batches)
        early_stopped = model
        if self.refit_full and valid is not None and full is not None and trainer.best_epoch:
            torch.manual_seed(self.seed)
            model, model_config = self._network(n_features)
            full_in, full_out, _ = self._shift(*full)
            batches = _WindowBatches(full_in, full_out, self.batch_size, True, self.seed)
            config = dataclasses.replace(
                config,
                epochs=trainer.best_epoch,
                early_stopping_patience=None,
                monitor="train_loss",
            )
            Trainer(
                model, task=RegressionTask(loss=self.loss), config=config, model_config=model_config
            ).fit(batches)
        model.to("cpu").eval()
        self.model_ = model
        self.model_config_ = model_config
        logger.info(
            "%s: trained %d epochs on %d windows",
            self.label,
            len(self.history_),
            len(batches.inputs),
        )
        return early_stopped

    def _run(self, windows: np.ndarray, model=None) -> np.ndarray:
        """Scaled windows (N, L, F) -> scaled forecasts (N, H_train), level restored."""
        inputs, _, level = self._shift(windows, None)
        network = self.model_ if model is None else model
        with torch.no_grad():
            out = network(torch.from_numpy(inputs.astype(np.float32))).double().numpy()
        return out + level

    def _calibrate(
        self, histories: list[np.ndarray], train_rows: list[int], model
    ) -> ConformalScores | None:
        """Conformal scores of ``model``'s forecasts from every hold-out origin.

        ``histories``: scaled model-space series, (n, F) each; origin ``o`` (rows seen)
        runs over ``train_rows[i] .. n - 1``. Direct and seq2seq models are scored over
        their ``horizon``; recursive ones over the longest hold-out.
        """
        held = [values.shape[0] - rows for values, rows in zip(histories, train_rows, strict=True)]
        if max(held) <= 0:
            return None
        steps = self.horizon if self.mode != "recursive" else max(held)
        windows, actual = [], []
        for values, rows in zip(histories, train_rows, strict=True):
            padded = np.concatenate(
                [np.repeat(values[:1], max(0, self.lookback - rows), axis=0), values]
            )
            shift = padded.shape[0] - values.shape[0]
            for origin in range(rows, values.shape[0]):
                end = origin + shift
                windows.append(padded[end - self.lookback : end])
                target = np.full(steps, np.nan)
                future = values[origin : origin + steps, 0]
                target[: future.size] = future
                actual.append(target)
        inputs = np.stack(windows)  # (K, L, F)
        forecast = self._forecast_scaled(inputs, steps, model)
        rows_held = f"{min(held)}" if min(held) == max(held) else f"{min(held)}-{max(held)}"
        return ConformalScores.from_forecasts(
            np.stack(actual),
            forecast,
            source=f"{len(windows)} origins in the {rows_held}-row validation hold-out"
            + (f" of {len(histories)} series" if len(histories) > 1 else ""),
            remedy="Raise valid_size (each extra hold-out row adds an origin), or leave level out.",
        )

    def _conformal(self) -> ConformalScores:
        calibration = getattr(self, "conformal_", None)
        if calibration is None:
            raise LevelUnavailableError(
                f"this {type(self).__name__} has no calibration errors for intervals (it had "
                "no validation hold-out, or was loaded from a run folder without them); refit "
                "with valid_size > 0, or pass level=None."
            )
        return calibration

    def _forecast_scaled(self, windows: np.ndarray, h: int, model=None) -> np.ndarray:
        """Scaled forecasts (N, h) from scaled windows, by the model's strategy."""
        if self.mode != "recursive":
            if h > self.horizon:
                raise ValueError(
                    f"this {self.mode} model was trained for horizon {self.horizon}; it cannot "
                    f"forecast h={h} steps. Refit with horizon >= {h}, or use mode='recursive'."
                )
            return self._run(windows, model)[:, :h]
        window = windows.copy()
        steps = []
        for _ in range(h):
            nxt = self._run(window, model)[:, :1]  # (N, 1)
            steps.append(nxt)
            window = np.concatenate([window[:, 1:], nxt[:, :, None]], axis=1)
        return np.concatenate(steps, axis=1)


def _column_names(y, X, width: int) -> list[str]:
    target = getattr(y, "name", None)
    names = [str(target) if target is not None else "y"]
    if X is not None:
        given = getattr(X, "columns", None)
        if given is None:
            given = [getattr(X, "name", None) or f"x{i}" for i in range(width - 1)]
        names.extend(str(c) for c in given)
    return names


class RecurrentForecaster(_RecurrentBase):
    """One recurrent network for one series ``y``, optionally with feature columns ``X``.

    ``fit(y, X=None)``: ``X`` holds past values of extra inputs (e.g. Open, High, Low,
    Volume beside Close), aligned row by row with ``y``; they are inputs only, never
    forecast, so ``predict`` needs no future values of them. ``predict(h)`` forecasts the
    ``h`` steps after the last row given to ``fit`` or ``update``.
    """

    def fit(self, y, X=None) -> RecurrentForecaster:
        self._check_params()
        values = self._stack(y, X)
        columns = _column_names(y, X, values.shape[1])
        if self.mode == "recursive" and values.shape[1] > 1:
            raise ValueError(
                "mode='recursive' forecasts from its own predictions, which needs future "
                "values of every input; with feature columns use mode='direct' or 'seq2seq'."
            )
        n = values.shape[0]
        lookback, horizon = self.lookback, self._train_horizon
        valid_rows = self._valid_rows(n)
        train_rows = n - valid_rows
        needed = lookback + horizon
        if train_rows < needed:
            raise ValueError(
                f"series is too short: lookback + horizon = {lookback} + {horizon} = {needed} "
                f"training observations are needed, got {n}"
                + (
                    f" ({n} - {valid_rows} held out for validation = {train_rows})"
                    if valid_rows
                    else ""
                )
                + ". Use a shorter lookback or horizon, or a longer series."
            )
        model_values = self._to_model_space(values)
        scaler = make_scaler(self.scaler).fit(model_values[:train_rows])
        scaled = scaler.transform(model_values)
        train = make_windows(
            scaled[:train_rows], lookback, horizon, stride=self.stride, columns=columns, name="y"
        )
        valid = None
        if valid_rows:
            held = make_windows(
                scaled[train_rows - lookback :], lookback, horizon, columns=columns, name="y"
            )
            valid = (held.inputs, held.targets)
        self.scaler_ = scaler
        self.n_features_ = values.shape[1]
        self.columns_ = columns
        full = None
        if self.refit_full and valid_rows:
            every = make_windows(scaled, lookback, horizon, stride=self.stride, columns=columns)
            full = (every.inputs, every.targets)
        early = self._train((train.inputs, train.targets), valid, values.shape[1], full)
        self.conformal_ = self._calibrate([scaled], [train_rows], early)
        self.data_ = values[-lookback:].copy()
        return self

    def _stack(self, y, X) -> np.ndarray:
        target = as_float_series(y, "y", allow_nan=True)
        features = check_features(X, target.size)
        if features is None:
            return target[:, None]
        return np.column_stack([target, features])

    def update(self, y, X=None) -> RecurrentForecaster:
        """Forecast from the end of ``y`` (and ``X``) from now on, without retraining."""
        self._check_fitted()
        values = self._stack(y, X)
        if values.shape[1] != self.n_features_:
            raise ValueError(
                f"the model was fitted on {self.n_features_} input columns (target + "
                f"features), got {values.shape[1]}."
            )
        if values.shape[0] < self.lookback:
            raise ValueError(
                f"update needs at least lookback = {self.lookback} rows, got {values.shape[0]}."
            )
        self.data_ = values[-self.lookback :].copy()
        return self

    def predict(self, h: int) -> np.ndarray:
        return self.forecast(h, level=None).mean

    def forecast(self, h: int, level=(80, 95)) -> Forecast:
        """Point forecast and split-conformal intervals (see the module docstring)."""
        levels = check_levels(level)
        h = self._check_h(h)
        if np.isnan(self.data_).any():
            raise ValueError(
                f"the last {self.lookback} rows (the window to forecast from) contain NaN; "
                "fill or drop missing values first."
            )
        widths = {lv: self._conformal().half_widths(h, lv) for lv in levels}
        window = self.scaler_.transform(self._to_model_space(self.data_))[None]  # (1, L, F)
        scaled = self._forecast_scaled(window, h)[0]

        def inverse(values: np.ndarray) -> np.ndarray:
            return self._from_model_space(self.scaler_.column(0).inverse_transform(values))

        return Forecast(
            mean=inverse(scaled),
            lower={lv: inverse(scaled - q) for lv, q in widths.items()},
            upper={lv: inverse(scaled + q) for lv, q in widths.items()},
        )

    def _origin_forecasts(self, y, origins: np.ndarray, h: int) -> np.ndarray:
        """Forecasts (K, h), in the units of ``y``, from the first ``o`` rows of ``y``
        for each origin ``o`` (univariate models; used by the hybrid's calibration)."""
        self._check_fitted()
        values = self._to_model_space(as_float_series(y, "y", allow_nan=True)[:, None])
        scaled = self.scaler_.transform(values)
        windows = np.stack([scaled[o - self.lookback : o] for o in origins])  # (K, L, 1)
        out = self._forecast_scaled(windows, h)
        flat = self.scaler_.column(0).inverse_transform(out.reshape(-1))
        return self._from_model_space(flat).reshape(out.shape)


class GlobalRecurrentForecaster(_RecurrentBase):
    """One recurrent network trained across many univariate series, scaled per series.

    ``fit(series)``: a list of 1-D series or a dict name -> series. The last
    ``valid_size`` rows of each series form the validation windows (an int; the default
    one horizon). ``predict(h)`` returns a list (or dict, matching ``fit``) of
    forecasts, one per series; ``predict(h, series=...)`` forecasts other series with
    the same network, each scaled by its own history.
    """

    #: One model for every series: ``Forecasts`` fits it to all series at once.
    is_global = True

    def __init__(
        self,
        cell: str = "lstm",
        mode: str = "direct",
        lookback: int = 24,
        horizon: int = 1,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("valid_size", horizon)
        kwargs.setdefault("batch_size", 256)
        super().__init__(cell, mode, lookback, horizon, **kwargs)

    def _collect(self, series) -> tuple[list[str] | None, list[np.ndarray]]:
        if isinstance(series, Mapping):
            names = [str(k) for k in series]
            items = list(series.values())
        elif isinstance(series, Sequence) and not isinstance(series, str):
            names, items = None, list(series)
        else:
            raise TypeError(
                f"series must be a list or dict of 1-D series, got {type(series).__name__}."
            )
        if not items:
            raise ValueError("series is empty; pass at least one series.")
        arrays = []
        for i, item in enumerate(items):
            label = names[i] if names else f"series[{i}]"
            arrays.append(as_float_series(item, label))
        return names, arrays

    def _pad(self, values: np.ndarray, length: int) -> np.ndarray:
        if values.size >= length:
            return values
        return np.concatenate([np.full(length - values.size, values[0]), values])

    def fit(self, series, X=None) -> GlobalRecurrentForecaster:
        if X is not None:
            raise ValueError("GlobalRecurrentForecaster takes univariate series only (X=None).")
        self._check_params()
        names, arrays = self._collect(series)
        lookback, horizon = self.lookback, self._train_horizon
        train_in, train_out, valid_in, valid_out, scalers = [], [], [], [], []
        full_in, full_out, train_sizes = [], [], []
        for i, values in enumerate(arrays):
            label = names[i] if names else f"series[{i}]"
            valid_rows = (
                self._valid_rows(values.size)
                if isinstance(self.valid_size, float)
                else check_int(self.valid_size, "valid_size", minimum=0)
            )
            train_rows = values.size - valid_rows
            train_sizes.append(train_rows)
            if train_rows < 2:
                raise ValueError(
                    f"{label} has {values.size} observations; with {valid_rows} held out for "
                    "validation fewer than 2 remain to train on."
                )
            model_values = self._to_model_space(values, label)
            scaler = make_scaler(self.scaler).fit(model_values[:train_rows])
            scaled = scaler.transform(model_values)
            scalers.append(scaler)
            train_part = self._pad(scaled[:train_rows], lookback + horizon)
            windows = make_windows(train_part, lookback, horizon, stride=self.stride)
            train_in.append(windows.inputs)
            train_out.append(windows.targets)
            if self.refit_full:
                windows = make_windows(
                    self._pad(scaled, lookback + horizon), lookback, horizon, stride=self.stride
                )
                full_in.append(windows.inputs)
                full_out.append(windows.targets)
            if valid_rows >= horizon:
                held = self._pad(scaled, lookback + valid_rows)[-(lookback + valid_rows) :]
                windows = make_windows(held, lookback, horizon)
                valid_in.append(windows.inputs)
                valid_out.append(windows.targets)
        train = (np.concatenate(train_in), np.concatenate(train_out))
        valid = (np.concatenate(valid_in), np.concatenate(valid_out)) if valid_in else None
        self.names_ = names
        self.scalers_ = scalers
        self.n_features_ = 1
        full = (np.concatenate(full_in), np.concatenate(full_out)) if full_in else None
        early = self._train(train, valid, 1, full)
        histories = [
            scaler.transform(self._to_model_space(values))[:, None]
            for values, scaler in zip(arrays, scalers, strict=True)
        ]
        self.conformal_ = self._calibrate(histories, train_sizes, early)
        self.data_ = [
            values[-lookback:].copy() if values.size >= lookback else values.copy()
            for values in arrays
        ]
        return self

    def predict(self, h: int, series=None):
        forecasts = self.forecast(h, level=None, series=series)
        if isinstance(forecasts, dict):
            return {name: fc.mean for name, fc in forecasts.items()}
        return [fc.mean for fc in forecasts]

    def forecast(self, h: int, level=(80, 95), series=None):
        """A :class:`~seqlab.forecast.base.Forecast` per series (a list, or a dict
        matching ``fit``), with split-conformal intervals (see the module docstring)."""
        levels = check_levels(level)
        h = self._check_h(h)
        widths = {lv: self._conformal().half_widths(h, lv) for lv in levels}
        if series is None:
            names, histories, scalers = self.names_, self.data_, self.scalers_
        else:
            names, histories = self._collect(series)
            scalers = [
                make_scaler(self.scaler).fit(self._to_model_space(values)) for values in histories
            ]
        windows = np.stack(
            [
                self._pad(scaler.transform(self._to_model_space(values)), self.lookback)[
                    -self.lookback :
                ]
                for values, scaler in zip(histories, scalers, strict=True)
            ]
        )[:, :, None]  # (S, L, 1)
        scaled = self._forecast_scaled(windows, h)
        out = []
        for row, scaler in zip(scaled, scalers, strict=True):

            def inverse(values: np.ndarray, scaler=scaler) -> np.ndarray:
                return self._from_model_space(scaler.inverse_transform(values))

            out.append(
                Forecast(
                    mean=inverse(row),
                    lower={lv: inverse(row - q) for lv, q in widths.items()},
                    upper={lv: inverse(row + q) for lv, q in widths.items()},
                )
            )
        return dict(zip(names, out, strict=True)) if names else out

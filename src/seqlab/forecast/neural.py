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
column 0 of the inputs). ``GlobalRecurrentForecaster`` fits across many univariate
series (Montero-Manso & Hyndman 2021, "Principles and algorithms for forecasting groups
of time series: Locality and globality"); by default it is an ensemble of networks on
window-normalised values with a seasonal-naive base, median-combined (Oreshkin et al.
2020, "N-BEATS", for the ensemble of lookbacks and losses); its docstring has the
recipe. The paragraphs above and below describe the per-series (``"series"``) path.

The keywords are validated once, at construction, into a frozen :class:`RecurrentConfig`.

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

from seqlab._validation import as_float_series, check_int, check_levels, ordered_series
from seqlab.forecast.base import Forecast, Forecaster, check_features
from seqlab.forecast.conformal import ConformalScores, LevelUnavailableError
from seqlab.forecast.scalers import make_scaler
from seqlab.forecast.windows import make_windows
from seqlab.models import build_model
from seqlab.models.forecaster import EnsembleForecasterConfig, RecurrentForecasterConfig
from seqlab.train import RegressionTask, TrainConfig, Trainer
from seqlab.train.tasks import Task

__all__ = ["GlobalRecurrentForecaster", "RecurrentConfig", "RecurrentForecaster"]

logger = logging.getLogger(__name__)

_MODES = ("direct", "recursive", "seq2seq")


class _WindowBatches:
    """Re-iterable mini-batches of windows, reshuffled each epoch (``set_epoch``)."""

    def __init__(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        shuffle: bool,
        seed: int,
        per_epoch: int | None = None,
    ) -> None:
        self.inputs = torch.from_numpy(inputs.astype(np.float32))
        self.targets = torch.from_numpy(targets.astype(np.float32))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        # ``per_epoch`` windows an epoch when given: a fresh random draw each epoch, every
        # window once before any repeats (so an epoch is a fixed number of steps).
        self.per_epoch = per_epoch if shuffle and per_epoch else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rows(self) -> int:
        return self.inputs.shape[0] if self.per_epoch is None else self.per_epoch

    def __len__(self) -> int:
        return -(-self._rows() // self.batch_size)

    def __iter__(self):
        n = self._rows()
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            total = self.inputs.shape[0]
            rounds = -(-n // total)
            order = torch.cat([torch.randperm(total, generator=generator) for _ in range(rounds)])
            order = order[:n]
        else:
            order = torch.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield {"inputs": self.inputs[rows], "targets": self.targets[rows]}


#: Defaults of a window-normalised global model (``GlobalRecurrentForecaster`` with
#: ``lookback=None``), chosen by validation on the last horizon of each M3 training part
#: (``benchmarks/forecast.py --validate``), never on the M3 test part.
_WINDOW_DEFAULTS: dict[str, Any] = {
    "hidden_size": 32,
    "loss": ("mae", "mase"),
    "refit_full": True,
    "local_level": False,
    "windows_per_epoch": 8192,
    "lookback_factors": (1.5, 2.0, 3.0),
    "patience": 20,
    "lr_schedule": None,
    "plateau_patience": 2,
}
#: The smallest in-window MASE scale (in level units), so a flat window cannot blow up
#: the ``"mase"`` loss.
_MIN_MASE_SCALE = 0.01
#: A window whose level is below this (in units of its series' mean absolute training
#: value) is measured by the whole window's mean absolute value instead, then by 1.
_TINY_LEVEL = 1e-6


class _EnsembleTask(Task):
    """Loss of K members at once: ``output`` (N, K, H) against ``targets`` (N, H).

    The loss is the mean over members of each member's own loss (``"mae"``, ``"mse"``,
    ``"huber"`` or ``"smape"``). Targets and outputs are window-normalised values ``z``
    with ``y = (z + 1) * level``, so ``"smape"`` is ``2|z - zhat| / (|z + 1| + |zhat + 1|)``
    (the denominator floored at 0.1 level units for series near zero). The reported
    ``mae`` is that of the members' median, the ensemble's forecast.
    """

    name = "ensemble_regression"
    metric_names = ("mae",)

    def __init__(self, losses: Sequence[str], season_length: int = 1) -> None:
        self.losses = tuple(losses)
        self.season_length = season_length

    def _mase_scale(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 1, 1) mean absolute lag-m difference of each window's observed values."""
        m = min(self.season_length, inputs.shape[1] - 1)
        values, observed = inputs[..., 0], inputs[..., 1]
        both = observed[:, m:] * observed[:, :-m]
        diffs = (values[:, m:] - values[:, :-m]).abs() * both
        scale = diffs.sum(dim=1) / both.sum(dim=1).clamp_min(1.0)
        return scale.clamp_min(_MIN_MASE_SCALE).view(-1, 1, 1)

    def loss(self, output: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        targets = batch["targets"].unsqueeze(1)  # (N, 1, H)
        total = output.new_zeros(())
        for k, name in enumerate(self.losses):
            pred, actual = output[:, k : k + 1], targets
            error = pred - actual
            if name == "mae":
                total = total + error.abs().mean()
            elif name == "mse":
                total = total + error.square().mean()
            elif name == "huber":
                total = total + torch.nn.functional.huber_loss(pred, actual)
            elif name == "mase":
                total = total + (error.abs() / self._mase_scale(batch["inputs"])).mean()
            else:
                scale = ((actual + 1).abs() + (pred + 1).abs()).clamp_min(0.1)
                total = total + (2 * error.abs() / scale).mean()
        return total / len(self.losses)

    def totals(self, output: Any, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        error = output.median(dim=1).values - batch["targets"]
        return {
            "abs_error": error.abs().sum(),
            "elements": torch.tensor(float(error.numel()), device=error.device),
        }

    def summarize(self, totals: Mapping[str, float], count: int) -> dict[str, float]:
        elements = totals.get("elements", 0.0)
        return {"mae": totals["abs_error"] / elements if elements else float("nan")}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "losses": list(self.losses)}


def _padded(values: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``values`` left-padded to ``length`` with its first value, and the observed mask."""
    missing = max(0, length - values.size)
    mask = np.r_[np.zeros(missing), np.ones(values.size)]
    return np.r_[np.full(missing, values[0]), values], mask


def _divisor(values: np.ndarray) -> float:
    """A series' mean absolute value, or 1 when that is 0 (a series of zeros)."""
    scale = float(np.mean(np.abs(values)))
    return scale if scale > 0 else 1.0


def _window_levels(inputs: np.ndarray, season_length: int) -> np.ndarray:
    """(N, 1) level of each window (N, L): the mean absolute value of its last
    ``min(season_length, L)`` values; below ``_TINY_LEVEL``, of the whole window; then 1."""
    recent = inputs[:, -min(season_length, inputs.shape[1]) :]
    level = np.abs(recent).mean(axis=1, keepdims=True)
    whole = np.abs(inputs).mean(axis=1, keepdims=True)
    level = np.where(level > _TINY_LEVEL, level, whole)
    return np.where(level > _TINY_LEVEL, level, 1.0)


_CELLS = ("rnn", "lstm", "gru")
_SCALERS = ("standard", "minmax")
_LOSSES = ("mse", "mae", "huber", "smape", "mase")
_NORMALIZE = ("window", "series")


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def _check_real(value: Any, name: str, low: float, high: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if not (low <= value and (high is None or value < high)) or value != value:
        bound = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be in {bound}, got {value!r}.")


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


@dataclasses.dataclass(frozen=True)
class RecurrentConfig:
    """The validated, frozen settings of a recurrent forecaster (its constructor's keywords).

    Built once by the forecaster's constructor; every field is checked here, so a bad
    value is a TypeError (wrong type) or ValueError (bad value) naming the field at
    construction, not at ``fit``. The fields mean what the constructor's keywords of the
    same names mean. ``lookback`` and ``loss`` may be lists only for window-normalised
    global models (ensemble members); ``lookback=None`` is resolved at ``fit``.
    """

    cell: str = "lstm"
    mode: str = "direct"
    lookback: int | tuple[int, ...] | None = 20
    horizon: int = 1
    hidden_size: int = 32
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    scaler: str = "standard"
    local_level: bool = True
    log: bool = False
    epochs: int = 100
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.0
    loss: str | tuple[str, ...] = "mse"
    refit_full: bool = False
    patience: int | None = 10
    valid_size: int | float = 0.1
    stride: int = 1
    seed: int = 0
    device: str = "auto"
    season_length: int = 1
    normalize: str = "series"
    n_seeds: int = 1
    windows_per_epoch: int | None = None

    def __post_init__(self) -> None:
        for name, choices in (
            ("cell", _CELLS),
            ("mode", _MODES),
            ("scaler", _SCALERS),
            ("normalize", _NORMALIZE),
        ):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, one of {choices}, got {value!r}.")
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {value!r}.")
        for name, minimum in (
            ("horizon", 1),
            ("hidden_size", 1),
            ("num_layers", 1),
            ("epochs", 1),
            ("batch_size", 1),
            ("stride", 1),
            ("seed", 0),
            ("season_length", 1),
            ("n_seeds", 1),
        ):
            check_int(getattr(self, name), name, minimum=minimum)
        for name in ("patience", "windows_per_epoch"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, minimum=1)
        for name in ("bidirectional", "log", "refit_full"):
            _check_bool(getattr(self, name), name)
        levels = _as_tuple(self.local_level)
        if not levels or (len(levels) > 1 and self.normalize != "window"):
            raise ValueError(
                "local_level must be True or False (a list needs a window-normalised global "
                f"model), got {self.local_level!r}."
            )
        for value in levels:
            _check_bool(value, "local_level")
        _check_real(self.dropout, "dropout", 0.0, 1.0)
        _check_real(self.lr, "lr", 0.0)
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}.")
        _check_real(self.weight_decay, "weight_decay", 0.0)
        if isinstance(self.valid_size, float):
            if not 0.0 <= self.valid_size < 1.0:
                raise ValueError(
                    f"valid_size as a fraction must be in [0, 1), got {self.valid_size}."
                )
        else:
            check_int(self.valid_size, "valid_size", minimum=0)
        if not isinstance(self.device, str):
            raise TypeError(f"device must be a string such as 'cpu', got {self.device!r}.")
        many = self.normalize == "window"
        if self.lookback is not None:
            lookbacks = _as_tuple(self.lookback)
            if not lookbacks or (len(lookbacks) > 1 and not many):
                raise ValueError(
                    "lookback must be one int (a list of ints needs a window-normalised "
                    f"global model), got {self.lookback!r}."
                )
            for value in lookbacks:
                check_int(value, "lookback", minimum=1)
        elif not many:
            raise ValueError("lookback=None (derived from the data) needs normalize='window'.")
        losses = _as_tuple(self.loss)
        if not losses or (len(losses) > 1 and not many):
            raise ValueError(
                "loss must be one name (a list of losses needs a window-normalised global "
                f"model), got {self.loss!r}."
            )
        allowed = _LOSSES if many else _LOSSES[:3]
        for value in losses:
            if not isinstance(value, str) or value not in allowed:
                raise ValueError(f"loss must be one of {allowed}, got {value!r}.")
        if many:
            if self.mode != "direct":
                raise ValueError(f"normalize='window' needs mode='direct', got mode={self.mode!r}.")
            if self.log:
                raise ValueError("log=True needs normalize='series' (window scaling needs no log).")
            if self.bidirectional:
                raise ValueError("normalize='window' members are unidirectional.")

    @property
    def lookbacks(self) -> tuple[int, ...]:
        return tuple(int(v) for v in _as_tuple(self.lookback))

    @property
    def losses(self) -> tuple[str, ...]:
        return _as_tuple(self.loss)


class _RecurrentBase(Forecaster):
    """Hyperparameters, network building, training and window preparation.

    The keywords are kept as attributes (``get_params``) and validated once into the
    frozen :class:`RecurrentConfig` ``config``.
    """

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
        params = dict(locals())
        del params["self"]
        params.pop("__class__", None)
        self._set_params(params, {})

    def _set_params(self, params: dict[str, Any], resolved: dict[str, Any]) -> None:
        """Keep ``params`` as attributes (as given) and validate them (with the
        ``resolved`` values of defaults that depend on other keywords) into ``config``."""
        for name, value in params.items():
            setattr(self, name, value)
        values = {**params, **resolved}
        for name in ("lookback", "loss", "local_level"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        self.config = RecurrentConfig(**values)

    @property
    def label(self) -> str:  # type: ignore[override]
        name = ("bi" if self.config.bidirectional else "") + self.config.cell
        return name if self.config.mode == "direct" else f"{name}-{self.config.mode}"

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-ready, with the defaults that depend on other
        arguments resolved (``type(self)(**get_params())`` rebuilds the same ``config``);
        ``lookback=None`` stays None (it is derived from the data at ``fit``)."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        out = {}
        for name in names:
            value = getattr(self.config, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    # -- checks -----------------------------------------------------------------------
    def _check_params(self) -> None:
        """Nothing left to check: the constructor validated every keyword (``config``)."""

    @property
    def _train_horizon(self) -> int:
        return 1 if self.config.mode == "recursive" else self.config.horizon

    def _valid_rows(self, n: int) -> int:
        size = self.config.valid_size
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
        if not self.config.log:
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
        return np.exp(values) if self.config.log else values

    # -- windows ----------------------------------------------------------------------
    def _level(self, inputs: np.ndarray) -> np.ndarray:
        if not self.config.local_level:
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
            cell=self.config.cell,
            input_size=n_features,
            hidden_size=self.config.hidden_size,
            num_layers=self.config.num_layers,
            dropout=self.config.dropout,
            bidirectional=self.config.bidirectional,
            horizon=self._train_horizon,
            target_index=0,
        )
        name = "seq2seq_forecaster" if self.config.mode == "seq2seq" else "recurrent_forecaster"
        model_config = {"name": name, **asdict(config)}
        return build_model(model_config), model_config

    def _train(
        self, train: tuple, valid: tuple | None, n_features: int, full: tuple | None = None
    ) -> None:
        """Train on ``train`` windows, early-stopping on ``valid``; with ``refit_full``,
        then train a fresh network on ``full`` (every window, the newest included) for
        the best epoch count found."""
        torch.manual_seed(self.config.seed)
        model, model_config = self._network(n_features)
        train_in, train_out, _ = self._shift(*train)
        batches = _WindowBatches(
            train_in, train_out, self.config.batch_size, True, self.config.seed
        )
        valid_batches = None
        if valid is not None:
            valid_in, valid_out, _ = self._shift(*valid)
            valid_batches = _WindowBatches(valid_in, valid_out, 1024, False, self.config.seed)
        config = TrainConfig(
            epochs=self.config.epochs,
            lr=self.config.lr,
            optimizer="adam",
            weight_decay=self.config.weight_decay,
            grad_clip=1.0,
            early_stopping_patience=self.config.patience if valid is not None else None,
            monitor="valid_loss" if valid is not None else "train_loss",
            seed=self.config.seed,
            device=self.config.device,
            # Full precision everywhere: a forecast must not depend on whether "auto"
            # found a GPU (the Trainer's amp="auto" would use bf16 autocast there).
            amp="off",
            progress=False,
        )
        trainer = Trainer(
            model,
            task=RegressionTask(loss=self.config.loss),
            config=config,
            model_config=model_config,
        )
        self.history_ = trainer.fit(batches, valid_batches)
        early_stopped = model
        if self.config.refit_full and valid is not None and full is not None and trainer.best_epoch:
            torch.manual_seed(self.config.seed)
            model, model_config = self._network(n_features)
            full_in, full_out, _ = self._shift(*full)
            batches = _WindowBatches(
                full_in, full_out, self.config.batch_size, True, self.config.seed
            )
            config = dataclasses.replace(
                config,
                epochs=trainer.best_epoch,
                early_stopping_patience=None,
                monitor="train_loss",
            )
            Trainer(
                model,
                task=RegressionTask(loss=self.config.loss),
                config=config,
                model_config=model_config,
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
        steps = self.config.horizon if self.config.mode != "recursive" else max(held)
        windows, actual = [], []
        for values, rows in zip(histories, train_rows, strict=True):
            padded = np.concatenate(
                [np.repeat(values[:1], max(0, self.config.lookback - rows), axis=0), values]
            )
            shift = padded.shape[0] - values.shape[0]
            for origin in range(rows, values.shape[0]):
                end = origin + shift
                windows.append(padded[end - self.config.lookback : end])
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
        if self.config.mode != "recursive":
            if h > self.config.horizon:
                raise ValueError(
                    f"this {self.config.mode} model was trained for horizon "
                    f"{self.config.horizon}; it cannot "
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
    ``h`` steps after the last row given to ``fit`` or ``update``. A ``y`` indexed by
    dates gives forecasts indexed by the dates that follow (``freq=`` where pandas cannot
    infer the step, as for trading days); see :mod:`seqlab.forecast.base`.
    """

    def fit(self, y, X=None, *, freq=None) -> RecurrentForecaster:
        self._remember_dates(y, freq)
        self._check_params()
        values = self._stack(y, X)
        columns = _column_names(y, X, values.shape[1])
        if self.config.mode == "recursive" and values.shape[1] > 1:
            raise ValueError(
                "mode='recursive' forecasts from its own predictions, which needs future "
                "values of every input; with feature columns use mode='direct' or 'seq2seq'."
            )
        n = values.shape[0]
        lookback, horizon = self.config.lookback, self._train_horizon
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
        scaler = make_scaler(self.config.scaler).fit(model_values[:train_rows])
        scaled = scaler.transform(model_values)
        train = make_windows(
            scaled[:train_rows],
            lookback,
            horizon,
            stride=self.config.stride,
            columns=columns,
            name="y",
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
        if self.config.refit_full and valid_rows:
            every = make_windows(
                scaled, lookback, horizon, stride=self.config.stride, columns=columns
            )
            full = (every.inputs, every.targets)
        early = self._train((train.inputs, train.targets), valid, values.shape[1], full)
        self.conformal_ = self._calibrate([scaled], [train_rows], early)
        self.data_ = values[-lookback:].copy()
        return self

    def _stack(self, y, X) -> np.ndarray:
        ordered = ordered_series(y, "y")
        if ordered is not y and X is not None:
            # y came out of date order: its regressors follow it, row for row.
            order = y.index.argsort(kind="stable")
            X = X.iloc[order] if hasattr(X, "iloc") else np.asarray(X)[order]
        y = ordered
        target = as_float_series(y, "y", allow_nan=True)
        features = check_features(X, target.size)
        if features is None:
            return target[:, None]
        return np.column_stack([target, features])

    def update(self, y, X=None) -> RecurrentForecaster:
        """Forecast from the end of ``y`` (and ``X``) from now on, without retraining."""
        self._check_fitted()
        self._remember_dates(y, keep_freq=True)
        values = self._stack(y, X)
        if values.shape[1] != self.n_features_:
            raise ValueError(
                f"the model was fitted on {self.n_features_} input columns (target + "
                f"features), got {values.shape[1]}."
            )
        if values.shape[0] < self.config.lookback:
            raise ValueError(
                f"update needs at least lookback = {self.config.lookback} rows, "
                f"got {values.shape[0]}."
            )
        self.data_ = values[-self.config.lookback :].copy()
        return self

    def predict(self, h: int) -> np.ndarray:
        return self._dated(self.forecast(h, level=None).mean)

    def forecast(self, h: int, level=(80, 95)) -> Forecast:
        """Point forecast and split-conformal intervals (see the module docstring)."""
        levels = check_levels(level)
        h = self._check_h(h)
        if np.isnan(self.data_).any():
            raise ValueError(
                f"the last {self.config.lookback} rows (the window to forecast from) contain NaN; "
                "fill or drop missing values first."
            )
        widths = {lv: self._conformal().half_widths(h, lv) for lv in levels}
        window = self.scaler_.transform(self._to_model_space(self.data_))[None]  # (1, L, F)
        scaled = self._forecast_scaled(window, h)[0]

        def inverse(values: np.ndarray) -> np.ndarray:
            return self._from_model_space(self.scaler_.column(0).inverse_transform(values))

        return self._dated(
            Forecast(
                mean=inverse(scaled),
                lower={lv: inverse(scaled - q) for lv, q in widths.items()},
                upper={lv: inverse(scaled + q) for lv, q in widths.items()},
            )
        )

    def _origin_forecasts(self, y, origins: np.ndarray, h: int) -> np.ndarray:
        """Forecasts (K, h), in the units of ``y``, from the first ``o`` rows of ``y``
        for each origin ``o`` (univariate models; used by the hybrid's calibration)."""
        self._check_fitted()
        values = self._to_model_space(as_float_series(y, "y", allow_nan=True)[:, None])
        scaled = self.scaler_.transform(values)
        windows = np.stack([scaled[o - self.config.lookback : o] for o in origins])  # (K, L, 1)
        out = self._forecast_scaled(windows, h)
        flat = self.scaler_.column(0).inverse_transform(out.reshape(-1))
        return self._from_model_space(flat).reshape(out.shape)


class GlobalRecurrentForecaster(_RecurrentBase):
    """Recurrent networks trained across many univariate series.

    ``fit(series)``: a list of 1-D series or a dict name -> series. The last
    ``valid_size`` rows of each series (default: one horizon) form the validation
    windows that early stopping watches. ``predict(h)`` returns a list (or dict,
    matching ``fit``) of forecasts, one per series; ``predict(h, series=...)``
    forecasts other series with the same networks, each normalised by its own history.

    Two ways of normalising, chosen by ``normalize`` (default: ``"window"`` when
    ``lookback`` is left at None, else ``"series"``):

    ``"window"`` (the default recipe; ``GlobalRecurrentForecaster(horizon=h,
    season_length=m)`` sets nothing else)
        Each window and its targets are divided by the window's level, the mean absolute
        value of its last ``min(m, L)`` inputs (the whole window's when that is 0, then
        1), and shifted by 1: ``z = y / level - 1``. This needs no positive values or log,
        and is the same for a series at any scale, so zeros, negatives, intermittent
        series and levels from 1e-3 to 1e9 go through one network. The inputs are
        ``[z, observed]``; a series shorter than the window is left-padded with its first
        value, ``observed`` = 0 there. The model is an ensemble (``EnsembleForecastNet``)
        of members for every ``lookback x loss x local_level x seed``: with ``lookback=None`` the
        lookbacks are ``round(c * max(h, m))`` for c in (1.5, 2, 3), capped at the
        longest training series (:meth:`lookbacks_for`), so each member sees at least one
        season; the default losses are ``"mae"`` and ``"mase"`` (see ``_EnsembleTask``);
        ``n_seeds`` repeats each with other initial weights. ``local_level`` (default
        False here; a list such as ``[True, False]`` gives a member for each) says whether
        a member predicts a correction to the seasonal-naive forecast read from its
        window (the last value when ``m`` is 1) or the normalised values themselves.
        All members train together in one pass over the same batches, and the forecast
        is the members' median. An epoch is
        ``windows_per_epoch`` windows drawn at random (each window once before any
        repeats), so its cost does not grow with the number of series; early stopping
        on the hold-out sets the epochs (``patience="auto"`` is 20 epochs here, 10 for
        ``"series"``: one hold-out window per series is a noisy signal, and stopping
        early under-trains), and with ``refit_full`` (default True here) a
        fresh ensemble then trains that many epochs on every window. A series too short
        to lend a hold-out trains on all its rows and validates nothing; a series that is
        zero throughout is forecast as zero. Intervals are split-conformal over the
        hold-out origins, in ``z`` units, mapped back by each forecast's own level.
        It saves and loads like every forecaster (:func:`seqlab.forecast.save` /
        :func:`~seqlab.forecast.load`).
    ``"series"``
        One network with one ``lookback`` (required); each series is scaled by its own
        ``scaler`` fitted on its training rows (after ``log`` when set), windows are
        shifted by their last value with ``local_level``, and series shorter than a
        window are left-padded with their first value.
    """

    #: One model for every series: ``Forecasts`` fits it to all series at once.
    is_global = True

    def __init__(
        self,
        cell: str | None = None,
        mode: str = "direct",
        lookback: int | list[int] | None = None,
        horizon: int = 1,
        *,
        season_length: int = 1,
        normalize: str | None = None,
        hidden_size: int | None = None,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        scaler: str = "standard",
        local_level: bool | None = None,
        log: bool = False,
        epochs: int = 100,
        batch_size: int = 256,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        loss: str | list[str] | None = None,
        n_seeds: int = 1,
        windows_per_epoch: int | None = None,
        refit_full: bool | None = None,
        patience: int | str | None = "auto",
        valid_size: int | float | None = None,
        stride: int = 1,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        params = dict(locals())
        del params["self"]
        params.pop("__class__", None)
        if normalize is None:
            series_only = (
                lookback is not None
                or log
                or mode != "direct"
                or bidirectional
                or scaler != "standard"
            )
            normalize = "series" if series_only else "window"
        window = normalize == "window"
        defaults = {
            "cell": "gru" if window else "lstm",
            "hidden_size": _WINDOW_DEFAULTS["hidden_size"] if window else 32,
            "loss": list(_WINDOW_DEFAULTS["loss"]) if window else "mse",
            "refit_full": _WINDOW_DEFAULTS["refit_full"] if window else False,
            "local_level": _WINDOW_DEFAULTS["local_level"] if window else True,
            "windows_per_epoch": _WINDOW_DEFAULTS["windows_per_epoch"] if window else None,
            "valid_size": horizon,
        }
        resolved = {name: value for name, value in defaults.items() if params[name] is None}
        if params["patience"] == "auto":
            resolved["patience"] = _WINDOW_DEFAULTS["patience"] if window else 10
        resolved["normalize"] = normalize
        self._set_params(params, resolved)

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v is not None)
        return f"{type(self).__name__}({given})"

    @property
    def scalers_(self) -> list:
        """The per-series scalers of a series-normalised model (``normalize="series"``).

        Raises
        ------
        ValueError
            For a window-normalised model, which has none (its state is ``scales_``,
            ``lookbacks_`` and the ensemble network).
        """
        if self.config.normalize == "window":
            raise ValueError(
                "a window-normalised GlobalRecurrentForecaster (the default ensemble, "
                "lookback=None) has no per-series scalers; its state is scales_, lookbacks_ "
                "and the ensemble network."
            )
        return self._series_scalers

    @scalers_.setter
    def scalers_(self, value: list) -> None:
        self._series_scalers = value

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
        if self.config.normalize == "window":
            return self._fit_window(names, arrays)
        lookback, horizon = self.config.lookback, self._train_horizon
        train_in, train_out, valid_in, valid_out, scalers = [], [], [], [], []
        full_in, full_out, train_sizes = [], [], []
        for i, values in enumerate(arrays):
            label = names[i] if names else f"series[{i}]"
            valid_rows = (
                self._valid_rows(values.size)
                if isinstance(self.config.valid_size, float)
                else check_int(self.config.valid_size, "valid_size", minimum=0)
            )
            train_rows = values.size - valid_rows
            train_sizes.append(train_rows)
            if train_rows < 2:
                raise ValueError(
                    f"{label} has {values.size} observations; with {valid_rows} held out for "
                    "validation fewer than 2 remain to train on."
                )
            model_values = self._to_model_space(values, label)
            scaler = make_scaler(self.config.scaler).fit(model_values[:train_rows])
            scaled = scaler.transform(model_values)
            scalers.append(scaler)
            train_part = self._pad(scaled[:train_rows], lookback + horizon)
            windows = make_windows(train_part, lookback, horizon, stride=self.config.stride)
            train_in.append(windows.inputs)
            train_out.append(windows.targets)
            if self.config.refit_full:
                windows = make_windows(
                    self._pad(scaled, lookback + horizon),
                    lookback,
                    horizon,
                    stride=self.config.stride,
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
        if self.config.normalize == "window":
            return self._forecast_window(h, widths, series)
        if series is None:
            names, histories, scalers = self.names_, self.data_, self.scalers_
        else:
            names, histories = self._collect(series)
            scalers = [
                make_scaler(self.config.scaler).fit(self._to_model_space(values))
                for values in histories
            ]
        windows = np.stack(
            [
                self._pad(scaler.transform(self._to_model_space(values)), self.config.lookback)[
                    -self.config.lookback :
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

    # -- window normalisation and ensembles ---------------------------------------------
    def lookbacks_for(self, longest: int) -> tuple[int, ...]:
        """The members' lookbacks for training series of at most ``longest`` rows.

        An explicit ``lookback`` is used as given. With ``lookback=None`` each factor
        ``c`` in (1.5, 2, 3) gives ``round(c * max(horizon, season_length))`` steps (so
        every member sees at least one season and more than one horizon), capped at
        ``longest`` (longer windows would hold only padding), duplicates dropped.
        """
        config = self.config
        if config.lookback is not None:
            return config.lookbacks
        base = max(config.horizon, config.season_length)
        chosen = []
        for factor in _WINDOW_DEFAULTS["lookback_factors"]:
            value = max(1, min(round(factor * base), longest))
            if value not in chosen:
                chosen.append(value)
        return tuple(chosen)

    def _normalise(
        self, raw: np.ndarray, mask: np.ndarray, targets: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Raw windows (N, L) with masks -> network inputs (N, L, 2) ``[z, observed]``,
        targets ``z`` (N, H) and the levels (N, 1), with ``z = y / level - 1``."""
        level = _window_levels(raw, self.config.season_length)
        inputs = np.stack([raw / level - 1.0, mask], axis=-1)
        return inputs, (None if targets is None else targets / level - 1.0), level

    def _window_arrays(self, values: np.ndarray, length: int, horizon: int, stride: int):
        """Every window (inputs ``length`` rows, ``horizon`` targets) over ``values``
        left-padded to ``length + horizon`` rows: raw inputs, masks and targets."""
        padded, mask = _padded(values, length + horizon)
        starts = np.arange(padded.size - length - horizon, -1, -stride)[::-1]
        index = starts[:, None] + np.arange(length)
        targets = padded[starts[:, None] + length + np.arange(horizon)]
        return padded[index], mask[index], targets

    def _ensemble_network(self, lookbacks: tuple[int, ...]):
        config = self.config
        plan = [
            (lookback, base)
            for lookback in lookbacks
            for _loss in config.losses
            for base in _as_tuple(config.local_level)
            for _seed in range(config.n_seeds)
        ]
        members = tuple(lookback for lookback, _ in plan)
        net_config = EnsembleForecasterConfig(
            cell=config.cell,
            input_size=2,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout,
            horizon=config.horizon,
            season_length=config.season_length,
            lookbacks=members,
            member_bases=tuple(base for _, base in plan),
        )
        model_config = {"name": "ensemble_forecaster", **asdict(net_config)}
        model_config["lookbacks"] = list(members)
        model_config["member_bases"] = [base for _, base in plan]
        return build_model(model_config), model_config

    @property
    def member_losses(self) -> tuple[str, ...]:
        """The loss of each ensemble member, in the network's member order."""
        config = self.config
        lookbacks = self.lookbacks_ if hasattr(self, "lookbacks_") else (None,)
        return tuple(
            loss
            for _lb in lookbacks
            for loss in config.losses
            for _base in _as_tuple(config.local_level)
            for _seed in range(config.n_seeds)
        )

    def _fit_window(self, names, arrays) -> GlobalRecurrentForecaster:
        config = self.config
        horizon, stride = config.horizon, config.stride
        scales, train_sizes, short = [], [], []
        for i, values in enumerate(arrays):
            valid_rows = self._valid_rows(values.size)
            if values.size - valid_rows < 2:
                # Too short to lend a hold-out: it trains on every row and validates nothing.
                short.append(f"{names[i] if names else f'series[{i}]'} ({values.size} rows)")
                valid_rows = 0
            train_rows = values.size - valid_rows
            train_sizes.append(train_rows)
            scales.append(_divisor(values[:train_rows]))
        if short:
            more = f" and {len(short) - 5} more" if len(short) > 5 else ""
            logger.info(
                "%d series too short for a hold-out train on every row and validate nothing: %s%s",
                len(short),
                ", ".join(short[:5]),
                more,
            )
        self.lookbacks_ = self.lookbacks_for(max(train_sizes))
        length = max(self.lookbacks_)
        parts: dict[str, list] = {key: [] for key in ("train", "valid", "full")}
        for values, rows, scale in zip(arrays, train_sizes, scales, strict=True):
            x = values / scale
            parts["train"].append(self._window_arrays(x[:rows], length, horizon, stride))
            if rows < x.size and x.size - rows >= horizon:
                held, held_mask, held_targets = self._window_arrays(x, length, horizon, 1)
                keep = x.size - rows - horizon + 1  # windows whose targets are all held out
                parts["valid"].append((held[-keep:], held_mask[-keep:], held_targets[-keep:]))
            if config.refit_full:
                parts["full"].append(self._window_arrays(x, length, horizon, stride))

        def stacked(key: str):
            if not parts[key]:
                return None
            raw, mask, targets = (
                np.concatenate(column) for column in zip(*parts[key], strict=True)
            )
            inputs, targets, _ = self._normalise(raw, mask, targets)
            return inputs, targets

        train, valid, full = stacked("train"), stacked("valid"), stacked("full")
        self.names_ = names
        self.scales_ = [float(np.mean(np.abs(values))) for values in arrays]
        self.n_features_ = 1
        early = self._train_ensemble(train, valid, full)
        self.conformal_ = self._calibrate_window(arrays, train_sizes, scales, early)
        self.data_ = [values[-length:].copy() for values in arrays]
        return self

    def _train_ensemble(self, train: tuple, valid: tuple | None, full: tuple | None):
        config = self.config
        task = _EnsembleTask(self.member_losses, config.season_length)
        torch.manual_seed(config.seed)
        model, model_config = self._ensemble_network(self.lookbacks_)
        batches = _WindowBatches(
            *train, config.batch_size, True, config.seed, config.windows_per_epoch
        )
        valid_batches = None if valid is None else _WindowBatches(*valid, 4096, False, config.seed)
        train_config = TrainConfig(
            epochs=config.epochs,
            lr=config.lr,
            optimizer="adam",
            weight_decay=config.weight_decay,
            grad_clip=1.0,
            early_stopping_patience=config.patience if valid is not None else None,
            monitor="valid_loss" if valid is not None else "train_loss",
            seed=config.seed,
            device=config.device,
            amp="off",
            progress=False,
            lr_schedule=_WINDOW_DEFAULTS["lr_schedule"] if valid is not None else None,
            plateau_patience=_WINDOW_DEFAULTS["plateau_patience"],
        )
        trainer = Trainer(model, task=task, config=train_config, model_config=model_config)
        self.history_ = trainer.fit(batches, valid_batches)
        early = model
        if config.refit_full and valid is not None and full is not None and trainer.best_epoch:
            # A fresh ensemble on every window, for the chosen epochs at the learning
            # rates the early-stopped run used in them (one constant-rate stage each).
            torch.manual_seed(config.seed)
            model, model_config = self._ensemble_network(self.lookbacks_)
            rates = [row.get("lr", config.lr) for row in self.history_[: trainer.best_epoch]]
            stages: list[list] = []
            for rate in rates:
                if stages and stages[-1][0] == rate:
                    stages[-1][1] += 1
                else:
                    stages.append([rate, 1])
            for index, (rate, epochs) in enumerate(stages):
                batches = _WindowBatches(
                    *full, config.batch_size, True, config.seed + index, config.windows_per_epoch
                )
                refit = dataclasses.replace(
                    train_config,
                    lr=float(rate),
                    epochs=epochs,
                    early_stopping_patience=None,
                    monitor="train_loss",
                    lr_schedule=None,
                )
                Trainer(model, task=task, config=refit, model_config=model_config).fit(batches)
        early.to("cpu").eval()
        model.to("cpu").eval()
        self.model_ = model
        self.model_config_ = model_config
        self.best_epoch_ = trainer.best_epoch
        logger.info(
            "ensemble of %d members (lookbacks %s): %d epochs, best %s",
            len(model_config["lookbacks"]),
            self.lookbacks_,
            len(self.history_),
            trainer.best_epoch,
        )
        return early

    def _members_z(self, inputs: np.ndarray, model=None) -> np.ndarray:
        """Every member's normalised forecast (N, K, H) for network inputs (N, L, 2)."""
        network = self.model_ if model is None else model
        out = []
        with torch.no_grad():
            for start in range(0, inputs.shape[0], 4096):
                chunk = torch.from_numpy(inputs[start : start + 4096].astype(np.float32))
                out.append(network(chunk).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0, self.config.horizon))

    def _last_windows(self, histories: list[np.ndarray], scales: list[float]):
        length = max(self.lookbacks_)
        pairs = [
            _padded((values / (scale if scale > 0 else 1.0))[-length:], length)
            for values, scale in zip(histories, scales, strict=True)
        ]
        raw = np.stack([pair[0] for pair in pairs])
        mask = np.stack([pair[1] for pair in pairs])
        return self._normalise(raw, mask, None)

    def _calibrate_window(self, arrays, train_sizes, scales, model) -> ConformalScores | None:
        """Conformal scores, in ``z`` units, of the median of ``model``'s members from
        every origin in each series' validation hold-out."""
        horizon, length = self.config.horizon, max(self.lookbacks_)
        raw, mask, actual = [], [], []
        for values, rows, scale in zip(arrays, train_sizes, scales, strict=True):
            x = values / scale
            for origin in range(rows, x.size):
                window, observed = _padded(x[max(0, origin - length) : origin], length)
                raw.append(window)
                mask.append(observed)
                target = np.full(horizon, np.nan)
                future = x[origin : origin + horizon]
                target[: future.size] = future
                actual.append(target)
        if not raw:
            return None
        inputs, targets, _ = self._normalise(np.stack(raw), np.stack(mask), np.stack(actual))
        forecast = np.median(self._members_z(inputs, model), axis=1)
        held = [a.size - r for a, r in zip(arrays, train_sizes, strict=True)]
        rows_held = f"{min(held)}" if min(held) == max(held) else f"{min(held)}-{max(held)}"
        return ConformalScores.from_forecasts(
            targets,
            forecast,
            source=f"{len(raw)} origins in the {rows_held}-row validation hold-out"
            + (f" of {len(arrays)} series" if len(arrays) > 1 else ""),
            remedy="Raise valid_size (each extra hold-out row adds an origin), or leave level out.",
        )

    def member_forecasts(self, h: int, series=None) -> np.ndarray:
        """Every ensemble member's point forecast, (S, K, h) in the units of the series
        (window-normalised models only)."""
        h = self._check_h(h)
        if self.config.normalize != "window":
            raise ValueError("member_forecasts needs a window-normalised (ensemble) model.")
        if h > self.config.horizon:
            raise ValueError(
                f"this model was trained for horizon {self.config.horizon}; it cannot "
                f"forecast h={h} steps. Refit with horizon >= {h}."
            )
        histories, scales = self._histories(series)[1:]
        inputs, _, level = self._last_windows(histories, scales)
        z = self._members_z(inputs)[:, :, :h]
        return (z + 1.0) * self._units(histories, scales, level)[:, :, None]

    @staticmethod
    def _units(histories, scales, level: np.ndarray) -> np.ndarray:
        """(S, 1) factors mapping ``z + 1`` to forecasts: window level times series
        scale (its mean absolute value; 0 for a series that is zero throughout, which
        is forecast as zero)."""
        return level * np.asarray(scales)[:, None]

    def _histories(self, series):
        if series is None:
            return self.names_, self.data_, self.scales_
        names, histories = self._collect(series)
        return names, histories, [float(np.mean(np.abs(values))) for values in histories]

    def _forecast_window(self, h: int, widths: dict, series):
        if h > self.config.horizon:
            raise ValueError(
                f"this direct model was trained for horizon {self.config.horizon}; it cannot "
                f"forecast h={h} steps. Refit with horizon >= {h}."
            )
        names, histories, scales = self._histories(series)
        inputs, _, level = self._last_windows(histories, scales)
        z = np.median(self._members_z(inputs), axis=1)[:, :h]  # (S, h)
        unit = self._units(histories, scales, level)  # (S, 1): y = (z + 1) * unit
        out = []
        for row, factor in zip(z, unit, strict=True):
            out.append(
                Forecast(
                    mean=(row + 1.0) * factor,
                    lower={lv: (row - q + 1.0) * factor for lv, q in widths.items()},
                    upper={lv: (row + q + 1.0) * factor for lv, q in widths.items()},
                )
            )
        return dict(zip(names, out, strict=True)) if names else out

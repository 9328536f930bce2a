"""Column-wise scalers fitted on the training part only, with exact inverses.

``StandardScaler``: ``z = (x - mean) / std`` (population std, ddof=0).
``MinMaxScaler``: ``z = (x - min) / (max - min) * (hi - lo) + lo``.

A column that is constant in the training part gets scale 1 (so the transform is a
shift and stays invertible) instead of a division by zero. ``state_dict()`` returns
plain JSON-ready numbers; ``scaler_from_state`` rebuilds the scaler exactly, so a saved
run folder transforms new data the same way as at fit time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MinMaxScaler", "StandardScaler", "make_scaler", "scaler_from_state"]


def _as_2d(values, name: str = "values") -> tuple[np.ndarray, bool]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array[:, None], True
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (rows = time), got shape {array.shape}.")
    return array, False


class _Scaler:
    """Shared fit/transform/inverse logic: ``z = (x - offset_) / scale_``."""

    kind = ""

    offset_: np.ndarray
    scale_: np.ndarray

    def _fit_params(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, values) -> _Scaler:
        """Learn per-column parameters from ``values`` (rows = time); NaN are ignored."""
        x, _ = _as_2d(values)
        if x.shape[0] == 0:
            raise ValueError("cannot fit a scaler on zero rows.")
        if np.isnan(x).all(axis=0).any():
            col = int(np.flatnonzero(np.isnan(x).all(axis=0))[0])
            raise ValueError(f"column {col} is all NaN in the training part; cannot scale it.")
        offset, scale = self._fit_params(x)
        # A constant training column has no spread; scale 1 keeps the map invertible.
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.offset_ = offset
        self.scale_ = scale
        return self

    def _check_fitted(self, x: np.ndarray) -> None:
        if not hasattr(self, "scale_"):
            raise ValueError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")
        if x.shape[1] != self.scale_.shape[0]:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self.scale_.shape[0]} columns, "
                f"got {x.shape[1]}."
            )

    def transform(self, values) -> np.ndarray:
        x, flat = _as_2d(values)
        self._check_fitted(x)
        z = (x - self.offset_) / self.scale_
        return z[:, 0] if flat else z

    def inverse_transform(self, values) -> np.ndarray:
        z, flat = _as_2d(values)
        self._check_fitted(z)
        x = z * self.scale_ + self.offset_
        return x[:, 0] if flat else x

    def fit_transform(self, values) -> np.ndarray:
        return self.fit(values).transform(values)

    def column(self, index: int) -> _Scaler:
        """A one-column scaler with column ``index``'s parameters (e.g. the target's)."""
        single = type(self).__new__(type(self))
        single.__dict__.update(self.__dict__)
        single.offset_ = self.offset_[index : index + 1].copy()
        single.scale_ = self.scale_[index : index + 1].copy()
        return single

    def state_dict(self) -> dict[str, Any]:
        if not hasattr(self, "scale_"):
            raise ValueError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")
        return {
            "kind": self.kind,
            "params": self._hyper(),
            "offset": self.offset_.tolist(),
            "scale": self.scale_.tolist(),
        }

    def _hyper(self) -> dict[str, Any]:
        return {}


class StandardScaler(_Scaler):
    """``z = (x - mean) / std`` per column (population std)."""

    kind = "standard"

    def _fit_params(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.nanmean(x, axis=0), np.nanstd(x, axis=0)


class MinMaxScaler(_Scaler):
    """``z = (x - min) / (max - min) * (hi - lo) + lo`` per column."""

    kind = "minmax"

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        self.feature_range = feature_range

    def _fit_params(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = (float(v) for v in self.feature_range)
        if not hi > lo:
            raise ValueError(f"feature_range must be (low, high) with low < high, got {(lo, hi)}.")
        x_min, x_max = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        scale = (x_max - x_min) / (hi - lo)
        # z = (x - offset) / scale with offset = min - lo * scale.
        safe = np.where(scale > 0, scale, 1.0)
        return x_min - lo * safe, scale

    def _hyper(self) -> dict[str, Any]:
        return {"feature_range": [float(v) for v in self.feature_range]}


_KINDS = {"standard": StandardScaler, "minmax": MinMaxScaler}


def make_scaler(kind: str) -> _Scaler:
    """A new unfitted scaler: ``"standard"`` or ``"minmax"``."""
    if kind not in _KINDS:
        raise ValueError(f"scaler must be one of {sorted(_KINDS)}, got {kind!r}.")
    return _KINDS[kind]()


def scaler_from_state(state: dict[str, Any], where: str = "scaler state") -> _Scaler:
    """Rebuild a fitted scaler from :meth:`state_dict` output, checked.

    ``state`` must hold ``kind`` (``"standard"`` or ``"minmax"``), ``params`` (the
    ``feature_range`` of a min-max scaler), and ``offset`` and ``scale`` as equally long
    lists of finite numbers, every scale > 0 (a scale of 0 would turn every forecast
    into NaN or inf). Anything else is a ValueError that starts with ``where``.
    """
    if not isinstance(state, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(state).__name__}.")
    unknown = sorted(str(k) for k in set(state) - {"kind", "params", "offset", "scale"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}.")
    kind = state.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"{where}: kind must be one of {sorted(_KINDS)}, got {kind!r}.")
    params = state.get("params", {})
    if not isinstance(params, dict) or set(params) - {"feature_range"}:
        raise ValueError(f"{where}: params must be {{}} or {{'feature_range': [lo, hi]}}.")
    if kind == "standard" and params:
        raise ValueError(f"{where}: a standard scaler takes no params, got {params!r}.")
    if "feature_range" in params:
        bounds = _finite_list(params["feature_range"], f"{where}: params.feature_range")
        if len(bounds) != 2 or not bounds[1] > bounds[0]:
            raise ValueError(f"{where}: params.feature_range must be [low, high] with low < high.")
        params = {"feature_range": (bounds[0], bounds[1])}
    offset = _finite_list(state.get("offset"), f"{where}: offset")
    scale = _finite_list(state.get("scale"), f"{where}: scale")
    if not offset or len(offset) != len(scale):
        raise ValueError(
            f"{where}: offset and scale must be non-empty and equally long, got "
            f"{len(offset)} and {len(scale)} values."
        )
    if not all(v > 0 for v in scale):
        bad = next(v for v in scale if not v > 0)
        raise ValueError(f"{where}: every scale must be > 0, got {bad!r}.")
    scaler = _KINDS[kind](**params)
    scaler.offset_ = np.asarray(offset, dtype=np.float64)
    scaler.scale_ = np.asarray(scale, dtype=np.float64)
    return scaler


def _finite_list(value: Any, where: str) -> list[float]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of numbers, got {type(value).__name__}.")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(f"{where}[{i}]: expected a finite number, got {v!r}.")
        out.append(float(v))
    return out

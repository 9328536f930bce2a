"""Every figure seqlab draws. Matplotlib with the Agg backend: files, never windows.

Each function takes plain data (arrays, Series, dicts), draws one figure, writes it
atomically as PNG to ``path`` and returns the path. Nothing here computes statistics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from seqlab.io import atomic_write


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _x(values, start: int = 0):
    index = getattr(values, "index", None)
    return index if index is not None else np.arange(start, start + len(values))


def plot_forecast(
    history,
    mean,
    path: str | os.PathLike,
    *,
    intervals: Mapping[int | float, tuple[Sequence[float], Sequence[float]]] | None = None,
    actual=None,
    title: str = "Forecast",
    ylabel: str = "",
) -> Path:
    """History, point forecast, shaded prediction intervals and (optionally) actuals.

    ``intervals`` maps a level (e.g. 80, 95) to ``(lower, upper)`` arrays aligned with
    ``mean``. pandas inputs keep their index on the x axis; numpy inputs are plotted on
    0..n-1 for history and n..n+h-1 for the forecast.
    """
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.plot(_x(history), np.asarray(history, dtype=float), color="black", lw=1.2, label="history")
    x_fc = _x(mean, start=len(history))
    if intervals:
        for i, level in enumerate(sorted(intervals, reverse=True)):
            lower, upper = intervals[level]
            ax.fill_between(
                x_fc,
                np.asarray(lower, float),
                np.asarray(upper, float),
                color="tab:blue",
                alpha=0.15 + 0.15 * i,
                lw=0,
                label=f"{level:g}% interval",
            )
    ax.plot(x_fc, np.asarray(mean, dtype=float), color="tab:blue", lw=1.6, label="forecast")
    if actual is not None:
        ax.plot(
            _x(actual, start=len(history)),
            np.asarray(actual, float),
            color="tab:red",
            lw=1.2,
            ls="--",
            label="actual",
        )
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _epoch_ticks(ax, epochs: int) -> None:
    """Whole-number epoch ticks; one epoch gets the single tick 1, not 0.96 to 1.04."""
    from matplotlib.ticker import MaxNLocator

    if epochs <= 1:
        ax.set_xticks([1])
        ax.set_xlim(0.5, 1.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_history(
    history: Mapping[str, Sequence[float]], path: str | os.PathLike, *, title: str = "Training"
) -> Path:
    """Training curves: one panel per metric (loss, accuracy, ...), train vs valid.

    ``history`` maps column names such as ``train_loss``, ``valid_loss``,
    ``train_accuracy`` to per-epoch values; columns sharing a suffix share a panel.
    """
    metrics: dict[str, list[str]] = {}
    for key in history:
        if key in ("epoch", "seconds", "lr", "tokens_per_s"):
            continue
        metric = key.split("_", 1)[1] if "_" in key else key
        metrics.setdefault(metric, []).append(key)
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(4.5 * max(len(metrics), 1), 3.6))
    axes = np.atleast_1d(axes)
    for ax, (metric, keys) in zip(axes, metrics.items(), strict=False):
        for key in keys:
            values = np.asarray(history[key], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=key.split("_")[0])
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        _epoch_ticks(ax, max(len(history[key]) for key in keys))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    fig.suptitle(title)
    return _save(fig, path)


def plot_correlogram(
    acf_values, pacf_values, band: float, path: str | os.PathLike, *, title: str = ""
) -> Path:
    """ACF and PACF stems (lag 1 onwards) with a +-band significance line."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, values, name in ((axes[0], acf_values, "ACF"), (axes[1], pacf_values, "PACF")):
        values = np.asarray(values, dtype=float)[1:]
        lags = np.arange(1, len(values) + 1)
        ax.vlines(lags, 0, values, color="tab:blue")
        ax.axhline(0, color="black", lw=0.8)
        ax.axhline(band, color="tab:red", ls="--", lw=0.8)
        ax.axhline(-band, color="tab:red", ls="--", lw=0.8)
        ax.set_title(f"{name} {title}".strip())
        ax.set_xlabel("lag")
    return _save(fig, path)


def plot_series(
    series: Mapping[str, Sequence[float]], path: str | os.PathLike, *, title: str = "", index=None
) -> Path:
    """Several aligned lines on one axis (e.g. a series with its rolling mean and sd)."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for name, values in series.items():
        x = index if index is not None else _x(values)
        ax.plot(x, np.asarray(values, dtype=float), lw=1.2, label=name)
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return _save(fig, path)

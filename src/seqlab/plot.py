"""Every figure seqlab draws, for notebooks and files alike.

Each ``plot_*`` function takes plain data (arrays, Series, dicts) and draws one figure.
Given ``ax=`` (an Axes, or a sequence of Axes for the functions that draw several
panels) it draws into it and returns that axes' Figure; otherwise it makes a figure of
its own. It writes a PNG only when given ``path`` (atomically, parent folders made);
a figure it made itself and saved is closed after saving, so that a loop drawing
thousands of files keeps no figures open. Nothing here picks the matplotlib backend:
notebooks keep their inline figures, and the ``seqlab`` command picks Agg.
Nothing here computes statistics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from seqlab.io import atomic_write

__all__ = ["plot_backtest", "plot_correlogram", "plot_forecast", "plot_history", "plot_series"]


def _axes(ax, panels: int, figsize: tuple[float, float]) -> tuple[Figure, list[Axes], bool]:
    """``(figure, axes, owned)``: the caller's ``panels`` axes, or a new figure's."""
    if ax is None:
        fig, axes = plt.subplots(1, panels, figsize=figsize)
        return fig, list(np.atleast_1d(axes)), True
    given = [ax] if isinstance(ax, Axes) else ax
    if isinstance(given, np.ndarray):
        given = list(given.ravel())
    if not isinstance(given, Sequence) or not all(isinstance(a, Axes) for a in given):
        raise TypeError(
            f"ax must be a matplotlib Axes or a sequence of Axes, got {type(ax).__name__}."
        )
    if len(given) != panels:
        raise ValueError(f"this figure has {panels} panel(s); ax holds {len(given)} Axes.")
    return given[0].figure, list(given), False


def _finish(fig: Figure, path: str | os.PathLike | None, owned: bool) -> Figure:
    """Write ``fig`` to ``path`` as PNG when a path is given; close it if we made it."""
    if path is not None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}.")
        with atomic_write(Path(path), "wb") as handle:
            fig.savefig(handle, format="png", dpi=110, bbox_inches="tight")
        if owned:
            plt.close(fig)
    return fig


def _shade(ax: Axes, x, intervals: Mapping, colour: str, alpha: float, label) -> None:
    """Shade each of ``intervals`` (level to ``(lower, upper)``) over ``x``, the widest
    first and palest: the i-th is drawn at opacity ``alpha * (i + 1)``, labelled
    ``label(level)`` (None leaves it out of the legend)."""
    for i, level in enumerate(sorted(intervals, reverse=True)):
        lower, upper = intervals[level]
        ax.fill_between(
            x,
            np.asarray(lower, float),
            np.asarray(upper, float),
            color=colour,
            alpha=alpha + alpha * i,
            lw=0,
            label=label(level),
        )


def _label(ax: Axes, title: str, ylabel: str, **legend) -> None:
    """Title, y label, a frameless legend at the upper left (``legend``: more of its
    options) and a light grid: the finish of a one-panel forecast figure."""
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", frameon=False, **legend)
    ax.grid(alpha=0.3)


def _date_ticks(ax: Axes, x) -> None:
    """Short, non-overlapping date labels when the x axis holds dates."""
    if isinstance(x, pd.DatetimeIndex):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _x(values, start: int = 0):
    """A pandas object's index; ``start .. start + n - 1`` for anything else."""
    index = getattr(values, "index", None)
    if isinstance(values, pd.Series | pd.DataFrame) and index is not None:
        return index
    return np.arange(start, start + len(values))


def plot_forecast(
    history,
    mean,
    path: str | os.PathLike | None = None,
    *,
    intervals: Mapping[int | float, tuple[Sequence[float], Sequence[float]]] | None = None,
    actual=None,
    title: str = "Forecast",
    ylabel: str = "",
    ax: Axes | None = None,
) -> Figure:
    """History, point forecast, shaded prediction intervals and (optionally) actuals.

    Parameters
    ----------
    history, mean : array-like or pandas.Series
        The observed series and the point forecast. pandas inputs keep their index on
        the x axis; numpy inputs are plotted on 0..n-1 for history and n..n+h-1 for
        the forecast (and for ``actual``).
    path : str or os.PathLike, optional
        Where to write the PNG; nothing is written without it.
    intervals : mapping, optional
        Level (e.g. 80, 95) to ``(lower, upper)`` arrays aligned with ``mean``.
    actual : array-like or pandas.Series, optional
        Observed values over the forecast period, drawn dashed.
    title, ylabel : str
        Axes title and y label.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; by default a new figure is made.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (closed already when it was made here and saved).
    """
    fig, (ax,), owned = _axes(ax, 1, (9, 4.2))
    ax.plot(_x(history), np.asarray(history, dtype=float), color="black", lw=1.2, label="history")
    x_fc = _x(mean, start=len(history))
    if intervals:
        _shade(ax, x_fc, intervals, "tab:blue", 0.15, lambda level: f"{level:g}% interval")
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
    _label(ax, title, ylabel)
    return _finish(fig, path, owned)


def _epoch_ticks(ax, epochs: int) -> None:
    """Whole-number epoch ticks; one epoch gets the single tick 1, not 0.96 to 1.04."""
    from matplotlib.ticker import MaxNLocator

    if epochs <= 1:
        ax.set_xticks([1])
        ax.set_xlim(0.5, 1.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_history(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike | None = None,
    *,
    title: str = "Training",
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Training curves: one panel per metric (loss, accuracy, ...), train vs valid.

    ``history`` maps column names such as ``train_loss``, ``valid_loss``,
    ``train_accuracy`` to per-epoch values; columns sharing a suffix share a panel.
    ``ax``: one Axes per panel (in the order the metrics first appear), else a new
    figure (``title`` is its suptitle; a caller's figure keeps its own). ``path``:
    where to write the PNG, if anywhere. Returns the Figure.
    """
    metrics: dict[str, list[str]] = {}
    for key in history:
        if key in ("epoch", "seconds", "lr", "tokens_per_s"):
            continue
        metric = key.split("_", 1)[1] if "_" in key else key
        metrics.setdefault(metric, []).append(key)
    panels = max(len(metrics), 1)
    fig, axes, owned = _axes(ax, panels, (4.5 * panels, 3.6))
    for ax, (metric, keys) in zip(axes, metrics.items(), strict=False):
        for key in keys:
            values = np.asarray(history[key], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=key.split("_")[0])
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        _epoch_ticks(ax, max(len(history[key]) for key in keys))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    if owned:
        fig.suptitle(title)
    return _finish(fig, path, owned)


def plot_correlogram(
    acf_values,
    pacf_values,
    band: float,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """ACF and PACF stems (lag 1 onwards) with a +-band significance line.

    ``ax``: two Axes (ACF, PACF), else a new figure with two panels. ``path``: where
    to write the PNG, if anywhere. Returns the Figure.
    """
    fig, axes, owned = _axes(ax, 2, (10, 3.6))
    for ax, values, name in ((axes[0], acf_values, "ACF"), (axes[1], pacf_values, "PACF")):
        values = np.asarray(values, dtype=float)[1:]
        lags = np.arange(1, len(values) + 1)
        ax.vlines(lags, 0, values, color="tab:blue")
        ax.axhline(0, color="black", lw=0.8)
        ax.axhline(band, color="tab:red", ls="--", lw=0.8)
        ax.axhline(-band, color="tab:red", ls="--", lw=0.8)
        ax.set_title(f"{name} {title}".strip())
        ax.set_xlabel("lag")
    return _finish(fig, path, owned)


def plot_series(
    series: Mapping[str, Sequence[float]],
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    index=None,
    ax: Axes | None = None,
) -> Figure:
    """Several aligned lines on one axis (e.g. a series with its rolling mean and sd).

    ``index``: the x values shared by every line (default: each line's own index, or
    0..n-1). ``ax``: draw into this axes, else a new figure. ``path``: where to write
    the PNG, if anywhere. Returns the Figure.
    """
    fig, (ax,), owned = _axes(ax, 1, (9, 4.2))
    for name, values in series.items():
        x = index if index is not None else _x(values)
        ax.plot(x, np.asarray(values, dtype=float), lw=1.2, label=name)
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return _finish(fig, path, owned)


def plot_backtest(
    actual,
    windows: Sequence[Mapping],
    path: str | os.PathLike | None = None,
    *,
    title: str = "Backtest",
    ylabel: str = "",
    ax: Axes | None = None,
) -> Figure:
    """Forecasts from a few rolling origins over the observed values around them.

    Parameters
    ----------
    actual : pandas.Series
        The observed values over the span to show (a little history before the first
        origin, then every forecast period); its index is the x axis.
    windows : sequence of mappings
        One per (origin, model): ``"cutoff"`` (the x of the last training point,
        drawn as a dotted vertical line), ``"model"`` (a label; one colour per model),
        ``"mean"`` (a pandas Series of point forecasts indexed like ``actual``) and,
        optionally, ``"intervals"`` (level to ``(lower, upper)`` aligned with
        ``"mean"``, shaded).
    path : str or os.PathLike, optional
        Where to write the PNG; nothing is written without it.
    title, ylabel : str
        Axes title and y label.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; by default a new figure is made.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (closed already when it was made here and saved).
    """
    fig, (ax,), owned = _axes(ax, 1, (9, 4.2))
    ax.plot(_x(actual), np.asarray(actual, dtype=float), color="black", lw=1.2, label="actual")
    colours: dict[str, str] = {}
    cutoffs = []
    for window in windows:
        name = str(window["model"])
        first = name not in colours
        colour = colours.setdefault(name, f"C{len(colours)}")
        mean = window["mean"]
        x = _x(mean)
        _shade(
            ax,
            x,
            window.get("intervals") or {},
            colour,
            0.12,
            lambda level, name=name, first=first: f"{name} {level:g}%" if first else None,
        )
        ax.plot(
            x,
            np.asarray(mean, dtype=float),
            color=colour,
            lw=1.5,
            marker=".",
            label=name if first else None,
        )
        if window["cutoff"] not in cutoffs:
            cutoffs.append(window["cutoff"])
            ax.axvline(window["cutoff"], color="grey", ls=":", lw=0.9)
    _date_ticks(ax, _x(actual))
    _label(ax, title, ylabel, fontsize="small")
    return _finish(fig, path, owned)

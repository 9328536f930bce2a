"""seqlab.plot: draws into a given Axes, returns the Figure, writes only when asked."""

import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # the test process draws no windows; the library picks no backend

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from seqlab.plot import plot_backtest, plot_correlogram, plot_forecast, plot_history, plot_series

Y = pd.Series(np.sin(np.arange(48) / 4.0), index=pd.date_range("2020-01", periods=48, freq="MS"))
FUTURE = pd.date_range("2024-01", periods=6, freq="MS")
MEAN = pd.Series(np.zeros(6), index=FUTURE)


def _draw(name, path=None, ax=None):
    """Each plot function on small inputs; ``ax`` passes through."""
    if name == "forecast":
        band = (MEAN - 1, MEAN + 1)
        return plot_forecast(Y, MEAN, path, intervals={80: band}, ax=ax)
    if name == "series":
        return plot_series({"y": Y, "twice": 2 * Y}, path, title="s", ax=ax)
    if name == "history":
        history = {"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.5], "valid_loss": [3.1, 2.5, 2]}
        return plot_history(history, path, ax=ax)
    if name == "correlogram":
        return plot_correlogram(
            np.r_[1.0, 0.5, 0.2, 0.1], np.r_[1.0, 0.5, -0.1, 0.0], 0.3, path, ax=ax
        )
    if name == "backtest":
        window = {"cutoff": Y.index[-7], "model": "m", "mean": Y.iloc[-6:] + 0.1}
        return plot_backtest(Y.iloc[-12:], [window], path, ax=ax)
    raise AssertionError(name)


NAMES = ["forecast", "series", "history", "correlogram", "backtest"]
PANELS = {"correlogram": 2}


@pytest.mark.parametrize("name", NAMES)
def test_draws_into_the_given_axes_and_returns_its_figure(name, tmp_path):
    panels = PANELS.get(name, 1)
    fig, axes = plt.subplots(1, panels)
    axes = list(np.atleast_1d(axes))
    before = plt.get_fignums()
    try:
        out = _draw(name, ax=axes if panels > 1 else axes[0])
        assert out is fig
        assert plt.get_fignums() == before  # no figure of its own
        for ax in axes:
            assert ax.lines or ax.collections  # something was drawn in every panel
        # The caller's figure stays open even when it is also saved.
        _draw(name, tmp_path / "also.png", ax=axes if panels > 1 else axes[0])
        assert plt.fignum_exists(fig.number)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", NAMES)
def test_without_a_path_nothing_is_written_and_the_figure_stays_open(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = _draw(name)
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert plt.fignum_exists(fig.number)
        assert list(tmp_path.iterdir()) == []
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", NAMES)
def test_with_a_path_writes_a_readable_png_of_the_figure_size_and_closes_it(name, tmp_path):
    path = tmp_path / "sub" / f"{name}.png"
    open_before = len(plt.get_fignums())
    fig = _draw(name, path)
    assert len(plt.get_fignums()) == open_before  # closed after saving: no leak in loops
    assert path.stat().st_size > 0
    height, width = matplotlib.image.imread(path).shape[:2]
    # figsize x 110 dpi, give or take what bbox_inches="tight" trims or adds.
    full_w, full_h = fig.get_size_inches() * 110
    assert 0.7 * full_w <= width <= 1.15 * full_w
    assert 0.7 * full_h <= height <= 1.15 * full_h


def test_wrong_axes_are_refused():
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="2 panel"):
            plot_correlogram(np.r_[1.0, 0.5], np.r_[1.0, 0.5], 0.3, ax=ax)
        with pytest.raises(TypeError, match="ax must be"):
            plot_series({"y": Y}, ax="left")
        with pytest.raises(TypeError, match="path must be"):
            plot_series({"y": Y}, 3, ax=ax)
    finally:
        plt.close(fig)


def test_importing_seqlab_plot_keeps_the_backend():
    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "before = matplotlib.get_backend()\n"
        "import seqlab.plot\n"
        "import matplotlib.pyplot\n"
        "seqlab.plot.plot_series({'y': [1.0, 2.0, 3.0]})\n"
        "print(before, matplotlib.get_backend())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    before, after = out.stdout.split()
    assert before == after == "svg"


def test_the_command_picks_agg(tmp_path):
    code = (
        "import sys, matplotlib\n"
        "from seqlab.cli import main\n"
        "status = main(['ts', 'check', sys.argv[1], '--plot', sys.argv[2]])\n"
        "print(status, matplotlib.get_backend().lower())\n"
    )
    csv = tmp_path / "y.csv"
    noise = np.random.default_rng(0).normal(size=60)
    pd.DataFrame({"y": np.cumsum(noise)}).to_csv(csv, index=False)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["MPLBACKEND"] = "svg"  # the command overrides whatever the environment names
    out = subprocess.run(
        [sys.executable, "-c", code, str(csv), str(tmp_path / "y.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["0", "agg"], out.stderr
    assert (tmp_path / "y.png").stat().st_size > 0

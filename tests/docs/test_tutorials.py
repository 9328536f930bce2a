"""Each tutorial under docs/tutorials runs top to bottom as a script and writes its figures.

The tutorials are jupytext percent-format files: plain Python that the docs site also
executes as notebooks. Here each one runs in a fresh interpreter in quick mode
(``SEQLAB_DOCS_QUICK=1``), from the repository root as the site build does, with its
figures sent to a temporary folder; the test then reads every expected PNG back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# The figures each tutorial must write (its show() calls), by file name.
FIGURES = {
    "01_arima": [
        "airline.png",
        "differencing.png",
        "correlogram.png",
        "nile_forecast.png",
        "airline_forecast.png",
    ],
    "02_cells": ["vanishing_gradient.png"],
    "03_bptt": ["gradient_reach.png", "echo_task.png"],
    "04_imdb": ["imdb_curves.png"],
    "05_forecasting": [
        "prices.png",
        "error_by_step.png",
        "backtest_all.png",
        "backtest_lstm.png",
        "forecast_lstm.png",
        "forecast_arima.png",
    ],
}

# Together the five take minutes on a small machine: out of the default run.
pytestmark = pytest.mark.slow


def test_every_tutorial_is_listed():
    assert sorted(p.stem for p in TUTORIALS.glob("[0-9]*.py")) == sorted(FIGURES)


def _run(name: str, tmp_path: Path, **extra_env: str) -> str:
    """Run one tutorial as a script; check its exit status and every figure it wrote.

    Returns what it printed.
    """
    import matplotlib.image

    figures = tmp_path / "figures"
    env = {
        **os.environ,
        **extra_env,
        "SEQLAB_DOCS_QUICK": "1",
        "SEQLAB_DOCS_FIGURES": str(figures),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    completed = subprocess.run(
        [sys.executable, str(TUTORIALS / f"{name}.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, (
        f"{name}.py failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
    )
    written = sorted(p.name for p in figures.glob("*.png"))
    assert written == sorted(FIGURES[name])
    for file_name in written:
        path = figures / file_name
        assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"
        height, width = matplotlib.image.imread(path).shape[:2]
        assert width >= 200 and height >= 150, f"{path} is {width}x{height} pixels"
        assert f"[figure] {path}" in completed.stdout
    return completed.stdout


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_tutorial_runs_and_draws_its_figures(name, tmp_path):
    _run(name, tmp_path)


@pytest.mark.parametrize(
    ("name", "fallback"),
    [("04_imdb", "no IMDB archive found: synthetic reviews"), ("05_forecasting", "random walk")],
)
def test_tutorial_runs_without_the_shared_data(name, fallback, tmp_path):
    """With no ../shared/data the data tutorials fall back to synthetic data."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    assert fallback in _run(name, tmp_path, SEQLAB_DATA=str(empty))

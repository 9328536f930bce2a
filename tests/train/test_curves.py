"""The run folder's curves.png: epochs on the x axis are whole numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from seqlab.plot import plot_history


@pytest.mark.parametrize("epochs", [1, 2, 3, 7, 40])
def test_epoch_ticks_are_whole_numbers(epochs):
    history = {
        "train_loss": [1.0 / (e + 1) for e in range(epochs)],
        "valid_loss": [1.1 / (e + 1) for e in range(epochs)],
        "valid_accuracy": [0.5 + 0.01 * e for e in range(epochs)],
    }
    fig = plot_history(history)
    try:
        for ax in fig.axes:
            lo, hi = ax.get_xlim()
            shown = [t for t in ax.get_xticks() if lo <= t <= hi]
            assert shown and all(float(t).is_integer() for t in shown)
            if epochs == 1:
                assert shown == [1]
    finally:
        plt.close(fig)

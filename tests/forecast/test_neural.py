"""Recurrent forecasters: they learn a sine wave, never leak, and fail clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from seqlab.forecast import metrics
from seqlab.forecast.baselines import Naive
from seqlab.forecast.neural import GlobalRecurrentForecaster, RecurrentForecaster


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny networks: one thread avoids contention on the shared 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def sine(n=200, period=20, noise=0.05, seed=0):
    t = np.arange(n)
    return np.sin(2 * np.pi * t / period) + noise * np.random.default_rng(seed).normal(size=n)


def test_lstm_learns_a_sine_wave_and_beats_naive():
    y = sine()
    train, test = y[:190], y[190:195]
    model = RecurrentForecaster(
        "lstm", lookback=20, horizon=5, hidden_size=16, epochs=30, batch_size=64, lr=1e-2
    ).fit(train)
    error = metrics.mae(test, model.predict(5))
    naive = metrics.mae(test, Naive().fit(train).predict(5))
    # Naive is ~0.8 here; a network that learned the wave is within the noise (~0.05).
    # A factor 4 margin leaves room for seeds and platforms, not for a network that failed.
    assert error < naive / 4


@pytest.mark.parametrize(
    ("cell", "mode", "bidirectional"),
    [("gru", "seq2seq", False), ("rnn", "recursive", False), ("lstm", "direct", True)],
)
def test_every_strategy_runs_and_keeps_its_shape(cell, mode, bidirectional):
    model = RecurrentForecaster(
        cell,
        mode=mode,
        lookback=10,
        horizon=3,
        hidden_size=8,
        epochs=2,
        bidirectional=bidirectional,
    ).fit(sine(80))
    out = model.predict(3)
    assert out.shape == (3,) and np.isfinite(out).all()
    assert model.label == {"seq2seq": "gru-seq2seq", "recursive": "rnn-recursive"}.get(
        mode, "bilstm"
    )
    if mode == "recursive":
        assert model.predict(7).shape == (7,)
    else:
        with pytest.raises(ValueError, match="trained for horizon 3; it cannot forecast h=4"):
            model.predict(4)


def test_scaler_sees_only_the_training_rows():
    y = np.r_[np.arange(60.0), 1000.0 + np.arange(10.0)]
    model = RecurrentForecaster(lookback=5, horizon=2, epochs=1, valid_size=10).fit(y)
    # The 10 held-out rows (values >= 1000) must not move the scaler.
    assert model.scaler_.offset_[0] == pytest.approx(np.arange(60.0).mean())


def test_features_and_update():
    y = pd.Series(sine(100), name="Close")
    X = pd.DataFrame({"Open": np.roll(y.to_numpy(), 1), "Volume": np.linspace(1, 2, 100)})
    model = RecurrentForecaster(lookback=10, horizon=2, epochs=2, hidden_size=8).fit(y, X)
    assert model.columns_ == ["Close", "Open", "Volume"]
    before = model.predict(2)
    model.update(y[:90], X[:90])
    assert not np.allclose(model.predict(2), before)
    with pytest.raises(ValueError, match="fitted on 3 input columns"):
        model.update(y)
    with pytest.raises(ValueError, match=r"mode=.recursive.*future values"):
        RecurrentForecaster(mode="recursive", lookback=5, epochs=1).fit(y, X)


def test_bad_input_names_lengths_and_nan():
    with pytest.raises(ValueError, match=r"lookback \+ horizon = 20 \+ 5 = 25 .*got 22"):
        RecurrentForecaster(lookback=20, horizon=5, valid_size=0).fit(np.arange(22.0))
    y = sine(60)
    y[30] = np.nan
    with pytest.raises(ValueError, match="NaN in 'y' at row 30"):
        RecurrentForecaster(lookback=5, horizon=1, epochs=1).fit(y)
    with pytest.raises(ValueError, match="mode must be one of"):
        RecurrentForecaster(mode="iterated").fit(sine(60))
    with pytest.raises(ValueError, match="not fitted"):
        RecurrentForecaster().predict(1)


def test_global_model_scales_each_series_on_its_own():
    series = {f"s{i}": 10.0 * i + (i + 1) * sine(80, seed=i) for i in range(4)}
    model = GlobalRecurrentForecaster(
        "gru", lookback=12, horizon=4, hidden_size=8, epochs=2, valid_size=4
    ).fit(series)
    for scaler, values in zip(model.scalers_, series.values(), strict=True):
        assert scaler.offset_[0] == pytest.approx(values[:-4].mean())
    out = model.predict(4)
    assert list(out) == list(series) and all(v.shape == (4,) for v in out.values())
    # Forecasts sit at each series' own level.
    for name, values in series.items():
        assert abs(out[name].mean() - values[-20:].mean()) < 3 * values.std()
    # A short series is left-padded rather than dropped; new series can be forecast.
    short = GlobalRecurrentForecaster(lookback=12, horizon=4, epochs=1).fit([sine(10), sine(80)])
    assert len(short.predict(2, series=[sine(30)])) == 1


def test_log_target_inverts_and_rejects_non_positive():
    y = np.exp(0.5 * sine(80)) * 100
    model = RecurrentForecaster(lookback=8, horizon=2, epochs=1, hidden_size=4, log=True).fit(y)
    # The scaler saw log values; forecasts come back on the original scale.
    assert model.scaler_.offset_[0] == pytest.approx(np.log(y[:72]).mean())
    assert 20 < model.predict(2).mean() < 500
    with pytest.raises(ValueError, match="log=True needs a positive target, but y holds -1"):
        RecurrentForecaster(log=True).fit(np.r_[np.ones(40), -1.0])


def test_refit_full_trains_on_the_newest_windows_too():
    y = sine(120)
    kwargs = dict(lookback=10, horizon=3, hidden_size=8, epochs=3, valid_size=20)
    held = RecurrentForecaster(**kwargs).fit(y)
    full = RecurrentForecaster(**kwargs, refit_full=True).fit(y)
    # Same early-stopping run (same seed, same history), then a different final network.
    losses = [[h["valid_loss"] for h in m.history_] for m in (held, full)]
    assert losses[0] == losses[1]
    assert not np.allclose(full.predict(3), held.predict(3))

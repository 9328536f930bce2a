"""Ctrl-C during ``seqlab imdb train`` loses nothing, and ``--resume`` finishes the run.

The command runs in a subprocess on a tiny aclImdb folder the test writes; SIGINT is
sent once the first end-of-epoch checkpoint exists, so the stop lands inside a later
epoch (the Trainer saves mid-epoch progress there) or, on a slow machine, at an epoch
end; both must resume into the same history as a run that was never interrupted.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqlab.cli import main
from seqlab.sentiment import load_pipeline
from seqlab.train.checkpoint import load_state, load_weights, read_weights_metadata

sys.path.insert(0, str(Path(__file__).parents[1] / "sentiment"))

from tiny_imdb import write_imdb

# 200 reviews, batch 8: an epoch takes ~0.15 s here, so the 7 epochs after the first
# checkpoint leave a ~1 s window for SIGINT to land in training, against a 10 ms poll.
# If it lands after training the test fails (it never passes without an interruption).
EPOCHS = 8
PER_CLASS = 100
# Wall-clock bounds are generous (a loaded 2-core machine); measured at load 3.5: the
# first checkpoint after ~4 s, exit ~2 s after SIGINT (mostly drawing curves.png).
STARTUP_S = 60
EXIT_S = 30


def _command(data: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [
        "imdb",
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--epochs",
        str(EPOCHS),
        "--embedding-dim",
        "16",
        "--hidden-size",
        "16",
        "--vectors",
        "none",
        "--batch-size",
        "8",
        "--quiet",
        "--cache-dir",
        str(cache),
        *extra,
    ]


def _figures(history: list[dict]) -> list[dict]:
    """History records without the wall-clock fields, which differ between runs."""
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")} for r in history]


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_ctrl_c_saves_a_resumable_run_and_resume_finishes_it(tmp_path, one_thread):
    data = write_imdb(tmp_path, per_class=PER_CLASS)
    cache, out = tmp_path / "cache", tmp_path / "run"
    # One intra-op thread in the child too: the same arithmetic as the in-process
    # reference run below, and no oversubscription of a small machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SEQLAB_CACHE": str(cache)}
    argv = [sys.executable, "-m", "seqlab", *_command(data, out, cache)]
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        while not (out / "trainer_state.pt").exists():
            assert child.poll() is None, f"training ended before Ctrl-C: {child.communicate()}"
            assert time.monotonic() < deadline, "no checkpoint within a minute"
            time.sleep(0.01)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=EXIT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "seqlab: interrupted" in err
    assert f"seqlab imdb train --out {out} --resume (and the same --data)" in err

    # Everything on disk parses and loads, and the two resume files agree.
    for name in ("config.json", "vocab.json", "text_pipeline.json", "history.json"):
        json.loads((out / name).read_text())
    state = load_state(out / "trainer_state.pt")
    assert read_weights_metadata(out / "last.safetensors")["step"] == str(state["step"])
    assert (
        load_weights(out / "last.safetensors").keys()
        == load_weights(out / "model.safetensors").keys()
    )
    stopped = json.loads((out / "history.json").read_text())
    assert 1 <= len(stopped) < EPOCHS, "the stop came after training had ended"
    assert state["history"] == stopped
    assert state["epoch"] == len(stopped)  # the epoch to continue, 0-based
    model, _, vocab, _ = load_pipeline(out)  # the interrupted folder is a usable run
    assert model.config.vocab_size == len(vocab)

    verbose = [sys.executable, "-m", "seqlab", "-v", *_command(data, out, cache, "--resume")]
    resumed = subprocess.run(verbose, capture_output=True, text=True, env=env, timeout=STARTUP_S)
    assert resumed.returncode == 0, resumed.stderr
    assert "best valid accuracy" in resumed.stdout
    done = state["progress"]["batches_done"]
    assert f"resuming {out} at epoch {state['epoch'] + 1}, batch {done}" in resumed.stderr
    history = json.loads((out / "history.json").read_text())
    # the stopped records are kept as they were, wall-clock fields included (a rerun
    # from scratch would time them anew)
    assert [r["epoch"] for r in history] == list(range(1, EPOCHS + 1))
    assert history[: len(stopped)] == stopped

    # Exact continuation: the same figures as a run never interrupted (the Trainer
    # replays the data order and every RNG; one thread each, so bit-identical sums).
    reference = tmp_path / "reference"
    assert main(_command(data, reference, cache)) == 0
    expected = json.loads((reference / "history.json").read_text())
    assert _figures(history) == _figures(expected)

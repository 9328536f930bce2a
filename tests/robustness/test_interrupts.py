"""Ctrl-C at several moments: exit 130, one plain line (plus the resume hint where there
is something to resume), never a traceback, a crash or a half-imported torch.

Each case runs ``python -m seqlab ...`` in a subprocess and sends SIGINT: early (while
torch is being imported: the command holds the signal back until the import is done),
during training once the first checkpoint exists (the hint quotes the run path), and
during evaluation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqlab.cli import main

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import imdb_train_args, snapshot, write_imdb, write_series_csv

STARTUP_S = 60  # generous: a loaded 2-core machine
EXIT_S = 30


def _start(argv: list, stderr_pipe: bool = True) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "seqlab", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr_pipe else subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _interrupt(child: subprocess.Popen) -> tuple[str, str]:
    child.send_signal(signal.SIGINT)
    try:
        return child.communicate(timeout=EXIT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def _assert_clean_interrupt(child: subprocess.Popen, err: str) -> None:
    assert child.returncode == 130, err
    assert "Traceback" not in err and "partially initialized" not in err, err
    assert err.strip().splitlines()[-1].startswith("seqlab: interrupted"), err


@pytest.mark.parametrize("delay", [0.3, 0.9, 1.5])
def test_imdb_train_interrupted_early(delay, tmp_path):
    data = write_imdb(tmp_path / "data", per_class=20, unsup=2)
    run = tmp_path / "run"
    child = _start(imdb_train_args(data, run, tmp_path / "cache"))
    time.sleep(delay)
    assert child.poll() is None, "the command ended before the signal"
    _, err = _interrupt(child)
    _assert_clean_interrupt(child, err)
    assert err.count("\n") == 1, err
    # Stopped before the first checkpoint: no folder that looks like a run is left, and
    # the line says so once the arguments are parsed (a very early Ctrl-C may land
    # before that, while the parser is built).
    assert err in (
        "seqlab: interrupted\n",
        f"seqlab: interrupted; no checkpoint was reached, nothing resumable was saved in {run}\n",
    )
    assert not run.exists()


def test_imdb_train_interrupted_after_a_checkpoint_quotes_the_run_path(tmp_path):
    data = write_imdb(tmp_path / "data", per_class=30, unsup=2)
    run = tmp_path / "my run"  # a space: the hint must quote it
    argv = imdb_train_args(data, run, tmp_path / "cache")
    argv[argv.index("--epochs") + 1] = "20"
    argv[argv.index("--batch-size") + 1] = "4"
    child = _start(argv)
    deadline = time.monotonic() + STARTUP_S
    while not (run / "trainer_state.pt").exists():
        assert child.poll() is None, f"training ended before Ctrl-C: {child.communicate()}"
        assert time.monotonic() < deadline, "no checkpoint within a minute"
        time.sleep(0.01)
    _, err = _interrupt(child)
    _assert_clean_interrupt(child, err)
    assert f"seqlab imdb train --out '{run}' --resume (and the same --data)" in err
    assert (run / "trainer_state.pt").is_file() and (run / "last.safetensors").is_file()
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]


def test_imdb_evaluate_interrupted(tmp_path):
    # A run trained on a few reviews, evaluated on many: SIGINT is sent as soon as the
    # tokenised test split has been read from the cache, i.e. while batches are built
    # and run. The run and the cache are made in this process, only the interrupted
    # evaluation runs in a child.
    data = write_imdb(tmp_path / "data", per_class=20, unsup=2)
    words = " ".join(["great film and a dull plot"] * 40)
    for label, rating in (("pos", 9), ("neg", 2)):
        (data / "test" / label).mkdir(parents=True)
        for i in range(1500):
            (data / "test" / label / f"{i}_{rating}.txt").write_text(words)
    run, cache = tmp_path / "run", tmp_path / "cache"
    assert main([str(a) for a in imdb_train_args(data, run, cache)]) == 0
    evaluate = ["imdb", "evaluate", "--run", run, "--data", data, "--split", "test"]
    assert main([str(a) for a in [*evaluate, "--cache-dir", cache]]) == 0
    before = snapshot(tmp_path)

    child = _start(["-v", *evaluate, "--cache-dir", cache])
    deadline = time.monotonic() + STARTUP_S
    seen = ""
    while "read from the cache" not in seen:
        line = child.stderr.readline()
        assert line or child.poll() is None, f"evaluation ended first: {seen}"
        assert time.monotonic() < deadline
        seen += line
    _, err = _interrupt(child)
    _assert_clean_interrupt(child, seen + err)
    assert snapshot(tmp_path) == before  # evaluation writes nothing


def test_forecast_fit_interrupted(tmp_path):
    csv = write_series_csv(tmp_path / "series.csv", n=400)
    run = tmp_path / "run"
    argv = ["forecast", "fit", csv, "--target", "y", "--epochs", "500", "--patience", "500"]
    child = _start([*argv, "--hidden", "16", "--lookback", "24", "--out", run])
    time.sleep(3.0)
    assert child.poll() is None, "the command ended before the signal"
    _, err = _interrupt(child)
    _assert_clean_interrupt(child, err)
    assert f"nothing was saved in {run}" in err
    assert not run.exists()


def test_sigint_is_held_back_until_the_block_ends():
    from seqlab.cli import sigint_deferred

    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this test process")
    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here; it must not raise inside the block
            reached_end = True
    assert reached_end
    assert signal.getsignal(signal.SIGINT) is before


def test_an_ignored_sigint_stays_ignored():
    from seqlab.cli import sigint_deferred

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)

"""Bad and awkward series files through ``seqlab ts ...`` / ``seqlab forecast ...``.

Each case runs the command inside a scratch folder and checks the promise for user
errors (exit status 2, exactly one line ``seqlab: error: ...`` naming the problem, no
traceback) or, for input that can be read unambiguously, the right answer with a notice.
Every case also checks that nothing was written in the folder except the file it asked
for. The cases whose point is what a user sees on the terminal (notices, file modes)
run the real program in a subprocess (``python -m seqlab``); the others call
``seqlab.cli.main`` in-process, which runs the same code and is 50x quicker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqlab.cli import main

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import ar1

N = 72


def _frame(n: int = N, values=None) -> pd.DataFrame:
    dates = pd.date_range("2015-01-01", periods=n, freq="MS").strftime("%Y-%m-%d")
    return pd.DataFrame({"date": dates, "value": ar1(n) if values is None else values})


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))}


def _check_writes(folder: Path, before: dict[str, bytes], args: tuple[str, ...]) -> None:
    after = _files(folder)
    targets = {a for a in args if a.endswith((".csv", ".png")) and a not in before}
    assert {k: v for k, v in after.items() if k not in targets} == before


def _seqlab(folder: Path, *args: str, umask: int | None = None) -> tuple[int, str, str]:
    """Run the program ``seqlab ARGS`` in ``folder``: exit status, stdout, stderr."""
    before = _files(folder)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    preexec = None if umask is None else (lambda: os.umask(umask))
    proc = subprocess.run(
        [sys.executable, "-m", "seqlab", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
    )
    _check_writes(folder, before, args)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """``run(*args)``: ``seqlab.cli.main(args)`` in ``tmp_path``: status, stdout, stderr."""
    monkeypatch.chdir(tmp_path)

    def call(*args: str) -> tuple[int, str, str]:
        before = _files(tmp_path)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        _check_writes(tmp_path, before, args)
        return code, out, err

    return call


def _user_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqlab: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, err)


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path


# ------------------------------------------------------------------ date order
def test_backwards_dates_are_sorted_with_a_notice_and_forecast_after_the_data(folder):
    _frame().iloc[::-1].to_csv(folder / "back.csv", index=False)
    code, _, err = _seqlab(
        folder, "ts", "auto", "back.csv", "--h", "3", "--forecasts-out", "fc.csv", umask=0o022
    )
    assert code == 0, err
    assert err.splitlines() == [
        "WARNING seqlab.io: back.csv: the dates in column 'date' run backwards; "
        "sorted them into increasing order."
    ]
    forecast = pd.read_csv(folder / "fc.csv", parse_dates=["ds"])
    assert list(forecast["ds"]) == list(pd.date_range("2021-01-01", periods=3, freq="MS"))
    # Written as open() would under umask 022, not mkstemp's private 0600.
    assert (folder / "fc.csv").stat().st_mode & 0o777 == 0o644


def test_guessed_column_is_named(folder):
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.standard_normal(N))
    volume = rng.integers(1000, 5000, N)
    frame = pd.DataFrame(
        {"Date": _frame()["date"], "Open": close, "Close": close, "Volume": volume}
    )
    frame.to_csv(folder / "px.csv", index=False)
    code, out, err = _seqlab(folder, "ts", "check", "px.csv")
    assert code == 0, err
    assert err.splitlines() == [
        "WARNING seqlab.io: px.csv: no value column named; using 'Volume', the last numeric "
        "column (the others: 'Open', 'Close'). Name another with value= (--value on the "
        "command line)."
    ]
    assert out.startswith("Stationarity check of Volume (72 observations")


def test_named_column_gives_no_notice(folder, run, caplog):
    frame = pd.DataFrame({"Date": _frame()["date"], "Open": ar1(N), "Close": ar1(N, seed=4)})
    frame.to_csv(folder / "px.csv", index=False)
    code, out, err = run("ts", "check", "px.csv", "--value", "Close")
    assert code == 0 and err == "" and caplog.records == []
    assert out.startswith("Stationarity check of Close")


def test_shuffled_dates_fit_the_series_in_time_order(folder, run, caplog):
    frame = _frame()
    frame.to_csv(folder / "sorted.csv", index=False)
    frame.sample(frac=1.0, random_state=2).to_csv(folder / "shuffled.csv", index=False)
    outputs = []
    for name in ("sorted.csv", "shuffled.csv"):
        code, out, err = run("ts", "fit", name, "--order", "1,0,0", "--h", "2")
        assert code == 0, err
        outputs.append(out)
    assert [r.getMessage() for r in caplog.records] == [
        "shuffled.csv: the dates in column 'date' are not in order; sorted them into "
        "increasing order."
    ]
    assert outputs[0] == outputs[1]
    ar_line = next(line for line in outputs[1].splitlines() if line.startswith("ar.L1"))
    assert float(ar_line.split()[1]) > 0.6


@pytest.mark.parametrize(
    "command", [["ts", "check"], ["ts", "fit", "--order", "1,0,0"], ["ts", "auto"]]
)
def test_repeated_dates_are_refused_with_line_numbers(folder, run, command):
    frame = _frame()
    frame.loc[10, "date"] = frame.loc[3, "date"]
    frame.to_csv(folder / "dup.csv", index=False)
    _user_error(
        *run(*command, "dup.csv"),
        "dup.csv: column 'date': 2015-04-01 appears on lines 5 and 12",
    )


def test_forecast_backtest_reads_dates_the_same_way(folder, run, caplog):
    frame = _frame()
    frame.loc[10, "date"] = frame.loc[3, "date"]
    frame.to_csv(folder / "dup.csv", index=False)
    args = ["forecast", "backtest", "dup.csv", "--target", "value", "--models", "naive"]
    _user_error(*run(*args), "appears on lines 5 and 12")
    _frame().iloc[::-1].to_csv(folder / "back.csv", index=False)
    code, _, err = run(*args[:2], "back.csv", *args[3:])
    assert code == 0, err
    assert "run backwards; sorted them" in caplog.text


# ------------------------------------------------------------ several series
@pytest.mark.parametrize(
    "command", [["ts", "check"], ["ts", "fit", "--order", "1,1,0"], ["ts", "auto"]]
)
def test_long_form_file_says_to_use_ts_many(folder, run, command):
    rows = [
        {"unique_id": uid, "ds": ds, "y": v}
        for uid in ("a", "b", "c")
        for ds, v in zip(_frame()["date"], ar1(N, seed=ord(uid)), strict=True)
    ]
    pd.DataFrame(rows).to_csv(folder / "long.csv", index=False)
    _user_error(*run(*command, "long.csv"), "holds 3 series in long form", "seqlab ts many")


# ---------------------------------------------------------------- magnitudes
@pytest.mark.parametrize("value", ["1e200", "-3e151", "1e308"])
def test_huge_values_are_refused(folder, run, value):
    frame = _frame()
    frame["value"] = frame["value"].astype(object)
    frame.loc[5, "value"] = value
    frame.to_csv(folder / "huge.csv", index=False)
    _user_error(
        *run("ts", "fit", "huge.csv", "--order", "1,0,0"),
        "huge.csv, column 'value'",
        "not supported",
    )


def test_values_near_the_bound_fit_with_finite_numbers(folder, run):
    _frame(values=ar1(N) * 1e148).to_csv(folder / "big.csv", index=False)
    code, out, err = run("ts", "fit", "big.csv", "--order", "1,0,0", "--h", "2")
    assert code == 0, err
    assert "nan" not in out.lower() and "inf" not in out.lower()


def test_kpss_on_a_tiny_extreme_series(folder, run):
    (folder / "mix.csv").write_text("1e111\n1e-39\n1e111\n1e-39\n1e-39\n1e111\n")
    code, out, err = run("ts", "check", "mix.csv")
    assert code == 0, err
    assert "KPSS (level, 5 lags)" in out


# --------------------------------------------------------------------- sizes
@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["ts", "fit", "s.csv", "--order", "1,0,0", "--h", "1000000000"], "--h=1000000000"),
        (["ts", "auto", "s.csv", "--h", "1000000000"], "largest forecast horizon is 100,000"),
        (["ts", "auto", "s.csv", "--m", "100000000"], "--m=100000000"),
        (["ts", "fit", "s.csv", "--order", "1,0,0", "--seasonal", "1,0,0,100000"], "1,000"),
        (["ts", "many", "s.csv", "--h", "1000000000"], "--h=1000000000"),
    ],
)
def test_sizes_past_their_limits_are_refused(folder, run, command, message):
    _frame().to_csv(folder / "s.csv", index=False)
    _user_error(*run(*command), message)

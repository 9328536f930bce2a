"""Shared pieces of the CLI-side robustness catalogue (imported by path, not a conftest).

``run_cli`` calls ``seqlab.cli.main`` in-process and returns ``(code, stdout, stderr)``;
``assert_user_error`` checks the README's promise for a user error: exit status 2 and
exactly one line ``seqlab: error: ...`` on stderr, no traceback; ``snapshot`` records
every file under a folder (size, modification time, mode) so a test can show that
nothing outside its target was written, changed or left half-done.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from seqlab.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "sentiment"))

from tiny_imdb import write_imdb

__all__ = [
    "ar1",
    "assert_user_error",
    "run_cli",
    "snapshot",
    "train_forecast_run",
    "train_imdb_run",
    "write_imdb",
    "write_series_csv",
]


def run_cli(argv: list, capsys=None) -> tuple[int, str, str]:
    """``seqlab ARGV`` in this process: exit status, stdout, stderr (empty without capsys)."""
    if capsys is None:
        return main([str(a) for a in argv]), "", ""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *fragments: str) -> None:
    """Exit 2 and one line ``seqlab: error: ...`` holding every fragment."""
    assert code == 2, err
    assert err.startswith("seqlab: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def snapshot(root: Path, exclude: Path | None = None) -> dict[str, tuple[int, int, int]]:
    """``{relative path: (size, mtime_ns, mode)}`` of everything under ``root``.

    Folders are recorded by mode only: creating and removing a temporary file inside
    one changes its size and time without changing what it holds.
    """
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if exclude is not None and (here == exclude or exclude in here.parents):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if exclude is not None and path == exclude:
                continue
            stat = path.lstat()
            if path.is_dir() and not path.is_symlink():
                # A folder's size and time change when a temporary file comes and goes.
                found[str(path.relative_to(root))] = (0, 0, stat.st_mode)
            else:
                found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns, stat.st_mode)
    return found


def ar1(n: int, phi: float = 0.8, seed: int = 0) -> np.ndarray:
    """``n`` values of a stationary AR(1) with coefficient ``phi`` around 10."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    y = np.empty(n)
    y[0] = e[0]
    for t in range(1, n):
        y[t] = phi * y[t - 1] + e[t]
    return y + 10.0


def write_series_csv(path: Path, n: int = 80, seed: int = 0) -> Path:
    """A ``date,y`` CSV of a noisy seasonal series, monthly dates."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(n) + 0.02 * t
    dates = np.datetime64("2000-01") + t.astype("timedelta64[M]")
    lines = ["date,y"] + [f"{d}-01,{v:.5f}" for d, v in zip(dates, y, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train_forecast_run(base: Path, capsys=None, hidden: int = 4) -> tuple[Path, Path]:
    """A tiny ``seqlab forecast fit`` run folder and the CSV it was fitted on."""
    csv = write_series_csv(base / "series.csv")
    run = base / "forecast-run"
    code, _, err = run_cli(
        ["forecast", "fit", csv, "--target", "y", "--model", "lstm", "--epochs", "1",
         "--hidden", str(hidden), "--lookback", "6", "--horizon", "2", "--out", run],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    return run, csv


def imdb_train_args(data: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    """``seqlab imdb train`` arguments for a small, fast run."""
    return [
        "imdb", "train", "--data", data, "--out", out, "--epochs", "1",
        "--embedding-dim", "8", "--hidden-size", "8", "--vectors", "none",
        "--batch-size", "8", "--vocab-size", "200", "--quiet", "--cache-dir", cache, *extra,
    ]  # fmt: skip


def train_imdb_run(base: Path, capsys=None) -> tuple[Path, Path]:
    """A tiny ``seqlab imdb train`` run folder and the aclImdb folder it used."""
    data = write_imdb(base, per_class=20, unsup=4)
    run = base / "imdb-run"
    code, _, err = run_cli(imdb_train_args(data, run, base / "cache"), capsys)
    assert code == 0, err
    return run, data

"""A full disk under every command that writes: one line naming the file, exit 2, no
half-written file, and no run folder that looks resumable when nothing was saved.

Two ways to fill the disk: a real 64 KiB tmpfs mounted for the test (needs root; the
cases skip where ``mount`` is not permitted), and ``os.fsync`` made to fail with ENOSPC
for files under a chosen folder, from the n-th write on (every file seqlab writes is
flushed with fsync before it is renamed into place, so this reaches each write).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import (
    assert_user_error,
    imdb_train_args,
    run_cli,
    snapshot,
    write_imdb,
    write_series_csv,
)

DISK_FULL = "no space left on the device (disk full)"


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs at ``tmp_path/disk``; skips where it cannot be mounted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def _fill_after(monkeypatch, folder: Path, ok_writes: int = 0) -> list[str]:
    """Make fsync of files under ``folder`` fail with ENOSPC after ``ok_writes`` of them."""
    real_fsync = os.fsync
    done: list[str] = []
    folder = folder.resolve()

    def fsync(fd):
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if folder in path.parents:
            if len(done) >= ok_writes:
                raise OSError(errno.ENOSPC, "No space left on device")
            done.append(path.name)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return done


def _no_temporaries(root: Path) -> None:
    leftovers = [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture
def series(tmp_path):
    return write_series_csv(tmp_path / "series.csv")


@pytest.fixture
def long_csv(tmp_path):
    lines = ["unique_id,ds,y"]
    for uid in ("a", "b"):
        lines += [f"{uid},{t},{10 + (t % 4) + 0.1 * (t % 7)}" for t in range(1, 41)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- injected ENOSPC --------------------------------------------------------------


@pytest.mark.parametrize("ok_writes", [0, 2, 3, 5], ids=["config", "pipeline", "best", "state"])
def test_imdb_train_disk_full_leaves_no_unresumable_folder(
    ok_writes, tmp_path, monkeypatch, capsys
):
    data = write_imdb(tmp_path / "data", per_class=12, unsup=2)
    run, cache = tmp_path / "out" / "run", tmp_path / "cache"
    written = _fill_after(monkeypatch, tmp_path / "out", ok_writes)
    code, _, err = run_cli(imdb_train_args(data, run, cache), capsys)
    assert_user_error(code, err, f"cannot write {run}/", DISK_FULL)
    assert len(written) == ok_writes
    # Nothing resumable was saved, so nothing that looks like a run is left behind.
    assert not run.exists()
    _no_temporaries(tmp_path)


def test_imdb_resume_after_a_disk_full_is_a_clear_error(tmp_path, monkeypatch, capsys):
    data = write_imdb(tmp_path / "data", per_class=12, unsup=2)
    run, cache = tmp_path / "run", tmp_path / "cache"
    _fill_after(monkeypatch, run, 1)
    code, _, err = run_cli(imdb_train_args(data, run, cache), capsys)
    assert code == 2
    monkeypatch.undo()
    code, _, err = run_cli(imdb_train_args(data, run, cache, "--resume"), capsys)
    assert_user_error(code, err, "--resume: ", "does not exist; nothing to resume")


@pytest.mark.parametrize("ok_writes", [0, 1, 2], ids=["weights", "arrays", "manifest"])
def test_forecast_fit_disk_full(ok_writes, series, tmp_path, monkeypatch, capsys):
    # A run folder is model.safetensors, data.safetensors, then run.json: a full disk at
    # any of the three leaves the folder empty.
    run = tmp_path / "run"
    _fill_after(monkeypatch, run.parent / "run", ok_writes)
    run.mkdir()  # the folder exists beforehand: it is kept, emptied of partial files
    argv = ["forecast", "fit", series, "--target", "y", "--epochs", "1", "--hidden", "4", "--quiet"]
    code, _, err = run_cli([*argv, "--lookback", "6", "--out", run], capsys)
    assert_user_error(code, err, f"cannot write {run}/", DISK_FULL)
    assert list(run.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["ts", "auto", "{series}", "--h", "3", "--out", "{out}/f.csv"], "f.csv"),
        (["ts", "fit", "{series}", "--order", "1,0,0", "--plot", "{out}/f.png"], "f.png"),
        (["ts", "check", "{series}", "--plot", "{out}/c.png"], "c.png"),
        (["ts", "many", "{long}", "--h", "2", "--no-progress", "--out", "{out}/m.csv"], "m.csv"),
    ],
    ids=["ts-auto-out", "ts-fit-plot", "ts-check-plot", "ts-many-out"],
)
def test_ts_commands_disk_full(argv, target, series, long_csv, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(tmp_path)
    _fill_after(monkeypatch, out)
    args = [a.format(series=series, long=long_csv, out=out) for a in argv]
    code, _, err = run_cli(args, capsys)
    assert_user_error(code, err, f"cannot write {out / target}", DISK_FULL)
    assert snapshot(tmp_path) == before


def test_forecast_predict_out_disk_full(tmp_path, monkeypatch, capsys):
    from _clihelp import train_forecast_run

    run, csv = train_forecast_run(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(tmp_path)
    _fill_after(monkeypatch, out)
    code, _, err = run_cli(
        ["forecast", "predict", "--run", run, csv, "--out", out / "p.csv"], capsys
    )
    assert_user_error(code, err, f"cannot write {out / 'p.csv'}", DISK_FULL)
    assert snapshot(tmp_path) == before


# --- a real small disk ------------------------------------------------------------


def test_tmpfs_ts_auto_out(small_disk, series, capsys):
    code, _, err = run_cli(
        ["ts", "auto", series, "--h", "2000", "--out", small_disk / "f.csv"], capsys
    )
    assert_user_error(code, err, f"cannot write {small_disk / 'f.csv'}", DISK_FULL)
    assert list(small_disk.iterdir()) == []


def test_tmpfs_ts_fit_plot(small_disk, series, capsys):
    # Fill the disk first, so the figure cannot fit in what is left.
    (small_disk / "ballast").write_bytes(bytes(60_000))
    code, _, err = run_cli(
        ["ts", "fit", series, "--order", "1,0,0", "--plot", small_disk / "f.png"], capsys
    )
    assert_user_error(code, err, f"cannot write {small_disk / 'f.png'}", DISK_FULL)
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast"]


def test_tmpfs_imdb_train(small_disk, tmp_path, capsys):
    data = write_imdb(tmp_path / "data", per_class=12, unsup=2)
    run = small_disk / "run"
    argv = imdb_train_args(data, run, tmp_path / "cache")
    argv[argv.index("--hidden-size") + 1] = "96"
    code, _, err = run_cli(argv, capsys)
    assert_user_error(code, err, f"cannot write {run}/", DISK_FULL)
    assert list(small_disk.iterdir()) == []


def test_tmpfs_forecast_fit(small_disk, series, capsys):
    run = small_disk / "run"
    argv = [
        "forecast",
        "fit",
        series,
        "--target",
        "y",
        "--epochs",
        "1",
        "--hidden",
        "96",
        "--quiet",
    ]
    code, _, err = run_cli([*argv, "--lookback", "6", "--out", run], capsys)
    assert_user_error(code, err, f"cannot write {run}/model.safetensors", DISK_FULL)
    assert list(small_disk.iterdir()) == []


def test_tmpfs_ts_many_out(small_disk, long_csv, capsys):
    (small_disk / "ballast").write_bytes(bytes(64_000))
    target = small_disk / "m.csv"
    code, _, err = run_cli(
        ["ts", "many", long_csv, "--h", "200", "--no-progress", "--out", target], capsys
    )
    assert_user_error(code, err, f"cannot write {target}", DISK_FULL)
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast"]

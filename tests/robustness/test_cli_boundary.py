"""The CLI's one error boundary: user error -> one line, exit 2; Ctrl-C -> 130; bug -> 1.

The first group feeds the boundary each kind of exception through a real command
(``seqlab demo``'s function replaced by one that raises it: the boundary is what is
under test, the exception its input). The second group reaches the same lines through
real commands and real bad arguments.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

import seqlab.cli.demo

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import (
    assert_user_error,
    imdb_train_args,
    run_cli,
    snapshot,
    write_imdb,
    write_series_csv,
)


def _raising(exc: BaseException):
    def run(args):
        raise exc

    return run


MULTI_LINE = "Error tokenizing data.\nC error: Expected 2 fields in line 3, saw 4\n  detail"


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (ValueError("bad value 7 in x.csv"), "bad value 7 in x.csv"),
        (TypeError("h must be an integer, got 'a'."), "h must be an integer"),
        (ValueError(MULTI_LINE), "Error tokenizing data. (run with -v for the full message)"),
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/out.csv"),
            "cannot write /data/out.csv: no space left on the device (disk full)",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/root/x.png"),
            "/root/x.png: permission denied.",
        ),
        (
            FileExistsError(errno.EEXIST, "File exists", "/tmp/run"),
            "/tmp/run: already exists",
        ),
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "/tmp/f/x"),
            "/tmp/f/x: a part of the path is a file, not a folder.",
        ),
        (MemoryError(), "not enough memory for this command"),
        (FloatingPointError("training diverged: train_loss is nan"), "training diverged"),
    ],
    ids=[
        "value",
        "type",
        "multi-line",
        "disk-full",
        "permission",
        "exists",
        "not-a-dir",
        "memory",
        "diverged",
    ],
)
def test_user_errors_are_one_line_exit_2(exc, fragment, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(seqlab.cli.demo, "run", _raising(exc))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["demo"], capsys)
    assert_user_error(code, err, fragment)
    assert out == "" and list(tmp_path.iterdir()) == []


def test_verbose_shows_the_rest_of_a_multi_line_message(monkeypatch, capsys):
    monkeypatch.setattr(seqlab.cli.demo, "run", _raising(ValueError(MULTI_LINE)))
    code, _, err = run_cli(["-v", "demo"], capsys)
    assert code == 2
    first, *rest = err.splitlines()
    assert first == "seqlab: error: Error tokenizing data."
    assert rest == ["C error: Expected 2 fields in line 3, saw 4", "  detail"]


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("boom\nmore"), KeyError("x"), AttributeError("'NoneType' has no 'y'")],
    ids=["runtime", "key", "attribute"],
)
def test_bugs_say_so_in_one_line_exit_1(exc, monkeypatch, capsys):
    monkeypatch.setattr(seqlab.cli.demo, "run", _raising(exc))
    code, out, err = run_cli(["demo"], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"seqlab: internal error: {type(exc).__name__}")
    assert "This is a bug in seqlab" in err and "issue tracker" in err and "-v" in err


def test_a_bug_with_verbose_prints_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(seqlab.cli.demo, "run", _raising(KeyError("x")))
    code, _, err = run_cli(["-v", "demo"], capsys)
    assert code == 1
    assert "This is a bug in seqlab" in err.splitlines()[0]
    assert "Traceback (most recent call last)" in err and "KeyError: 'x'" in err


def test_keyboard_interrupt_is_130(monkeypatch, capsys):
    monkeypatch.setattr(seqlab.cli.demo, "run", _raising(KeyboardInterrupt()))
    code, out, err = run_cli(["demo"], capsys)
    assert code == 130 and out == ""
    assert err == "seqlab: interrupted\n"


def test_a_write_error_without_a_file_name_names_the_target(monkeypatch, tmp_path, capsys):
    # os.fsync on the temporary file fails as a full disk does: the OSError carries no
    # file name, the message still names the file being written.
    import os

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    csv = write_series_csv(tmp_path / "s.csv")
    target = tmp_path / "out" / "forecast.csv"
    monkeypatch.setattr(os, "fsync", full)
    before = snapshot(tmp_path)
    code, _, err = run_cli(["ts", "auto", csv, "--h", "3", "--out", target], capsys)
    assert_user_error(code, err, f"cannot write {target}: no space left on the device")
    after = snapshot(tmp_path)
    # Only the (empty) output folder may appear; no temporary file is left.
    assert {k: v for k, v in after.items() if k != "out"} == before
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


# --- real commands, real bad arguments --------------------------------------------


@pytest.fixture
def tiny_imdb(tmp_path):
    return write_imdb(tmp_path / "data", per_class=12, unsup=2)


def test_imdb_train_out_is_an_existing_file(tiny_imdb, tmp_path, capsys):
    out = tmp_path / "run.txt"
    out.write_text("keep me")
    before = snapshot(tmp_path)
    code, _, err = run_cli(imdb_train_args(tiny_imdb, out, tmp_path / "cache"), capsys)
    assert_user_error(code, err, f"--out {out}: exists and is not a folder")
    assert snapshot(tmp_path) == before


def test_forecast_fit_out_is_an_existing_file(tmp_path, capsys):
    csv = write_series_csv(tmp_path / "s.csv")
    out = tmp_path / "run.txt"
    out.write_text("keep me")
    before = snapshot(tmp_path)
    code, _, err = run_cli(
        ["forecast", "fit", csv, "--target", "y", "--epochs", "1", "--out", out], capsys
    )
    assert_user_error(code, err, f"--out {out}: exists and is not a folder")
    assert snapshot(tmp_path) == before


def test_ts_fit_plot_under_a_file(tmp_path, capsys):
    csv = write_series_csv(tmp_path / "s.csv")
    blocker = tmp_path / "notadir"
    blocker.write_text("x")
    before = snapshot(tmp_path)
    code, _, err = run_cli(
        ["ts", "fit", csv, "--order", "1,0,0", "--h", "2", "--plot", blocker / "fig.png"], capsys
    )
    assert_user_error(code, err, str(blocker))
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("limit", ["1", "9"])
def test_imdb_limit_below_the_minimum(limit, tiny_imdb, tmp_path, capsys):
    before = snapshot(tmp_path)
    argv = imdb_train_args(tiny_imdb, tmp_path / "run", tmp_path / "cache", "--limit", limit)
    code, _, err = run_cli(argv, capsys)
    assert_user_error(code, err, f"--limit {limit}: too few reviews", "at least 10")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ((), "does not exist; nothing to resume"),
        (("config.json",), "has no text_pipeline.json"),
        (("config.json", "text_pipeline.json", "vocab.json"), "no saved training state"),
    ],
    ids=["absent", "config-only", "no-state"],
)
def test_resume_of_a_folder_that_holds_no_resumable_run(
    files, fragment, tiny_imdb, tmp_path, capsys
):
    run = tmp_path / "run"
    if files:
        run.mkdir()
        for name in files:
            (run / name).write_text("{}")
    before = snapshot(tmp_path)
    argv = imdb_train_args(tiny_imdb, run, tmp_path / "cache", "--resume")
    code, _, err = run_cli(argv, capsys)
    assert_user_error(code, err, "--resume: ", fragment)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["imdb", "predict", "--run", "{tmp}/nope", "great"],
        ["imdb", "evaluate", "--run", "{tmp}/nope", "--data", "{tmp}/nope"],
        ["forecast", "predict", "--run", "{tmp}/nope", "{tmp}/nope.csv"],
    ],
    ids=["imdb-predict", "imdb-evaluate", "forecast-predict"],
)
def test_missing_run_folder(argv, tmp_path, capsys):
    before = snapshot(tmp_path)
    code, _, err = run_cli([a.format(tmp=tmp_path) for a in argv], capsys)
    assert_user_error(code, err, f"{tmp_path}/nope")
    assert snapshot(tmp_path) == before


def test_demo_out_is_an_existing_file(tmp_path, capsys):
    out = tmp_path / "figures"
    out.write_text("keep me")
    before = snapshot(tmp_path)
    code, _, err = run_cli(["demo", "--out", out, "--imdb", tmp_path / "no-imdb"], capsys)
    assert_user_error(code, err, f"{out}: already exists (a file is in the way of a folder?)")
    assert snapshot(tmp_path) == before

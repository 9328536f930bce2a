"""``seqlab ts check FILE``: the plain-words report, plots, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.cli import main
from seqlab.datasets import airline, nile
from seqlab.ts import check_stationarity


@pytest.fixture
def airline_csv(tmp_path):
    path = tmp_path / "airline.csv"
    airline().to_csv(path)
    return path


def test_check_prints_the_report(airline_csv, capsys):
    assert main(["ts", "check", str(airline_csv)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == str(check_stationarity(airline())).strip()
    assert "Verdict: difference-stationary." in out


def test_check_one_column_file_and_alpha(tmp_path, capsys):
    path = tmp_path / "nile.txt"
    path.write_text("\n".join(str(v) for v in nile().to_numpy()) + "\n")
    assert main(["ts", "check", str(path), "--alpha", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "significance level 0.01" in out
    assert str(check_stationarity(nile().to_numpy(), alpha=0.01)).splitlines()[2] in out


def test_check_plot_writes_two_pngs(airline_csv, tmp_path, capsys):
    target = tmp_path / "figs" / "air.png"
    assert main(["ts", "check", str(airline_csv), "--plot", str(target)]) == 0
    out = capsys.readouterr().out
    correlogram = target.with_name("air_correlogram.png")
    for path in (target, correlogram):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {path}" in out


def _write(tmp_path, name, values):
    path = tmp_path / name
    dates = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01" for i in range(len(values))]
    lines = ["date,value"] + [f"{d},{v}" for d, v in zip(dates, values, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, 2.0, "abc", 4.0, *range(20)], "line 4"),
        ([5.0] * 30, "constant"),
        ([1.0, 3.0, 2.0, 5.0, 4.0], "needs at least 6"),
    ],
)
def test_check_bad_file_is_one_line_exit_2(tmp_path, capsys, values, message):
    path = _write(tmp_path, "bad.csv", values)
    assert main(["ts", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and message in err


def test_check_missing_file(tmp_path, capsys):
    assert main(["ts", "check", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_inf_value(tmp_path, capsys):
    values = list(np.linspace(1.0, 2.0, 30))
    values[7] = "inf"
    path = _write(tmp_path, "inf.csv", values)
    assert main(["ts", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "inf" in err

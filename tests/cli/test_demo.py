"""``seqlab demo``: runs offline, prints the airline model's summary and forecast, writes a PNG.

The sentiment part of the demo trains a network when IMDB data is found; here the data
locations point at an empty folder so this test covers the ARIMA part and the offline
path (the sentiment run has its own tests in tests/cli/test_imdb.py).
"""

from __future__ import annotations

from seqlab.cli import main


def test_demo_runs_and_writes_plot(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.delenv("SEQLAB_IMDB", raising=False)
    monkeypatch.setenv("SEQLAB_DATA", str(empty))
    monkeypatch.setenv("SEQLAB_CACHE", str(empty))
    out_dir = tmp_path / "demo"
    assert main(["demo", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "ARIMA results" in out
    assert "ARIMA(0,1,1)(0,1,1,12)" in out
    assert "Converged:" in out and "yes" in out
    assert "1962-12" in out
    png = out_dir / "airline_forecast.png"
    assert png.exists() and png.stat().st_size > 10_000

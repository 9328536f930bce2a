"""The core install (``pip install seqlab``, no torch, no numba) runs the classical side.

Each check runs in a fresh interpreter whose ``sys.meta_path`` refuses ``torch`` and
``numba`` the way a machine without them does (``ModuleNotFoundError``), so a torch
import anywhere on these paths fails the test even though the test environment has torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

# Installed first in every child: torch and numba look absent.
BLOCKER = """
import importlib.abc
import sys


class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "numba"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
"""


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_blocker_refuses_torch(tmp_path):
    # The harness itself: without this the other checks would prove nothing.
    result = _run("import torch\n", tmp_path)
    assert result.returncode != 0
    assert "No module named 'torch'" in result.stderr


def test_arima_and_local_forecasts_run_without_torch(tmp_path):
    out = _ok(
        _run(
            """
            import numpy as np
            import pandas as pd

            from seqlab.datasets import airline
            from seqlab.forecast import AutoArimaForecaster, Forecasts, SeasonalNaive
            from seqlab.ts import ARIMA

            y = np.log(airline())
            res = ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(y)
            fc = np.asarray(res.forecast(12).mean)
            assert fc.shape == (12,) and np.isfinite(fc).all(), fc

            rng = np.random.default_rng(0)
            ds = pd.date_range("2000-01-01", periods=48, freq="MS")
            season = np.tile(np.arange(12.0), 4)
            df = pd.concat(
                [
                    pd.DataFrame(
                        {"unique_id": uid, "ds": ds, "y": 10 * k + season + rng.normal(0, 0.1, 48)}
                    )
                    for k, uid in enumerate(["a", "b"], start=1)
                ]
            )
            pred = Forecasts(
                [AutoArimaForecaster(m=12), SeasonalNaive(12)], freq="MS", progress=False
            ).forecast(df, h=6)
            assert len(pred) == 12, pred
            assert not pred.drop(columns=["unique_id", "ds"]).isna().any().any(), pred
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numba"))
            print("loaded:", loaded)
            """,
            tmp_path,
        )
    )
    assert "loaded: []" in out


def test_ts_cli_fits_saves_and_predicts_without_torch(tmp_path):
    from seqlab.datasets import airline

    airline().to_csv(tmp_path / "airline.csv")
    result = _run(
        """
        from seqlab.cli import main

        status = main(["ts", "fit", "airline.csv", "--order", "1,1,1", "--h", "6", "--out", "run"])
        assert status == 0, status
        status = main(["forecast", "predict", "airline.csv", "--run", "run", "--h", "3"])
        assert status == 0, status
        from seqlab.forecast.runs import load

        assert len(load("run").forecast(3, level=(80, 95)).mean) == 3
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numba"))
        print("loaded:", loaded)
        """,
        tmp_path,
    )
    assert "loaded: []" in _ok(result)
    assert (tmp_path / "run").is_dir() and any((tmp_path / "run").iterdir())


def test_demo_runs_its_arima_part_and_names_the_extra_for_the_rest(tmp_path):
    result = _run(
        """
        from seqlab.cli import main

        assert main(["demo", "--out", "figs"]) == 0
        """,
        tmp_path,
    )
    out = _ok(result)
    assert "airline" in out.lower() and (tmp_path / "figs" / "airline_forecast.png").is_file()
    assert "pip install 'seqlab[torch]'" in out
    assert "error" not in result.stderr.lower()


@pytest.mark.parametrize(
    "statement",
    [
        "from seqlab.nn import LSTM",
        "import seqlab.text",
        "import seqlab.models",
        "import seqlab.train",
        "from seqlab.forecast import RecurrentForecaster",
        "import seqlab.forecast.neural",
        "import seqlab.forecast.hybrid",
    ],
)
def test_torch_parts_name_the_extra(tmp_path, statement):
    result = _run(
        f"""
        try:
            {statement}
        except ImportError as exc:
            print("ImportError:", exc)
        """,
        tmp_path,
    )
    out = _ok(result)
    assert "ImportError:" in out
    assert "pip install 'seqlab[torch]'" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["imdb", "train", "--out", "run", "--epochs", "1"],
        ["forecast", "fit", "series.csv", "--model", "lstm", "--out", "run"],
    ],
)
def test_torch_commands_parse_and_fail_in_one_line(tmp_path, argv):
    pd.Series(range(40), name="y").to_csv(tmp_path / "series.csv")
    result = _run(
        f"""
        import sys

        argv = {argv!r}

        from seqlab.cli import main

        try:
            main(["imdb", "train", "--help"])
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        sys.exit(main(argv))
        """,
        tmp_path,
    )
    assert "usage: seqlab imdb train" in result.stdout
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("seqlab: error: ")
    assert "pip install 'seqlab[torch]'" in lines[0]

"""The compiled ARIMA core as a package install meets it: present, or clearly missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import seqlab
from seqlab.ts import _kalman
from seqlab.ts._kalman import Objective, Status


def test_core_is_the_compiled_extension():
    assert _kalman.Problem.__module__ == "seqlab.ts._arima_core"
    assert [s.name for s in Objective] == ["MLE", "CSS"]
    assert int(Status.JOINED_KNOWN) == 4


def test_missing_extension_says_how_to_reinstall(tmp_path: Path):
    """A copy of the package without the built extension fails at ``import seqlab.ts`` with
    an ImportError that names the compiled core and the way to rebuild it."""
    source = Path(seqlab.__file__).parent
    shutil.copytree(
        source,
        tmp_path / "seqlab",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "_core"),
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import seqlab.ts"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: seqlab was installed without its compiled ARIMA core")
    assert "C++17 compiler" in last and "pip install" in last

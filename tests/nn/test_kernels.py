"""When the numba float32 kernels of seqlab.nn are imported and compiled, and what a
compile says.

Each check that depends on what a fresh process has imported or compiled runs in a new
Python process (with its own empty numba cache directory where compiles matter).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from seqlab.nn import _layout


def _run(code: str, cache_dir=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


def test_numba_is_imported_and_kernels_compiled_only_when_a_layer_needs_them():
    """Importing seqlab.nn imports no numba; float64 training and inference need none;
    a float32 LSTM training step compiles exactly its one kernel."""
    pytest.importorskip("numba")
    result = _run(
        """
        import sys
        import torch
        import seqlab.nn as snn
        print("numba" in sys.modules)
        layer = snn.LSTM(3, 4, bidirectional=True).double()
        out, _ = layer(torch.randn(5, 2, 3, dtype=torch.float64))
        out.sum().backward()
        with torch.no_grad():
            layer(torch.randn(5, 2, 3, dtype=torch.float64))
        print("numba" in sys.modules)
        out, _ = layer.float()(torch.randn(5, 2, 3))
        out.sum().backward()
        from seqlab.nn import _kernels
        print(sorted(name for name, k in _kernels._KERNELS.items() if k.signatures))
        """
    )
    assert result.stdout.split("\n")[:3] == ["False", "False", "['lstm_train']"]


def test_compile_logs_one_warning_then_loads_from_the_cache(tmp_path):
    """The first float32 GRU inference in a fresh install compiles one kernel and says
    so once, as a WARNING on the seqlab.nn._kernels logger; the next process loads it
    from numba's on-disk cache and says nothing."""
    pytest.importorskip("numba")
    code = """
        import logging
        import torch
        import seqlab.nn as snn
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
        layer = snn.GRU(3, 4)
        with torch.no_grad():
            layer(torch.randn(5, 2, 3))
            layer(torch.randn(7, 3, 3))
        """
    first = _run(code, cache_dir=tmp_path)
    lines = [line for line in first.stderr.splitlines() if "compiling" in line]
    assert len(lines) == 1, first.stderr
    assert lines[0].startswith("WARNING seqlab.nn._kernels ")
    assert "GRU inference kernel" in lines[0] and "once" in lines[0]
    second = _run(code, cache_dir=tmp_path)
    assert "compiling" not in second.stderr, second.stderr


def test_a_kernel_is_compiled_for_its_signature_only():
    """Arguments of another type raise TypeError instead of compiling a new version."""
    pytest.importorskip("numba")
    from seqlab.nn import _kernels

    rnn_cell = _layout.kernel("rnn_cell")
    assert rnn_cell is _kernels.compiled("rnn_cell")
    assert len(rnn_cell.signatures) == 1
    rows = np.zeros(1, np.int64)
    with pytest.raises(TypeError):
        rnn_cell(np.zeros(4), 0, np.zeros(4), np.zeros(4), rows, 4, 1, 4, False)
    assert len(rnn_cell.signatures) == 1


def test_uses_kernels_only_for_float32_on_the_cpu(monkeypatch):
    assert _layout.uses_kernels(torch.zeros(1)) == _layout.numba_available()
    assert not _layout.uses_kernels(torch.zeros(1, dtype=torch.float64))
    monkeypatch.setattr(_layout, "numba_available", lambda: False)
    assert not _layout.uses_kernels(torch.zeros(1))

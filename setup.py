"""Build of seqlab's compiled ARIMA core (``seqlab.ts._arima_core``, C++17 via pybind11).

Everything else about the package is declared in pyproject.toml; this file only adds the
extension, so ``pip install .`` and ``pip install -e .`` compile it with the system's C++
compiler.
"""

import sys
from glob import glob
from pathlib import Path

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

CORE = Path("src/seqlab/ts/_core")

# Compile the core's translation units in parallel (NPY_NUM_BUILD_JOBS overrides).
ParallelCompile("NPY_NUM_BUILD_JOBS").install()

core = Pybind11Extension(
    "seqlab.ts._arima_core",
    sorted(glob(str(CORE / "*.cpp"))),
    depends=sorted(glob(str(CORE / "*.hpp"))),
    cxx_std=17,
    # -O3 without -march=native: the built wheel must run on any x86-64 / arm64 CPU (MSVC
    # optimises with /O2, which setuptools passes already).
    extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
)

setup(ext_modules=[core], cmdclass={"build_ext": build_ext})

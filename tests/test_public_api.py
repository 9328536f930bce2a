"""Every public module of seqlab declares its exports in ``__all__``, and they exist.

A public module is one whose dotted name has no part starting with an underscore (a
package counts by its ``__init__.py``); ``__main__`` is the command, not an API. Each is
imported, so a name in ``__all__`` that is missing (a rename not carried over, a lazy name
whose module lost it) fails here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import seqlab

SRC = Path(seqlab.__file__).resolve().parent

# Modules allowed to lack ``__all__`` for a while (none today); an entry that has
# ``__all__`` fails, so the list cannot go stale.
MISSING_ALL_ALLOWED: set[str] = set()


def _public_modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        names.append(".".join(parts))
    return names


PUBLIC_MODULES = _public_modules()


def test_the_walk_finds_the_packages_and_their_modules():
    assert {"seqlab", "seqlab.ts", "seqlab.ts.arima", "seqlab.cli.demo"} <= set(PUBLIC_MODULES)
    assert not any(".__" in name or "._" in name for name in PUBLIC_MODULES)


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if "pip install 'seqlab[" in str(exc):
            pytest.skip(f"{name} needs an optional extra: {exc}")
        raise


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_module_declares_existing_exports(name):
    module = _import(name)
    exports = getattr(module, "__all__", None)
    if name in MISSING_ALL_ALLOWED:
        assert exports is None, f"{name} has __all__ now; remove it from MISSING_ALL_ALLOWED"
        pytest.skip(f"{name}: __all__ not added yet (MISSING_ALL_ALLOWED)")
    assert exports is not None, f"{name} has no __all__; list its public names there"
    assert isinstance(exports, (list, tuple)), f"{name}.__all__ is a {type(exports).__name__}"
    assert all(isinstance(export, str) for export in exports), exports
    repeated = sorted({export for export in exports if list(exports).count(export) > 1})
    assert not repeated, f"{name}.__all__ repeats {repeated}"
    missing = [export for export in exports if not hasattr(module, export)]
    assert not missing, f"{name}.__all__ names {missing}, which {name} does not have"


def test_package_docstrings_do_not_promise_exports_to_come():
    for path in SRC.rglob("__init__.py"):
        text = path.read_text(encoding="utf-8")
        assert "as the module lands" not in text, path

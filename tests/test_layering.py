"""The import graph obeys the stated layering (DESIGN.md, ``seqlab/__init__.py``).

Every ``import`` statement in ``src/seqlab`` is read with :mod:`ast`, including imports
inside functions (a lazy import is still a dependency), and each edge between two
sub-packages must point to the same layer or a lower one. ``seqlab.ts`` must not import
torch at all: it is the part that works without it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import seqlab

SRC = Path(seqlab.__file__).resolve().parent

# Lowest first; a module may import from its own layer or any lower one.
LAYERS = {
    "_validation": 0,
    "_schema": 0,
    "_progress": 0,
    "io": 0,
    "plot": 0,
    "datasets": 0,
    "ts": 1,
    "nn": 1,
    "text": 2,
    "models": 2,
    "train": 3,
    "forecast": 4,
    "sentiment": 4,
    "cli": 5,
    "__main__": 5,  # ``python -m seqlab``: the command, as cli
}


def _unit(module: str) -> str | None:
    """The layer unit of a dotted seqlab module name (``seqlab.ts.arima`` -> ``ts``)."""
    parts = module.split(".")
    if parts[0] != "seqlab" or len(parts) < 2:
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports_in(text: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in ``text``, read as a module of
    ``package`` (which resolves relative imports)."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from seqlab import ts`` names the sub-package in the alias.
            if target == "seqlab":
                found += [(node.lineno, f"seqlab.{alias.name}") for alias in node.names]
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    return _imports_in(path.read_text(encoding="utf-8"), package)


SOURCES = sorted(SRC.rglob("*.py"))


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in SOURCES} - {None}
    # Top-level modules (``seqlab/__init__``, ``__main__``) have no unit.
    assert units <= set(LAYERS), f"sub-packages without a layer: {units - set(LAYERS)}"


def _upward_imports() -> list[str]:
    bad = []
    for path in SOURCES:
        unit = _unit(_module_name(path))
        if unit is None:
            continue
        for line, target in _imports(path):
            other = _unit(target)
            if other is None or other == unit or other not in LAYERS:
                continue
            if LAYERS[other] > LAYERS[unit]:
                bad.append(f"{path.relative_to(SRC)}:{line} imports {target}")
    return bad


def test_no_upward_imports():
    assert _upward_imports() == []


def test_ts_never_imports_torch():
    bad = [
        f"{path.relative_to(SRC)}:{line} imports {target}"
        for path in sorted((SRC / "ts").rglob("*.py"))
        for line, target in _imports(path)
        if target.split(".")[0] == "torch"
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from seqlab.forecast import x\n", "seqlab.forecast"),
        ("from ..train import Trainer\n", "seqlab.train"),
        ("from . import arima\n", "seqlab.ts"),
        ("from seqlab import cli\n", "seqlab.cli"),
        ("def f():\n    import seqlab.sentiment.recipe\n", "seqlab.sentiment.recipe"),
    ],
)
def test_the_reader_sees_every_import_form(source, expected):
    # The checker must find each form, or test_no_upward_imports could not fail.
    assert expected in [target for _, target in _imports_in(source, "seqlab.ts")]

"""The docs site's generated pages: the CLI reference and the performance page.

``docs/hooks.py`` fills them at build time; these checks need neither mkdocs nor a build.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HOOKS = Path(__file__).resolve().parents[2] / "docs" / "hooks.py"


@pytest.fixture(scope="module")
def hooks():
    spec = importlib.util.spec_from_file_location("seqlab_docs_hooks", HOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_has_every_command_and_its_options(hooks):
    from seqlab.cli import build_parser

    text = hooks.cli_reference()
    commands = [name for name, _ in hooks._walk(build_parser(), "seqlab")]
    assert {"seqlab", "seqlab ts", "seqlab ts fit", "seqlab imdb train"} <= set(commands)
    for command in commands:
        assert f"`{command}`\n\n```text\nusage: {command} " in text
    fit_section = text.split("`seqlab ts fit`", 1)[1].split("```", 2)[1]
    assert "--order" in fit_section


def test_performance_page_says_plainly_when_there_are_no_results(hooks, tmp_path):
    for folder in (tmp_path / "absent", tmp_path):
        text = hooks.performance_page(folder)
        assert "No benchmark results in this build" in text


def test_performance_page_tables_from_results(hooks, tmp_path):
    report = {
        "cpus": 2,
        "load": [1.5, 2.25],
        "methods": {"seqlab": {"seconds": 1.23456, "smape": 12.0}, "reference": {"seconds": 2}},
        "seconds": {"loop": 14.9, "process": 21.8},
        "runs": [{"n": 1}, {"n": 2}],
    }
    (tmp_path / "bench.json").write_text(json.dumps(report))
    (tmp_path / "broken.json").write_text("{not json")
    text = hooks.performance_page(tmp_path)
    assert "## bench" in text and "- **cpus**: 2" in text and "- **load**: 1.5, 2.25" in text
    assert "| | seconds | smape |" in text
    assert "| seqlab | 1.235 | 12 |" in text and "| reference | 2 |  |" in text
    assert "| loop | 14.9 |" in text
    assert '??? note "runs"' in text  # a list of records is shown as JSON
    assert "`broken.json` could not be read" in text


def test_benchmark_table_lists_every_script_with_its_summary(hooks, tmp_path):
    (tmp_path / "fast.py").write_text('"""Speed of a thing.\n\nDetails."""\n')
    (tmp_path / "bare.py").write_text("x = 1\n")
    text = hooks.benchmark_table(tmp_path)
    assert "| `benchmarks/fast.py` | Speed of a thing. |" in text
    assert "| `benchmarks/bare.py` |  |" in text
    real = hooks.benchmark_table(hooks.BENCHMARKS)
    assert all(f"`benchmarks/{p.name}`" in real for p in hooks.BENCHMARKS.glob("*.py"))

"""mkdocs hooks: the CLI reference and the performance page, generated at build time.

``cli.md`` and ``performance.md`` each hold a marker comment that is replaced by text
made from the code (the argparse parser) or the data (``benchmarks/results/*.json``),
so neither page can drift from what it documents.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
from pathlib import Path

CLI_MARKER = "<!-- seqlab-cli-reference -->"
PERFORMANCE_MARKER = "<!-- seqlab-performance -->"
ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
HELP_WIDTH = "100"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if PERFORMANCE_MARKER in markdown:
        page = benchmark_table(BENCHMARKS) + "\n" + performance_page(RESULTS)
        markdown = markdown.replace(PERFORMANCE_MARKER, page)
    return markdown


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """(name, parser) of each sub-command, aliases and hidden names left out."""
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        listed = {choice.dest for choice in action._choices_actions}
        seen: set[int] = set()
        for name, sub in action.choices.items():
            if name not in listed or id(sub) in seen:
                continue
            seen.add(id(sub))
            found.append((name, sub))
    return found


def _walk(parser: argparse.ArgumentParser, prefix: str):
    yield prefix, parser
    for name, sub in _subcommands(parser):
        yield from _walk(sub, f"{prefix} {name}")


def cli_reference() -> str:
    """Every command's ``--help``, the top-level one first, one section each."""
    from seqlab.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps to the terminal width
    try:
        parts = []
        for command, parser in _walk(build_parser(), "seqlab"):
            parser.prog = command
            level = "#" * min(2 + command.count(" "), 4)
            parts.append(f"{level} `{command}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(parts)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _table(rows) -> str | None:
    """A markdown table from {row: {column: scalar}} or {name: scalar}, else None."""
    if not isinstance(rows, dict) or not rows:
        return None
    if all(_scalar(v) or _is_scalar_list(v) for v in rows.values()):
        lines = ["| | value |", "|---|---|"]
        lines += [f"| {_cell(name)} | {_cell(value)} |" for name, value in rows.items()]
        return "\n".join(lines)
    if not all(isinstance(v, dict) for v in rows.values()):
        return None
    columns: list[str] = []
    for values in rows.values():
        for key, value in values.items():
            if key not in columns and (_scalar(value) or _is_scalar_list(value)):
                columns.append(key)
    if not columns:
        return None
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, values in rows.items():
        cells = [_cell(values[c]) if c in values else "" for c in columns]
        lines.append(f"| {_cell(name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _is_scalar_list(value) -> bool:
    return isinstance(value, list) and all(_scalar(v) for v in value)


def _report(name: str, data) -> str:
    """A section for one results file: its settings as a list, its tables, the rest as JSON."""
    parts = [f"## {name}\n"]
    if not isinstance(data, dict):
        return parts[0] + _json_block("results", data)
    settings = {k: v for k, v in data.items() if _scalar(v) or _is_scalar_list(v)}
    if settings:
        parts.append("\n".join(f"- **{k}**: {_cell(v)}" for k, v in settings.items()) + "\n")
    for key, value in data.items():
        if key in settings:
            continue
        table = _table(value)
        if table is not None:
            parts.append(f"### {key}\n\n{table}\n")
            continue
        nested = {k: _table(v) for k, v in value.items()} if isinstance(value, dict) else {}
        if nested and all(nested.values()):
            parts.extend(f"### {key}: {sub}\n\n{sub_table}\n" for sub, sub_table in nested.items())
        else:
            parts.append(_json_block(key, value))
    return "\n".join(parts)


def _json_block(title: str, value) -> str:
    dumped = json.dumps(value, indent=2, default=str)
    return f'??? note "{title}"\n\n    ```json\n' + _indent(dumped) + "\n    ```\n"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def benchmark_table(folder: Path) -> str:
    """Each ``benchmarks/*.py`` script with the first paragraph of its docstring."""
    lines = ["| script | measures |", "| --- | --- |"]
    for path in sorted(folder.glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        summary = " ".join(docstring.split("\n\n", 1)[0].split())
        lines.append(f"| `benchmarks/{path.name}` | {_cell(summary)} |")
    return "\n".join(lines) + "\n"


def performance_page(results: Path) -> str:
    """One section per ``results/*.json`` file, or a plain statement that there are none."""
    files = sorted(results.glob("*.json")) if results.is_dir() else []
    if not files:
        return (
            '!!! note "No benchmark results in this build"\n\n'
            "    `benchmarks/results/` holds no JSON files in the checkout this site was "
            "built from, so there are no measured figures to show. Run a benchmark (table "
            "above) and rebuild the site (`make docs`) to see its results here.\n"
        )
    parts = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            parts.append(f"## {path.stem}\n\n`{path.name}` could not be read: {error}\n")
            continue
        try:
            parts.append(_report(path.stem, data))
        except (TypeError, ValueError, KeyError) as error:  # an unforeseen shape: show it raw
            parts.append(f"## {path.stem}\n\n({error})\n\n" + _json_block(path.name, data))
    return "\n".join(parts)

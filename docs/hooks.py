"""mkdocs hooks: the CLI reference and the performance page, generated at build time.

``cli.md`` and ``performance.md`` each hold a marker comment that is replaced by text
made from the code (the argparse parser) or the data (``benchmarks/results/*.json``),
so neither page can drift from what it documents.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

CLI_MARKER = "<!-- seqlab-cli-reference -->"
PERFORMANCE_MARKER = "<!-- seqlab-performance -->"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
HELP_WIDTH = "100"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if PERFORMANCE_MARKER in markdown:
        markdown = markdown.replace(PERFORMANCE_MARKER, performance_page(RESULTS))
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


def _table(rows: dict) -> str | None:
    """A markdown table from {row name: {column: scalar}}, or None if it is not that shape."""
    if not rows or not all(isinstance(v, dict) for v in rows.values()):
        return None
    columns: list[str] = []
    for values in rows.values():
        for key, value in values.items():
            if key not in columns and not isinstance(value, (dict, list)):
                columns.append(key)
    if not columns:
        return None
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, values in rows.items():
        cells = [_cell(values[c]) if c in values else "" for c in columns]
        lines.append(f"| {_cell(name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _report(name: str, data) -> str:
    parts = [f"## {name}\n"]
    if not isinstance(data, dict):
        return parts[0] + f"\n```json\n{json.dumps(data, indent=2)}\n```\n"
    settings = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    if settings:
        parts.append("\n".join(f"- **{k}**: {_cell(v)}" for k, v in settings.items()) + "\n")
    for key, value in data.items():
        if not isinstance(value, (dict, list)):
            continue
        table = _table(value) if isinstance(value, dict) else None
        if table is not None:
            parts.append(f"### {key}\n\n{table}\n")
        else:
            nested = {k: _table(v) for k, v in value.items()} if isinstance(value, dict) else {}
            if nested and all(nested.values()):
                for sub, sub_table in nested.items():
                    parts.append(f"### {key}: {sub}\n\n{sub_table}\n")
            else:
                dumped = json.dumps(value, indent=2, default=str)
                parts.append(f'??? note "{key}"\n\n    ```json\n' + _indent(dumped) + "\n    ```\n")
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def performance_page(results: Path) -> str:
    """One section per ``results/*.json`` file, or a plain statement that there are none."""
    files = sorted(results.glob("*.json")) if results.is_dir() else []
    if not files:
        return (
            '!!! note "No benchmark results in this build"\n\n'
            "    `benchmarks/results/` holds no JSON files in the checkout this site was "
            "built from, so there are no measured figures to show. Run a benchmark (table "
            "below) and rebuild the site (`make docs`) to see its results here.\n"
        )
    parts = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            parts.append(f"## {path.stem}\n\n`{path.name}` could not be read: {error}\n")
            continue
        parts.append(_report(path.stem, data))
    return "\n".join(parts)

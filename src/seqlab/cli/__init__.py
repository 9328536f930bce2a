"""The ``seqlab`` command. Thin: it parses arguments and calls the library.

Each command family lives in its own module with a ``register(subparsers)`` function
that adds its sub-command and sets ``func`` on the parsed namespace. User errors
(ValueError, TypeError, FileNotFoundError) print one line on stderr and exit with 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from seqlab import __version__

# Command modules, in the order they appear in --help.
COMMAND_MODULES = ["demo", "ts", "imdb", "forecast"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="Sequence models you can read: ARIMA family and recurrent networks.",
    )
    parser.add_argument("--version", action="version", version=f"seqlab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"seqlab.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        print(f"seqlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The ``seqlab`` command. Thin: it parses arguments and calls the library.

Each command family lives in its own module with a ``register(subparsers)`` function
that adds its sub-command and sets ``func`` on the parsed namespace. A command may also
set ``preload`` (modules, or ``args -> modules``, imported before ``func`` runs with
Ctrl-C held back until they are in) and ``on_interrupt`` (``args -> str | None``, what
to say after a Ctrl-C, such as how to resume; it must not import anything).

One error boundary, :func:`main`, sorts whatever a command raises:

- a user error (``ValueError``, ``TypeError``, ``OSError`` such as a full disk or a
  permission denied, ``MemoryError``, a diverged training's ``FloatingPointError``, an
  ``ImportError`` naming the extra to install, such as torch's on a core install):
  one line ``seqlab: error: ...`` on stderr, exit status 2; a message that spans several
  lines (pandas', torch's) is cut to its first line, the rest shown with ``-v``;
- an interrupt (Ctrl-C): ``seqlab: interrupted`` plus the command's resume hint, exit
  status 130;
- anything else is a bug in seqlab: one line saying so and where to report it, the
  traceback with ``-v``, exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from seqlab import __version__

__all__ = [
    "COMMAND_MODULES",
    "EXIT_BUG",
    "EXIT_INTERRUPTED",
    "EXIT_USER_ERROR",
    "build_parser",
    "error_line",
    "is_user_error",
    "main",
    "os_error_text",
    "sigint_deferred",
    "use_file_backend",
]

# Command modules, in the order they appear in --help.
COMMAND_MODULES = ["demo", "ts", "imdb", "forecast"]

EXIT_USER_ERROR = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130

# Exceptions that describe the user's input or machine, not a fault in seqlab.
_USER_ERRORS = (ValueError, TypeError, OSError, MemoryError, FloatingPointError)
# torch.OutOfMemoryError is a RuntimeError; matched by name so this module never
# imports torch.
_USER_ERROR_NAMES = {"OutOfMemoryError"}

_OS_REASONS = {
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.EEXIST: "already exists (a file is in the way of a folder?)",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EMFILE: "too many open files",
    errno.EIO: "input/output error",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="Sequence models you can read: ARIMA family and recurrent networks.",
    )
    parser.add_argument("--version", action="version", version=f"seqlab {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details; full error texts"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"seqlab.cli.{name}").register(subparsers)
    return parser


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold a Ctrl-C back until the block ends, then raise KeyboardInterrupt.

    Nothing changes where SIGINT is ignored (a background job) or off the main thread.

    Used around heavy imports: a KeyboardInterrupt raised while torch's C extensions
    initialise leaves a half-imported module that crashes the next import of it (or the
    interpreter at exit).
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the ``seqlab`` command with ``argv``; return its exit status."""
    args = None
    try:
        # Inside the boundary: building the parser imports numpy, and a Ctrl-C there is
        # an interrupt like any other.
        parser = build_parser()
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        use_file_backend()
        _preload(args)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if argv is None and threading.current_thread() is threading.main_thread():
            # As the program itself, the command is over once the interrupt is reported:
            # the command has already saved or removed its files, so the process ends at
            # once with 130. Interpreter shutdown after a Ctrl-C (thread joins, atexit
            # hooks of the libraries loaded) was seen, rarely, to end in a death by
            # SIGINT instead. A caller of main(argv) keeps its own process as it was.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            code = _report_interrupt(args)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return _report_interrupt(args)
    except Exception as exc:  # the one place every error is sorted
        return _report_error(exc, args)


def use_file_backend() -> None:
    """Make matplotlib draw to files only (Agg): the command opens no windows.

    The library itself never picks a backend, so that notebooks keep their inline
    figures; the command picks Agg before any figure is drawn. When matplotlib is
    not imported yet, ``MPLBACKEND`` is set instead, which avoids importing it for
    commands that draw nothing.
    """
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None:
        os.environ["MPLBACKEND"] = "Agg"
    else:
        matplotlib.use("Agg")


def _preload(args: argparse.Namespace) -> None:
    """Import the command's heavy modules with Ctrl-C held back until they are in.

    A missing optional dependency is left for the command itself to report.
    """
    names = getattr(args, "preload", ())
    if callable(names):
        names = names(args)
    with sigint_deferred():
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:
                logging.getLogger(__name__).debug("preload: %s is not importable", name)


def _report_interrupt(args: argparse.Namespace | None) -> int:
    hint = None
    on_interrupt = getattr(args, "on_interrupt", None)
    if on_interrupt is not None:
        try:
            hint = on_interrupt(args)
        except Exception:  # a failing hint must not hide the interrupt
            hint = None
    print("seqlab: interrupted" + (f"; {hint}" if hint else ""), file=sys.stderr)
    return EXIT_INTERRUPTED


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` describes the input or the machine (exit 2) rather than a bug.

    A missing optional dependency is the machine's: an ImportError whose message names
    the seqlab extra to install (``pip install 'seqlab[torch]'`` on a core install).
    """
    return isinstance(exc, _USER_ERRORS) or _is_out_of_memory(exc) or _is_missing_extra(exc)


def _is_missing_extra(exc: BaseException) -> bool:
    return isinstance(exc, ImportError) and "pip install 'seqlab[" in str(exc)


def _is_out_of_memory(exc: BaseException) -> bool:
    # torch reports a failed CPU allocation as a plain RuntimeError.
    return type(exc).__name__ in _USER_ERROR_NAMES or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
    )


def error_line(exc: BaseException, args: argparse.Namespace | None = None) -> tuple[str, str]:
    """``(first line, remaining detail)`` of a user error's message."""
    if isinstance(exc, OSError) and not _message_names_path(exc):
        text = os_error_text(exc, args)
    elif isinstance(exc, MemoryError) or _is_out_of_memory(exc):
        detail = str(exc).strip().partition("\n")[0]
        text = (
            "not enough memory for this command"
            + (f" ({detail})" if detail else "")
            + "; use smaller sizes (batch, hidden size, vocabulary, horizon) or less data."
        )
    else:
        text = str(exc).strip() or type(exc).__name__
    first, _, rest = text.partition("\n")
    return first.strip(), rest.strip()


def _message_names_path(exc: OSError) -> bool:
    # An OSError built by seqlab with a message of its own (no errno) is shown as written.
    return exc.errno is None and bool(str(exc))


# Arguments that name what a command writes, for an OSError that carries no file name.
_OUTPUT_ARGUMENTS = ("out", "plot", "json", "models")


def os_error_text(exc: OSError, args: argparse.Namespace | None = None) -> str:
    """``PATH: reason`` for an OSError.

    The path comes from the exception, else from the innermost seqlab frame writing a
    file, else from the command's output arguments (``--out``, ``--plot``, ...).
    """
    path = exc.filename if exc.filename is not None else _path_in_traceback(exc.__traceback__)
    if path is None and args is not None:
        outputs = [
            str(getattr(args, name)) for name in _OUTPUT_ARGUMENTS if getattr(args, name, None)
        ]
        path = " or ".join(outputs) or None
    reason = _OS_REASONS.get(exc.errno, exc.strerror or str(exc) or type(exc).__name__)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT) and path is not None:
        return f"cannot write {path}: {reason}; free some space or choose another place."
    if path is None:
        return reason
    where = f"{path} -> {exc.filename2}" if exc.filename2 is not None else f"{path}"
    return f"{where}: {reason}."


def _path_in_traceback(tb: TracebackType | None) -> str | None:
    """The ``path`` being written when a write failed, read from seqlab's own frames.

    A failed ``write``/``flush``/``fsync`` on an open file raises an OSError without a
    file name; the innermost seqlab frame holding a ``path`` local (``atomic_write``'s
    target, for every file seqlab writes) names it.
    """
    found = None
    while tb is not None:
        frame = tb.tb_frame
        module = frame.f_globals.get("__name__", "")
        if module == "seqlab" or module.startswith("seqlab."):
            value = frame.f_locals.get("path")
            if isinstance(value, (str, os.PathLike)):
                found = str(Path(value))
        tb = tb.tb_next
    return found


def _report_error(exc: Exception, args: argparse.Namespace | None) -> int:
    verbose = bool(getattr(args, "verbose", False))
    if is_user_error(exc):
        first, rest = error_line(exc, args)
        if rest and not verbose:
            first += " (run with -v for the full message)"
        print(f"seqlab: error: {first}", file=sys.stderr)
        if verbose and rest:
            print(rest, file=sys.stderr)
        return EXIT_USER_ERROR
    summary = (str(exc).strip().partition("\n")[0] or "").strip()
    name = type(exc).__name__
    print(
        f"seqlab: internal error: {name}{': ' + summary if summary else ''}. This is a bug in "
        "seqlab; please report it on seqlab's issue tracker with the command you ran"
        + ("." if verbose else " and the traceback that 'seqlab -v ...' prints."),
        file=sys.stderr,
    )
    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())

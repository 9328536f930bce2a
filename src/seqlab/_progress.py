"""Progress bars for long steps: data preparation, backtests, fitting many series.

A bar is tqdm on stderr that appears only once its step has run for
:data:`PROGRESS_DELAY_S` seconds, so quick steps (small data, a cache hit) print nothing;
``enabled=False`` (a ``progress=False`` argument, the CLI's ``--quiet``) turns a bar
off. Bars are cleared when
their step ends; :func:`notice` writes one line that stays.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

__all__ = ["PROGRESS_DELAY_S", "bar", "notice", "track"]

# Seconds a step runs before its bar is drawn.
PROGRESS_DELAY_S = 2.0

T = TypeVar("T")


def bar(enabled: bool, desc: str, total: int | None = None, unit: str = "it") -> tqdm:
    """A tqdm bar on stderr for a step of ``total`` units; disabled when not ``enabled``."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        delay=PROGRESS_DELAY_S,
        dynamic_ncols=True,
        leave=False,
        file=sys.stderr,
    )


def track(
    items: Iterable[T], enabled: bool, desc: str, total: int | None = None, unit: str = "it"
) -> Iterator[T]:
    """Yield ``items`` while a :func:`bar` counts them (``total`` defaults to ``len``)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with bar(enabled, desc, total, unit) as progress:
        for item in items:
            yield item
            progress.update(1)


def notice(logger: logging.Logger, enabled: bool, message: str, *args: object) -> None:
    """Log ``message`` at INFO; with progress on and INFO not shown, also write it to stderr.

    So that a user watching the bars (without ``-v``) sees one line saying what was
    skipped, and a user with ``-v`` sees it once, as a log line.
    """
    logger.info(message, *args)
    if enabled and not logger.isEnabledFor(logging.INFO):
        tqdm.write(message % args if args else message, file=sys.stderr)

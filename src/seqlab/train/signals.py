"""Ctrl-C during training: the first one asks the loop to stop at a batch boundary."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

__all__ = ["StopRequest"]

# The Trainer's messages come from one logger, whichever of its modules says them.
logger = logging.getLogger("seqlab.train.trainer")


class StopRequest:
    """Turns the first Ctrl-C into a request to stop at the next batch boundary."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning(
            "Ctrl-C: finishing this step, saving a resumable state, then stopping "
            "(press Ctrl-C again to stop at once without saving)."
        )

    def __exit__(self, *exc: Any) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

"""The training progress bar: tqdm with loss, a metric, tokens/s and tqdm's own ETA.

The bar's figures are refreshed at most every ``refresh_s`` seconds, because reading a
loss off the GPU forces a synchronisation.
"""

from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm

__all__ = ["ProgressBar"]


class ProgressBar:
    """One bar per epoch; a no-op when ``enabled`` is false."""

    def __init__(
        self,
        enabled: bool,
        total: int | None,
        desc: str,
        initial: int = 0,
        refresh_s: float = 0.5,
    ) -> None:
        self.enabled = enabled
        self.refresh_s = refresh_s
        self._last = 0.0
        self._bar = (
            tqdm(
                total=total,
                initial=initial,
                desc=desc,
                unit="batch",
                dynamic_ncols=True,
                leave=False,
                file=sys.stderr,
            )
            if enabled
            else None
        )

    def due(self) -> bool:
        """Whether the postfix should be refreshed now (callers then read their figures)."""
        return self.enabled and time.perf_counter() - self._last >= self.refresh_s

    def update(self, postfix: dict[str, str] | None = None) -> None:
        if self._bar is None:
            return
        if postfix is not None:
            self._bar.set_postfix(postfix, refresh=False)
            self._last = time.perf_counter()
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            # Draw the epoch's final figures once even when the whole epoch ran inside
            # tqdm's redraw interval (a fast epoch would otherwise show none).
            self._bar.refresh()
            self._bar.close()

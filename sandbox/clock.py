"""A shareable clock: real time plus a manually advanced offset.

Tests move time forward (callback query expiry, flood windows, scheduled jobs)
without sleeping, so every time-dependent part of the emulator reads this clock.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self, start: float | None = None) -> None:
        # With an explicit start the clock is still "running" (real seconds elapse),
        # it is only shifted so that now() == start at construction time.
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()

"""Time as a port: the system clock in production, a rehearsal clock, a hand-moved one in tests."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Protocol

# Longest single wait, so a changed wall clock (NTP step, suspend) is noticed soon.
MAX_WAIT_SECONDS = 30.0


class Clock(Protocol):
    # How many seconds of clock time pass in one real second (a sped-up rehearsal).
    speed: float

    def now(self) -> datetime: ...

    def from_real(self, moment: datetime) -> datetime:
        """A wall-clock moment (the media plane's) on this clock."""
        ...

    async def wait_until(self, moment: datetime | None, wake: asyncio.Event) -> None:
        """Return at ``moment`` (never, if None), or earlier when ``wake`` is set."""
        ...


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def from_real(self, moment: datetime) -> datetime:
        return moment

    async def wait_until(self, moment: datetime | None, wake: asyncio.Event) -> None:
        timeout = MAX_WAIT_SECONDS
        if moment is not None:
            timeout = min(timeout, max(0.0, (moment - self.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

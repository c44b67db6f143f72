"""Plain fakes for unit tests of the cores (never used where a user would meet them)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from signaling.records.airing import Airing


class FakeClock:
    """A clock that moves only when the test says so."""

    speed = 1.0

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def from_real(self, moment: datetime) -> datetime:
        return moment  # tests report media times on this clock already

    def set(self, moment: datetime) -> None:
        self._now = moment
        self._moved.set()

    async def wait_until(self, moment: datetime | None, wake: asyncio.Event) -> None:
        while (moment is None or self._now < moment) and not wake.is_set():
            self._moved.clear()
            waiters = [
                asyncio.ensure_future(self._moved.wait()),
                asyncio.ensure_future(wake.wait()),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()


class MemorySink:
    def __init__(self) -> None:
        self.saved: dict[str, Airing] = {}
        self.last_alive: datetime | None = None

    async def save(self, airings: list[Airing]) -> None:
        for airing in airings:
            self.saved[airing.id] = airing

    async def alive(self, at: datetime) -> None:
        self.last_alive = at


class RecordingCrosspoints:
    """Remembers switch requests; the test decides when the 'keyframe' arrives, what is
    live and who watches."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.live: set[str] = set()
        self.venue_players: dict[str, int] = {}
        self.channel_players: dict[str, int] = {}
        self.sources: list[tuple[str, str]] = []
        self.languages: list[tuple[str, str | None]] = []

    def switch_to(self, venue: str, channel: str | None) -> None:
        self.requests.append((venue, channel))

    def live_channels(self) -> set[str]:
        return set(self.live)

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        return dict(self.venue_players), dict(self.channel_players)

    def use_source(self, channel: str, source: str) -> None:
        self.sources.append((channel, source))

    def set_output_language(self, venue: str, language: str | None) -> None:
        self.languages.append((venue, language))


class MemoryAppendLog:
    """An in-memory stand-in for the event store's append/read (unit tests only)."""

    def __init__(self) -> None:
        self.streams: dict[str, list[str]] = {}

    async def append(self, room: str, expected_seq: int, event: str) -> int | None:
        stream = self.streams.setdefault(room, [])
        if len(stream) != expected_seq:
            return None
        stream.append(event)
        return len(stream)

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]:
        stream = self.streams.get(room, [])
        return [(n, e) for n, e in enumerate(stream, start=1) if n > after]

    async def last_seq(self, room: str) -> int:
        return len(self.streams.get(room, []))

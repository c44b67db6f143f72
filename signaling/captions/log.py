"""Caption lines kept in the event store: one append-only stream per session and language.

The stream is the store's ordered log (``EventStore.append``), so both backends (SQLite
file, Redis) keep it, and nodes sharing a store number lines without gaps or clashes:
an append that lost a race reads the new end and tries again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import msgspec

from signaling.captions.lines import CaptionLine

logger = logging.getLogger(__name__)
# A pathological race between nodes appending to one stream gives up after this many.
MAX_APPEND_ATTEMPTS = 50


class LineStore(Protocol):
    """The part of the event store captions need."""

    async def append(self, room: str, expected_seq: int, event: str) -> int | None: ...

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]: ...

    async def last_seq(self, room: str) -> int: ...


class _Stored(msgspec.Struct, frozen=True):
    text: str
    at: float
    by: str


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Stored)


class CaptionLog:
    """Appends and reads the caption streams of one event."""

    def __init__(self, store: LineStore, event_id: str) -> None:
        self._store = store
        self._event_id = event_id
        # One writer per stream on this node: its own appends never race each other.
        self._locks: dict[str, asyncio.Lock] = {}

    def _key(self, session: str, language: str) -> str:
        return f"captions:{self._event_id}:{session}:{language}"

    async def append(
        self, session: str, language: str, texts: list[str], at: float, by: str
    ) -> list[CaptionLine]:
        """Keep ``texts`` in order, all stamped ``at``; the kept lines with their numbers."""
        key = self._key(session, language)
        lock = self._locks.setdefault(key, asyncio.Lock())
        kept: list[CaptionLine] = []
        async with lock:
            for text in texts:
                body = _encoder.encode(_Stored(text, at, by)).decode()
                kept.append(CaptionLine(seq=await self._push(key, body), text=text, at=at, by=by))
        return kept

    async def _push(self, key: str, body: str) -> int:
        for _ in range(MAX_APPEND_ATTEMPTS):
            seq = await self._store.append(key, await self._store.last_seq(key), body)
            if seq is not None:
                return seq
        raise RuntimeError(f"could not append to {key}: too much contention")

    async def lines(self, session: str, language: str, after: int = 0) -> list[CaptionLine]:
        """The kept lines of one session and language numbered above ``after``, in order."""
        found: list[CaptionLine] = []
        for seq, body in await self._store.read(self._key(session, language), after):
            try:
                stored = _decoder.decode(body)
            except msgspec.ValidationError:
                logger.warning("skipped a stored caption line that no longer parses")
                continue
            found.append(CaptionLine(seq=seq, text=stored.text, at=stored.at, by=stored.by))
        return found

    async def last(self, session: str, language: str, count: int) -> list[CaptionLine]:
        """The last ``count`` lines (for a page that starts watching)."""
        end = await self._store.last_seq(self._key(session, language))
        return await self.lines(session, language, after=max(0, end - count))

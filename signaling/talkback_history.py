"""Talkback history: the last lines of each venue, kept in the store across restarts."""

from __future__ import annotations

import logging
from typing import Protocol

import msgspec

from config import Event
from signaling.auth.grants import Grant
from signaling.protocol.server import Talkback
from signaling.talkback import hears_talkback

logger = logging.getLogger(__name__)
KEEP_LINES = 200  # per venue


class RecentStore(Protocol):
    async def push_recent(self, key: str, item: str, keep: int) -> None: ...

    async def recent(self, key: str) -> list[str]: ...


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Talkback)


class TalkbackHistory:
    """Keeps every talkback line and answers what a page may hear of the past ones."""

    def __init__(self, store: RecentStore, event: Event, keep: int = KEEP_LINES) -> None:
        self._store = store
        self._event = event
        self._keep = keep

    def _key(self, venue: str) -> str:
        return f"talkback:{self._event.id}:{venue}"

    async def record(self, line: Talkback) -> None:
        await self._store.push_recent(
            self._key(line.venue), _encoder.encode(line).decode(), self._keep
        )

    async def heard_by(self, grant: Grant) -> list[Talkback]:
        """The kept lines of every venue ``grant`` hears, oldest first."""
        lines: list[Talkback] = []
        for venue in self._event.venues:
            if not hears_talkback(grant, venue.id):
                continue
            for text in await self._store.recent(self._key(venue.id)):
                try:
                    lines.append(_decoder.decode(text))
                except msgspec.ValidationError:
                    logger.warning("skipped a stored talkback line that no longer parses")
        return sorted(lines, key=lambda line: line.at)

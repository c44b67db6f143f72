"""Each airing's recorded pieces as links, for the record exports and the player page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from signaling.records.airing import Airing
from signaling.records.recording_join import (
    IndexedFile,
    Piece,
    RecordingIndex,
    airing_pieces,
    recorded_seconds,
)
from web.client import public_base
from web.keys import CLOCK
from web.recording_wiring import RECORDINGS


def recording_index(request: web.Request) -> RecordingIndex | None:
    return request.app.get(RECORDINGS)


async def _files(request: web.Request) -> list[IndexedFile]:
    """The index's files, read in a thread: the index reads a sidecar per file, some
    tens of milliseconds for an event's worth, which the event loop must not wait on."""
    index = recording_index(request)
    return list(await asyncio.to_thread(index.files)) if index is not None else []


def file_url(base: str, piece: Piece) -> str:
    """The file's URL with a media fragment naming the stretch (``#t=from,to``)."""
    where = f"#t={piece.from_offset},{piece.to_offset}"
    return f"{base}/recordings/files/{quote(piece.file)}{where}"


def player_url(base: str, airing: Airing) -> str:
    return f"{base}/records/play?airing={quote(airing.id, safe='')}"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pieces_json(base: str, pieces: list[Piece]) -> list[dict[str, Any]]:
    """``recordings`` of an export row: one entry per stretch of a file, in time order."""
    return [
        {
            "file": p.file,
            "channel": p.channel,
            "from_offset": p.from_offset,
            "to_offset": p.to_offset,
            "start_utc": utc_text(p.start),
            "end_utc": utc_text(p.end),
            "url": file_url(base, p),
        }
        for p in pieces
    ]


def pieces_text(pieces: list[Piece]) -> str:
    """The same in one CSV cell: ``file from-to; ...`` (offsets in seconds)."""
    return "; ".join(f"{p.file} {p.from_offset}-{p.to_offset}" for p in pieces)


class RecordingLinks:
    """Per request: each airing's pieces and links (the index is read once)."""

    def __init__(self, request: web.Request, files: list[IndexedFile]) -> None:
        self._files = files
        self._now = request.app[CLOCK].now()
        self._base = public_base(request)

    @classmethod
    async def read(cls, request: web.Request) -> RecordingLinks:
        return cls(request, await _files(request))

    def pieces(self, airing: Airing) -> list[Piece]:
        return airing_pieces(airing, self._files, self._now) if self._files else []

    def player_path(self, airing: Airing) -> str:
        """The player page of ``airing`` on this site ("" when nothing of it was recorded)."""
        return player_url("", airing) if self.pieces(airing) else ""

    def json_fields(self, airing: Airing) -> dict[str, Any]:
        pieces = self.pieces(airing)
        return {
            "player_url": player_url(self._base, airing) if pieces else "",
            "recorded_seconds": recorded_seconds(pieces),
            "recordings": pieces_json(self._base, pieces),
        }

    def csv_fields(self, airing: Airing) -> dict[str, Any]:
        pieces = self.pieces(airing)
        return {
            "player_url": player_url(self._base, airing) if pieces else "",
            "recorded_seconds": recorded_seconds(pieces),
            "recordings": pieces_text(pieces),
        }

"""Recordings joined to the records: the player page, the file endpoint, the export links.

Files are served by their name in the recording index, matched against its entries; only
an entry's own path is opened, never one made from the URL, so nothing outside the index
can be reached. Like the other record exports, all of
it is for directors (and admins).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from signaling.records.recording_join import find_file, recorded_seconds
from signaling.records.report import airing_title
from web.auth import require_director
from web.errors import http_error
from web.keys import EVENT
from web.recording_links import RecordingLinks, recording_index, utc_text
from web.records_api import airings_of

WHAT = "The recordings"


async def get_recording_file(request: web.Request) -> web.StreamResponse:
    """One recorded file by its index id, with Range support (players seek with it)."""
    require_director(request, WHAT)
    index = recording_index(request)
    name = request.match_info["file"]
    # In a thread: finding a file reads the index's sidecars (see recording_links._files).
    found = await asyncio.to_thread(find_file, index, name) if index is not None else None
    if found is None or not found.path.is_file():
        raise http_error(web.HTTPNotFound, "no such recording")
    kind = "video/webm" if found.kind == "webm" else "video/mp4"
    return web.FileResponse(
        found.path, headers={"Content-Type": kind, "Cache-Control": "private, no-cache"}
    )


@aiohttp_jinja2.template("records_play.html")
async def player_page(request: web.Request) -> dict[str, Any]:
    """Plays an airing from its recorded start, piece after piece, as the venue saw it."""
    require_director(request, WHAT)
    event = request.app[EVENT]
    wanted = request.query.get("airing", "")
    airing = next((a for a in await airings_of(request) if a.id == wanted), None)
    if airing is None:
        raise http_error(web.HTTPNotFound, "no such airing")
    pieces = (await RecordingLinks.read(request)).pieces(airing)
    venue = event.venue(airing.venue)
    zone = venue.time_zone if venue else event.time_zone
    return {
        "event": event,
        "airing": airing,
        "title": airing_title(event, airing),
        "zone": zone,
        "pieces": pieces,
        "playlist": [
            {
                "url": f"/recordings/files/{quote(p.file)}",
                "from": p.from_offset,
                "to": p.to_offset,
                "start": utc_text(p.start),
            }
            for p in pieces
        ],
        "seconds": recorded_seconds(pieces),
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/records/play", player_page)
    # A file's name in the index has a folder (its channel): matched whole, never opened.
    app.router.add_get("/recordings/files/{file:.+}", get_recording_file)

"""Media JSON endpoints: live streams with stats."""

from __future__ import annotations

from aiohttp import web

from streaming.stats import streams_json
from web.keys import MEDIA


async def get_streams(request: web.Request) -> web.Response:
    return web.json_response(streams_json(request.app[MEDIA].snapshot()))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/streams", get_streams)

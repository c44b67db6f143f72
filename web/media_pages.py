"""The bare publish page (camera to WHIP); the watch page lives in web/venue_pages.py."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from web.errors import http_error
from web.keys import EVENT, MEDIA


def _channel(request: web.Request) -> str:
    channel = request.match_info["channel"]
    if request.app[EVENT].channel(channel) is None:
        raise http_error(web.HTTPNotFound, f"There is no channel '{channel}' in this event.")
    return channel


@aiohttp_jinja2.template("publish.html")
async def publish_page(request: web.Request) -> dict[str, Any]:
    channel = _channel(request)
    return {
        "event": request.app[EVENT],
        "channel": request.app[EVENT].channel(channel),
        "video_codec": request.app[MEDIA].video_codec,
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/publish/{channel}", publish_page)

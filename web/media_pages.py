"""The two bare media pages: publish a camera via WHIP, watch a channel via WHEP."""

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


@aiohttp_jinja2.template("watch.html")
async def watch_page(request: web.Request) -> dict[str, Any]:
    channel = _channel(request)
    return {"event": request.app[EVENT], "channel": request.app[EVENT].channel(channel)}


def setup(app: web.Application) -> None:
    app.router.add_get("/publish/{channel}", publish_page)
    app.router.add_get("/watch/{channel}", watch_page)

"""WHIP ingest (RFC 9725): ``POST /whip/{channel}`` and its session URLs."""

from __future__ import annotations

from aiohttp import web

from web.keys import MEDIA
from web.media_http import (
    created,
    end_session,
    endpoint_options,
    guarded,
    patch_session,
    read_offer,
    session_options,
)


def _is_backup(request: web.Request) -> bool:
    """``?backup=1`` makes the publisher the channel's backup source."""
    return request.query.get("backup", "").lower() in ("1", "true", "yes")


async def post_whip(request: web.Request) -> web.Response:
    channel = request.match_info["channel"]
    hub = request.app[MEDIA]

    async def publish() -> web.Response:
        offer, token = await read_offer(request)
        negotiated = await hub.publish(channel, offer, token, backup=_is_backup(request))
        return created(request, negotiated)

    return await guarded(publish)


def setup(app: web.Application) -> None:
    app.router.add_post("/whip/{channel}", post_whip)
    app.router.add_route("OPTIONS", "/whip/{channel}", endpoint_options)
    app.router.add_delete("/whip/{channel}/{session}", end_session)
    app.router.add_patch("/whip/{channel}/{session}", patch_session)
    app.router.add_route("OPTIONS", "/whip/{channel}/{session}", session_options)

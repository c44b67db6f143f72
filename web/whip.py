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
from web.steering import steered


def _is_backup(request: web.Request) -> bool:
    """``?backup=1`` makes the publisher the channel's backup source."""
    return request.query.get("backup", "").lower() in ("1", "true", "yes")


async def post_whip(request: web.Request) -> web.Response:
    channel = request.match_info["channel"]
    hub = request.app[MEDIA]

    async def publish() -> web.Response:
        # A venue's return feed is taken on the venue's home node.
        redirect = await steered(request, "publish", "channel", channel)
        if redirect is not None:
            return redirect
        offer, token = await read_offer(request)
        if "lang" in request.query:  # an interpreter: the channel's language track
            negotiated = await hub.publish_interpretation(
                channel, request.query["lang"], offer, token
            )
        else:
            negotiated = await hub.publish(channel, offer, token, backup=_is_backup(request))
        return created(request, negotiated)

    return await guarded(publish)


async def options_whip(request: web.Request) -> web.Response:
    """OPTIONS steered like the POST, so the ICE servers are the serving node's."""
    channel = request.match_info["channel"]
    redirect = await guarded(lambda: steered(request, "publish", "channel", channel))
    return redirect or await endpoint_options(request)


def setup(app: web.Application) -> None:
    app.router.add_post("/whip/{channel}", post_whip)
    app.router.add_route("OPTIONS", "/whip/{channel}", options_whip)
    app.router.add_delete("/whip/{channel}/{session}", end_session)
    app.router.add_patch("/whip/{channel}/{session}", patch_session)
    app.router.add_route("OPTIONS", "/whip/{channel}/{session}", session_options)

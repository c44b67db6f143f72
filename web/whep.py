"""WHEP egress: ``POST /whep/{channel}``, ``POST /whep/venue/{venue}`` and session URLs."""

from __future__ import annotations

from aiohttp import web

from web.client import client_address
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


async def post_whep_channel(request: web.Request) -> web.Response:
    channel = request.match_info["channel"]
    hub = request.app[MEDIA]

    async def play() -> web.Response:
        offer, token = await read_offer(request)
        negotiated = await hub.play(channel, offer, token, client_address(request))
        return created(request, negotiated)

    return await guarded(play)


async def post_whep_venue(request: web.Request) -> web.Response:
    venue = request.match_info["venue"]
    hub = request.app[MEDIA]

    async def play() -> web.Response:
        offer, token = await read_offer(request)
        negotiated = await hub.play_venue(venue, offer, token, client_address(request))
        return created(request, negotiated)

    return await guarded(play)


def setup(app: web.Application) -> None:
    # Venue routes first: /whep/venue/{venue} would also match /whep/{channel}/{session}.
    router = app.router
    router.add_post("/whep/venue/{venue}", post_whep_venue)
    router.add_route("OPTIONS", "/whep/venue/{venue}", endpoint_options)
    router.add_delete("/whep/venue/{venue}/{session}", end_session)
    router.add_patch("/whep/venue/{venue}/{session}", patch_session)
    router.add_route("OPTIONS", "/whep/venue/{venue}/{session}", session_options)
    router.add_post("/whep/{channel}", post_whep_channel)
    router.add_route("OPTIONS", "/whep/{channel}", endpoint_options)
    router.add_delete("/whep/{channel}/{session}", end_session)
    router.add_patch("/whep/{channel}/{session}", patch_session)
    router.add_route("OPTIONS", "/whep/{channel}/{session}", session_options)

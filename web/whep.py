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
from web.steering import steered


async def post_whep_channel(request: web.Request) -> web.Response:
    channel = request.match_info["channel"]
    hub = request.app[MEDIA]

    async def play() -> web.Response:
        # Another node of the client's region (?region=) may be the one to serve it.
        redirect = await steered(request, "play", "channel", channel)
        if redirect is not None:
            return redirect
        offer, token = await read_offer(request)
        # ?lang=ja: the audio is the ja track (the floor while it is not live).
        language = request.query.get("lang")
        negotiated = await hub.play(channel, offer, token, client_address(request), language)
        return created(request, negotiated)

    return await guarded(play)


async def post_whep_venue(request: web.Request) -> web.Response:
    venue = request.match_info["venue"]
    hub = request.app[MEDIA]

    async def play() -> web.Response:
        # A venue's output is served on its home node.
        redirect = await steered(request, "play", "venue", venue)
        if redirect is not None:
            return redirect
        offer, token = await read_offer(request)
        negotiated = await hub.play_venue(venue, offer, token, client_address(request))
        return created(request, negotiated)

    return await guarded(play)


async def options_whep_channel(request: web.Request) -> web.Response:
    """OPTIONS steered like the POST, so the ICE servers are the serving node's."""
    channel = request.match_info["channel"]
    redirect = await guarded(lambda: steered(request, "play", "channel", channel))
    return redirect or await endpoint_options(request)


async def options_whep_venue(request: web.Request) -> web.Response:
    venue = request.match_info["venue"]
    redirect = await guarded(lambda: steered(request, "play", "venue", venue))
    return redirect or await endpoint_options(request)


def setup(app: web.Application) -> None:
    # Venue routes first: /whep/venue/{venue} would also match /whep/{channel}/{session}.
    router = app.router
    router.add_post("/whep/venue/{venue}", post_whep_venue)
    router.add_route("OPTIONS", "/whep/venue/{venue}", options_whep_venue)
    router.add_delete("/whep/venue/{venue}/{session}", end_session)
    router.add_patch("/whep/venue/{venue}/{session}", patch_session)
    router.add_route("OPTIONS", "/whep/venue/{venue}/{session}", session_options)
    router.add_post("/whep/{channel}", post_whep_channel)
    router.add_route("OPTIONS", "/whep/{channel}", options_whep_channel)
    router.add_delete("/whep/{channel}/{session}", end_session)
    router.add_patch("/whep/{channel}/{session}", patch_session)
    router.add_route("OPTIONS", "/whep/{channel}/{session}", session_options)

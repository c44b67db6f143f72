"""Routing over HTTP: the matrix, crosspoints and automation on/off per venue.

The same actions exist on the websocket (``route``, ``set_automation``); both go through
the ``RoutingService`` so every page sees the matrix change, and both ask ``Grant.directs``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.errors import BadMessage, NotFound
from signaling.protocol.codec import decode_object
from signaling.routing.router import RoutingError
from web.auth import require_director
from web.keys import EVENT, MEDIA, ROUTING
from web.media_http import guarded

NO_ROUTING = "routing does not run on this node"


async def _json_field(request: web.Request, name: str, example: str) -> Any:
    try:
        # Not request.json(): its parser answers deep nesting with a RecursionError (500).
        body = decode_object(await request.read())
    except BadMessage as error:
        raise BadMessage(f"{error.message}: {example}") from None
    if name not in body:
        raise BadMessage(f"send JSON: {example}")
    return body[name]


def _director(request: web.Request, venue: str) -> str:
    """Check the caller may route ``venue``; returns the name the records will show."""
    if request.app[EVENT].venue(venue) is None:
        # 404 for an unknown venue before 401/403: venue ids are public.
        raise NotFound(f"there is no venue '{venue}' in this event")
    return require_director(request, "Routing venues", bearer_api=True).identity


async def post_route(request: web.Request) -> web.Response:
    """Route a channel (or nothing) to a venue output; the cut happens at a keyframe."""
    venue = request.match_info["venue"]
    by = _director(request, venue)
    channel = await _json_field(request, "channel", '{"channel": "<id>"} or {"channel": null}')
    if channel is not None and not isinstance(channel, str):
        raise BadMessage("channel must be a string or null")
    hub = request.app[MEDIA]
    routing = request.app.get(ROUTING)
    if routing is None:

        async def crosspoint() -> None:
            hub.route(venue, channel)  # this node runs no automation: a plain crosspoint

        await guarded(crosspoint)  # an unknown channel is the media plane's 404
    else:
        try:
            await routing.route(venue, channel, by)
        except RoutingError as error:
            raise NotFound(str(error)) from None
    output = hub.venue_output(venue)
    body = {"venue": venue, "routed": output.routed_channel, "on_air": output.on_air_channel}
    return web.json_response(body, status=202)


async def post_automation(request: web.Request) -> web.Response:
    """``{"on": false}`` pauses the schedule automation of a venue; ``true`` resumes it."""
    venue = request.match_info["venue"]
    _director(request, venue)
    on = await _json_field(request, "on", '{"on": true} or {"on": false}')
    if not isinstance(on, bool):
        raise BadMessage("on must be true or false")
    routing = request.app.get(ROUTING)
    if routing is None:
        raise NotFound(NO_ROUTING)
    await (routing.resume(venue) if on else routing.pause(venue))
    return web.json_response({"venue": venue, "automation": "on" if on else "paused"})


async def get_routing(request: web.Request) -> web.Response:
    routing = request.app.get(ROUTING)
    if routing is None:
        raise NotFound(NO_ROUTING)
    return web.json_response(routing.matrix())


def setup(app: web.Application) -> None:
    app.router.add_get("/api/routing", get_routing)
    app.router.add_post("/api/venues/{venue}/route", post_route)
    app.router.add_post("/api/venues/{venue}/automation", post_automation)

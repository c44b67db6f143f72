"""Routing over HTTP: the matrix, crosspoints and automation on/off per venue.

The same actions exist on the websocket (``route``, ``set_automation``); both go through
the ``RoutingService`` so every page sees the matrix change.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.errors import Unauthorized
from signaling.routing.router import RoutingError
from streaming import errors
from streaming.http_rules import bearer_token
from web.auth import request_grant
from web.keys import MEDIA, ROUTING
from web.media_http import guarded

INGEST_KEY_NAME = "ingest key"


async def _json_field(request: web.Request, name: str, example: str) -> Any:
    try:
        body: Any = await request.json()
    except ValueError:
        raise errors.BadRequest(f"send JSON: {example}") from None
    if not isinstance(body, dict) or name not in body:
        raise errors.BadRequest(f"send JSON: {example}")
    return body[name]


def _director(request: web.Request, venue: str) -> str:
    """Check the caller may route ``venue``; returns the name the records will show."""
    hub = request.app[MEDIA]
    hub.venue_output(venue)  # 404 for an unknown venue first: venue ids are public
    token = bearer_token(request.headers.get("Authorization"))
    if not hub.access.may_route(token, venue):
        if token is None:
            raise errors.Unauthenticated("a Bearer token is required")
        raise errors.Forbidden("this token may not route venues")
    try:
        grant = request_grant(request)
    except Unauthorized:
        grant = None  # the ingest key is not a signed token
    return grant.identity if grant is not None else INGEST_KEY_NAME


async def post_route(request: web.Request) -> web.Response:
    """Route a channel (or nothing) to a venue output; the cut happens at a keyframe."""
    venue = request.match_info["venue"]

    async def route() -> dict[str, Any]:
        by = _director(request, venue)
        channel = await _json_field(request, "channel", '{"channel": "<id>"} or {"channel": null}')
        if channel is not None and not isinstance(channel, str):
            raise errors.BadRequest("channel must be a string or null")
        hub = request.app[MEDIA]
        routing = request.app.get(ROUTING)
        if routing is None:
            hub.route(venue, channel)  # this node runs no automation: a plain crosspoint
        else:
            try:
                await routing.route(venue, channel, by)
            except RoutingError as error:
                raise errors.NotFound(str(error)) from None
        output = hub.venue_output(venue)
        return {"venue": venue, "routed": output.routed_channel, "on_air": output.on_air_channel}

    return web.json_response(await guarded(route), status=202)


async def post_automation(request: web.Request) -> web.Response:
    """``{"on": false}`` pauses the schedule automation of a venue; ``true`` resumes it."""
    venue = request.match_info["venue"]

    async def switch() -> dict[str, Any]:
        _director(request, venue)
        on = await _json_field(request, "on", '{"on": true} or {"on": false}')
        if not isinstance(on, bool):
            raise errors.BadRequest("on must be true or false")
        routing = request.app.get(ROUTING)
        if routing is None:
            raise errors.NotFound("routing does not run on this node")
        await (routing.resume(venue) if on else routing.pause(venue))
        return {"venue": venue, "automation": "on" if on else "paused"}

    return web.json_response(await guarded(switch))


async def get_routing(request: web.Request) -> web.Response:
    routing = request.app.get(ROUTING)
    if routing is None:
        raise web.HTTPNotFound(text="routing does not run on this node", content_type="text/plain")
    return web.json_response(routing.matrix())


def setup(app: web.Application) -> None:
    app.router.add_get("/api/routing", get_routing)
    app.router.add_post("/api/venues/{venue}/route", post_route)
    app.router.add_post("/api/venues/{venue}/automation", post_automation)

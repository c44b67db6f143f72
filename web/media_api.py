"""Media JSON endpoints: live streams with stats, and routing a channel to a venue."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streaming import errors
from streaming.http_rules import bearer_token
from streaming.stats import streams_json
from web.keys import MEDIA
from web.media_http import guarded


async def get_streams(request: web.Request) -> web.Response:
    return web.json_response(streams_json(request.app[MEDIA]))


async def _route_body(request: web.Request) -> str | None:
    try:
        body: Any = await request.json()
    except ValueError:
        raise errors.BadRequest('send JSON: {"channel": "<id>"} or {"channel": null}') from None
    if not isinstance(body, dict) or "channel" not in body:
        raise errors.BadRequest('send JSON: {"channel": "<id>"} or {"channel": null}')
    channel = body["channel"]
    if channel is not None and not isinstance(channel, str):
        raise errors.BadRequest("channel must be a string or null")
    return channel


async def post_route(request: web.Request) -> web.Response:
    """Route a channel to a venue output; the cut happens at the next keyframe."""
    hub = request.app[MEDIA]
    venue = request.match_info["venue"]

    async def route() -> dict[str, Any]:
        token = bearer_token(request.headers.get("Authorization"))
        hub.venue_output(venue)
        if not hub.access.may_route(token, venue):
            if token is None:
                raise errors.Unauthenticated("a Bearer token is required")
            raise errors.Forbidden("this token may not route venues")
        output = hub.route(venue, await _route_body(request))
        return {"venue": venue, "routed": output.routed_channel, "on_air": output.on_air_channel}

    return web.json_response(await guarded(route), status=202)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/streams", get_streams)
    app.router.add_post("/api/venues/{venue}/route", post_route)

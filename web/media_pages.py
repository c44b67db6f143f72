"""The publish page (camera to WHIP) and its chooser; the watch page lives in web/venue_pages.py."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config import Channel, Event
from signaling.auth import Grant
from signaling.errors import Unauthorized
from web.auth import COOKIE
from web.display_names import display_names
from web.errors import http_error
from web.keys import CREDENTIALS, EVENT, MEDIA


def _channel(request: web.Request) -> str:
    channel = request.match_info["channel"]
    if request.app[EVENT].channel(channel) is None:
        raise http_error(web.HTTPNotFound, f"There is no channel '{channel}' in this event.")
    return channel


def _signed_in(request: web.Request) -> Grant | None:
    """The grant of the invite cookie, if a valid one is there."""
    # The page itself is public (a stream key may be pasted); a sign-in only adds to it.
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return request.app[CREDENTIALS].grant(token)
    except Unauthorized:
        return None


def produced_channels(event: Event, grant: Grant | None) -> list[Channel]:
    """The channels a producer's invite names (none for all-channel and other grants)."""
    if grant is None or "*" in grant.channels:
        return []
    return [c for c in event.channels if c.id in grant.channels]


@aiohttp_jinja2.template("publish.html")
async def publish_page(request: web.Request) -> dict[str, Any]:
    channel = _channel(request)
    event = request.app[EVENT]
    grant = _signed_in(request)
    mine = produced_channels(event, grant)
    signed_in = grant.identity if grant is not None and grant.produces(channel) else ""
    return {
        "event": event,
        "channel": event.channel(channel),
        "video_codec": request.app[MEDIA].video_codec,
        "signed_in": signed_in,
        "others": [c for c in mine if c.id != channel],
        "names": display_names(event),
    }


async def publish_chooser(request: web.Request) -> web.Response:
    """``/publish``: a producer's channels; one channel goes straight to its page."""
    event = request.app[EVENT]
    mine = produced_channels(event, _signed_in(request))
    if len(mine) == 1:
        raise web.HTTPSeeOther(location=f"/publish/{mine[0].id}")
    context = {"event": event, "channels": mine or list(event.channels)}
    return aiohttp_jinja2.render_template("publish_choose.html", request, context)


def setup(app: web.Application) -> None:
    app.router.add_get("/publish", publish_chooser)
    app.router.add_get("/publish/{channel}", publish_page)

"""Issue 6 pages: the sub-venue operator console, the viewer page, the return-feed wall.

Thin: each handler checks who may see the page and hands the template plain data. The
pages carry the request's token (header, invite cookie or ``?token=``) so their scripts
can send it as the Bearer of WHIP/WHEP requests, which do not read the cookie.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config import Event, Venue
from config.event import ChannelKind, VenueKind
from signaling.auth import Grant, Role
from signaling.errors import Forbidden
from web.auth import request_token, require_director, require_grant
from web.errors import http_error
from web.keys import EVENT, HUB, MEDIA


def _grant(request: web.Request, what: str) -> Grant:
    return require_grant(request, missing=f"{what} needs an invite link.")


def return_channel(event: Event, venue_id: str) -> str | None:
    """The id of ``venue_id``'s return-feed channel, if it has one."""
    for channel in event.channels:
        if channel.venue == venue_id and channel.kind is ChannelKind.RETURN:
            return channel.id
    return None


def _venue(request: web.Request) -> Venue:
    venue_id = request.match_info["venue"]
    venue = request.app[EVENT].venue(venue_id)
    if venue is None:
        raise http_error(web.HTTPNotFound, f"There is no venue '{venue_id}' in this event.")
    return venue


async def venue_console(request: web.Request) -> web.Response:
    """``/venue/{venue}``: that venue's operator, or a director or admin."""
    venue = _venue(request)
    grant = _grant(request, "The operator console")
    own_venue = grant.role is Role.OPERATOR and grant.venue == venue.id
    if not own_venue and not grant.directs:
        raise Forbidden("Your invite does not operate this venue.")
    event = request.app[EVENT]
    context = {
        "event": event,
        "venue": venue,
        "grant": grant,
        "token": request_token(request) or "",
        "return_channel": return_channel(event, venue.id) or "",
        "video_codec": request.app[MEDIA].video_codec,
    }
    return aiohttp_jinja2.render_template("venue.html", request, context)


async def returns_wall(request: web.Request) -> web.Response:
    """``/returns``: every sub-venue's return feed; directors and admins."""
    what = "The return-feed wall"
    require_director(request, what, missing=f"{what} needs an invite link.")
    event = request.app[EVENT]
    feeds = [
        {"venue": v, "channel": channel}
        for v in event.venues
        if v.kind is VenueKind.SUB and (channel := return_channel(event, v.id))
    ]
    context = {"event": event, "feeds": feeds, "token": request_token(request) or ""}
    return aiohttp_jinja2.render_template("returns.html", request, context)


async def watch_page(request: web.Request) -> web.Response:
    """``/watch/{channel}`` (``?session=`` picks the Q&A) and ``/session/{id}``."""
    event = request.app[EVENT]
    session_id = request.match_info.get("session") or request.query.get("session")
    session = event.session(session_id) if session_id else None
    if session_id and session is None:
        raise http_error(web.HTTPNotFound, f"There is no session '{session_id}' in this event.")
    channel_id = request.match_info.get("channel") or (session.channel if session else "")
    channel = event.channel(channel_id)
    if channel is None:
        raise http_error(web.HTTPNotFound, f"There is no channel '{channel_id}' in this event.")
    if session is not None and session.channel != channel.id:
        raise http_error(web.HTTPNotFound, f"'{session.title}' is not on {channel.title}.")
    context: dict[str, Any] = {"event": event, "channel": channel, "session": session}
    return aiohttp_jinja2.render_template("watch.html", request, context)


async def channel_viewers(request: web.Request) -> web.Response:
    """How many pages show a channel now (presence summed over nodes); public."""
    channel = request.match_info["channel"]
    if request.app[EVENT].channel(channel) is None:
        raise http_error(web.HTTPNotFound, f"unknown channel '{channel}'")
    counts = request.app[HUB].presence().get("viewers_by_channel", {})
    viewers = counts.get(channel, 0) if isinstance(counts, dict) else 0
    return web.json_response({"channel": channel, "viewers": viewers})


def setup(app: web.Application) -> None:
    app.router.add_get("/venue/{venue}", venue_console, name="venue_console")
    app.router.add_get("/returns", returns_wall, name="returns")
    app.router.add_get("/watch/{channel}", watch_page, name="watch")
    app.router.add_get("/session/{session}", watch_page, name="session_watch")
    app.router.add_get("/api/channels/{channel}/viewers", channel_viewers)

"""Issue 6 pages: the sub-venue operator console, the viewer page, the return-feed wall.

Thin: each handler checks who may see the page and hands the template plain data. The
token never goes into the HTML: the pages' scripts authenticate their same-origin
requests (``/ws``, WHIP/WHEP) with the HttpOnly invite cookie the browser sends itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config import Event, Venue
from config.event import ChannelKind, LocalText, VenueKind
from config.schedule import ChannelNow, session_on_channel
from signaling.auth import Grant, Role
from signaling.errors import Forbidden
from web.auth import require_director, require_grant
from web.display_names import LANGUAGE_NAMES, display_names, track_options
from web.errors import http_error
from web.keys import CLOCK, EVENT, HUB, MEDIA
from web.page_language import language_context


def _grant(request: web.Request, what: str) -> Grant:
    return require_grant(request, missing=f"{what} needs an invite link.")


def return_channel(event: Event, venue_id: str) -> str | None:
    """The id of ``venue_id``'s return-feed channel, if it has one."""
    for channel in event.channels:
        if channel.venue == venue_id and channel.kind is ChannelKind.RETURN:
            return channel.id
    return None


def _channel_title(event: Event, channel_id: str | None) -> LocalText | str:
    """The channel's title (templates print it in the page's language), or ""."""
    channel = event.channel(channel_id) if channel_id else None
    return channel.title if channel else ""


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
        "return_channel": return_channel(event, venue.id) or "",
        "return_title": _channel_title(event, return_channel(event, venue.id)),
        "video_codec": request.app[MEDIA].video_codec,
        "names": display_names(event),
        "track_options": track_options(event),
        **language_context(request),
    }
    return aiohttp_jinja2.render_template("venue.html", request, context)


async def returns_wall(request: web.Request) -> web.Response:
    """``/returns``: every sub-venue's return feed; directors and admins."""
    what = "The return-feed wall"
    require_director(request, what, missing=f"{what} needs an invite link.")
    event = request.app[EVENT]
    feeds = [
        {"venue": v, "channel": channel, "channel_title": _channel_title(event, channel)}
        for v in event.venues
        if v.kind is VenueKind.SUB and (channel := return_channel(event, v.id))
    ]
    context = {
        "event": event,
        "feeds": feeds,
        "names": display_names(event),
    }
    return aiohttp_jinja2.render_template("returns.html", request, context)


def page_moment(request: web.Request) -> datetime:
    """The page's clock: ``?at=`` (ISO 8601, rehearsals and tests) pins it, else the
    server's clock (the rehearsal clock in a rehearsal)."""
    at = request.query.get("at")
    if not at:
        clock = request.app.get(CLOCK)
        return clock.now() if clock is not None else datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise http_error(
            web.HTTPBadRequest,
            f"?at= needs a date-time with a zone, e.g. 2018-12-21T02:30:00Z: '{at}'",
        )
    return moment


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


async def watch_page(request: web.Request) -> web.Response:
    """``/watch/{channel}`` follows the session on the channel now; ``?session=`` and
    ``/session/{id}`` fix one."""
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
    following: ChannelNow | None = None
    if session is None:
        following = session_on_channel(event, channel.id, page_moment(request))
        session = following.session
    context: dict[str, Any] = {
        "event": event,
        "channel": channel,
        "session": session,
        "follow": following is not None,
        "recheck_at": _iso(following.recheck_at) if following else "",
        "names": display_names(event),
        **language_context(request),
        "language_names": LANGUAGE_NAMES,
    }
    return aiohttp_jinja2.render_template("watch.html", request, context)


async def channel_session(request: web.Request) -> web.Response:
    """The session ``/watch/{channel}`` shows at ``?at=`` (default now); public."""
    event = request.app[EVENT]
    channel_id = request.match_info["channel"]
    if event.channel(channel_id) is None:
        raise http_error(web.HTTPNotFound, f"unknown channel '{channel_id}'")
    now = session_on_channel(event, channel_id, page_moment(request))
    session = now.session
    return web.json_response(
        {
            "channel": channel_id,
            "state": now.state,
            "session": None
            if session is None
            else {
                "id": session.id,
                "title": str(session.title),
                "titles": session.title.as_dict(),
                "qa": session.qa,
                "start": _iso(session.start),
                "end": _iso(session.end),
            },
            "recheck_at": _iso(now.recheck_at) or None,
        }
    )


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
    app.router.add_get("/api/channels/{channel}/session", channel_session)

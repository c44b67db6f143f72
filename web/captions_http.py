"""Captions at the HTTP edge: the captioner's page and the WebVTT export.

``/caption/{session}`` needs a token that may caption the session (a captioner of it, or
a director); ``/api/sessions/{id}/captions.{lang}.vtt`` is public, like the captions
every viewer of the session reads.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

import aiohttp_jinja2
from aiohttp import web

from config import Event, Session
from signaling.captions.webvtt import render
from signaling.errors import Forbidden
from signaling.qa.limits import Rate, RateLimiter
from signaling.records.airing import Airing
from signaling.records.store import AiringStore
from web.auth import require_grant
from web.client import client_address
from web.display_names import display_names
from web.errors import http_error
from web.keys import EVENT, HUB, ROUTING, SETTINGS, STORE

# The export's per-address bucket (``[captions] export_burst``, ``exports_per_minute``).
EXPORTS = web.AppKey("caption_exports", RateLimiter)

# What the page calls each language it offers (the rest show their code).
LANGUAGE_NAMES = {"zh": "中文", "en": "English", "ja": "日本語", "ko": "한국어", "ru": "Русский"}


def _session(request: web.Request) -> Session:
    session_id = request.match_info["session"]
    session = request.app[EVENT].session(session_id)
    if session is None:
        raise http_error(web.HTTPNotFound, f"There is no session '{session_id}' in this event.")
    return session


async def caption_page(request: web.Request) -> web.Response:
    session = _session(request)
    grant = require_grant(request, "The captioner page needs a captioner invite link.")
    languages = [lang for lang in session.languages if grant.captions(session.id, lang)]
    if not languages:
        raise Forbidden("Your invite does not caption this session.")
    limits = request.app[HUB].captions.limits
    context = {
        "event": request.app[EVENT],
        "session": session,
        "grant": grant,
        "languages": [(lang, LANGUAGE_NAMES.get(lang, lang)) for lang in languages],
        "limits": limits,
        "names": display_names(request.app[EVENT]),
    }
    return aiohttp_jinja2.render_template("caption.html", request, context)


async def _airings(request: web.Request, event: Event) -> list[Airing]:
    """The routing node holds the as-run log in memory; other nodes fold the stored one."""
    routing = request.app.get(ROUTING)
    if routing is not None:
        return routing.log.airings()
    return await AiringStore(request.app[STORE], event.id).load()


def session_start(session: Session, airings: list[Airing]) -> tuple[datetime, str]:
    """Where cue times count from: the earliest actual start of the session's airings (the
    as-run record), else its scheduled start; and which one it is, in words."""
    started = [a.actual_start for a in airings if a.session == session.id and a.actual_start]
    if started:
        return min(started), "the actual start (as-run record)"
    return session.start, "the scheduled start"


def _spend_export(request: web.Request) -> None:
    """429 with Retry-After when the client's address is past its export rate."""
    if request.app[EXPORTS].check(client_address(request), time.monotonic()):
        return
    per_minute = request.app[SETTINGS].captions.exports_per_minute
    refused = http_error(web.HTTPTooManyRequests, "Too many caption exports; wait a moment.")
    refused.headers["Retry-After"] = str(math.ceil(60 / per_minute))
    raise refused


async def captions_vtt(request: web.Request) -> web.Response:
    event = request.app[EVENT]
    session = _session(request)
    _spend_export(request)
    language = request.match_info["lang"]
    if language not in session.languages:
        spoken = ", ".join(session.languages)
        message = f"'{session.id}' has no '{language}' captions; its languages: {spoken}"
        raise http_error(web.HTTPNotFound, message)
    captions = request.app[HUB].captions
    lines = await captions.log.lines(session.id, language)
    start, which = session_start(session, await _airings(request, event))
    note = f"{session.id} ({language}); cue times from {which}, {start.isoformat()}"
    text = render(lines, start.timestamp(), captions.limits.max_cue_seconds, note=note)
    return web.Response(
        text=text,
        content_type="text/vtt",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{session.id}.{language}.vtt"',
            "Cache-Control": "no-store",
        },
    )


def setup(app: web.Application) -> None:
    captions = app[SETTINGS].captions
    app[EXPORTS] = RateLimiter(Rate(captions.export_burst, captions.exports_per_minute))
    app.router.add_get("/caption/{session}", caption_page, name="caption")
    app.router.add_get("/api/sessions/{session}/captions.{lang:[a-z0-9-]+}.vtt", captions_vtt)

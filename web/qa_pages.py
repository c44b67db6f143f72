"""Q&A pages: ask and vote, the moderation console, the stage display (``/join``: web/join.py)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup

from config import Session
from signaling.auth import Grant, Role
from signaling.errors import Forbidden
from web.auth import require_grant

# Re-exported: pages that build links import it from here too.
from web.client import public_base as public_base
from web.display_names import display_names
from web.errors import http_error
from web.keys import EVENT
from web.page_language import language_context


def _qa_session(request: web.Request) -> Session:
    session_id = request.match_info["session"]
    session = request.app[EVENT].session(session_id)
    if session is None:
        raise http_error(web.HTTPNotFound, f"There is no session '{session_id}' in this event.")
    if not session.qa:
        raise http_error(web.HTTPNotFound, f"The session '{session.title}' has no Q&A.")
    return session


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code for ``url``; segno draws modules only, no text from the URL."""
    svg = segno.make_qr(url, error="m").svg_inline(scale=5, border=2, dark="#1d2330")
    return Markup(svg)  # segno draws modules only: no text from the URL appears in it


def _context(request: web.Request, session: Session, **extra: Any) -> dict[str, Any]:
    event = request.app[EVENT]
    qa_url = f"{public_base(request)}/qa/{session.id}"
    names = display_names(event)
    return {
        "event": event,
        "session": session,
        "qa_url": qa_url,
        "names": names,
        **language_context(request),
        **extra,
    }


@aiohttp_jinja2.template("qa.html")
async def qa_page(request: web.Request) -> dict[str, Any]:
    return _context(request, _qa_session(request))


@aiohttp_jinja2.template("stage.html")
async def stage_page(request: web.Request) -> dict[str, Any]:
    session = _qa_session(request)
    context = _context(request, session)
    context["qr"] = qr_svg(context["qa_url"])
    return context


async def moderate_page(request: web.Request) -> web.Response:
    session = _qa_session(request)
    grant = require_grant(request, "The moderation console needs a moderator invite link.")
    if not grant.moderates(session.id):
        raise Forbidden("Your invite does not moderate this session.")
    context = _context(request, session, grant=grant)
    context["qr"] = qr_svg(context["qa_url"])
    return aiohttp_jinja2.render_template("moderate.html", request, context)


def landing(grant: Grant) -> str:
    """Where an invite link takes its holder."""
    if grant.role is Role.MODERATOR and len(grant.sessions) == 1 and grant.sessions[0] != "*":
        return f"/moderate/{grant.sessions[0]}"
    if grant.role is Role.OPERATOR and grant.venue:
        return f"/venue/{grant.venue}"
    if grant.role is Role.PRODUCER and grant.channels:
        # One channel: its publish page; several (or all): the chooser (web/media_pages.py).
        one = len(grant.channels) == 1 and grant.channels[0] != "*"
        return f"/publish/{grant.channels[0]}" if one else "/publish"
    if grant.role is Role.CAPTIONER and len(grant.sessions) == 1 and grant.sessions[0] != "*":
        return f"/caption/{grant.sessions[0]}"
    if grant.role is Role.INTERPRETER and grant.channels:
        return f"/interpret/{grant.channels[0]}"
    if grant.role is Role.ADMIN:
        return "/admin/invites"
    if grant.directs:
        return "/director"
    return "/"


def setup(app: web.Application) -> None:
    app.router.add_get("/qa/{session}", qa_page, name="qa")
    app.router.add_get("/moderate/{session}", moderate_page, name="moderate")
    app.router.add_get("/stage/{session}", stage_page, name="stage")

"""``/admin/invites``: admins create, list and revoke invite links, each with its QR code.

Server-rendered forms that work without JavaScript (``static/admin/invites.js`` only
hides the scope fields a role does not use and copies links). Every POST acts with the
invite cookie, so like ``POST /join`` it must carry our own ``Origin``; a request with
``Authorization: Bearer`` cannot be forged by another site's page and is let through.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
import segno
from aiohttp import web

from signaling.auth import Grant, Role
from signaling.auth.grants import PEOPLE_ROLES
from signaling.errors import Forbidden, Refused, SignalingError
from signaling.invites import InviteRow, parse_request
from web.auth import require_grant
from web.client import public_base
from web.errors import http_error, http_error_for
from web.keys import AUTHORITY, EVENT, HUB, INVITES, SETTINGS
from web.origin import is_same_origin

PAGE = "/admin/invites"


def _admin(request: web.Request) -> Grant:
    grant = require_grant(request, "the invite page needs an admin's invite link")
    if grant.role is not Role.ADMIN:
        raise Forbidden("the invite page is for admins")
    return grant


def _from_our_page(request: web.Request) -> None:
    """Refuses a cookie-borne POST whose ``Origin`` is missing or another site's."""
    if "Authorization" in request.headers:
        return
    origin = request.headers.get("Origin")
    if origin is None or not is_same_origin(request, origin):
        raise http_error(web.HTTPForbidden, "Send this form from this site's own invite page.")


def _when(moment: float | None) -> str:
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment: float | None) -> str:
    return "" if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def invite_link(request: web.Request, token: str) -> str:
    """The invite's ``/join`` link on our public address."""
    return f"{public_base(request)}/join?token={token}"


def _row(request: web.Request, row: InviteRow) -> dict[str, Any]:
    invite, use = row.invite, row.last_use
    return {
        "id": invite.id,
        "label": invite.label,
        "role": invite.role,
        "scope": invite.scope(),
        "identity": invite.identity,
        "created_by": invite.created_by,
        "created": _when(invite.created_at),
        "created_iso": _iso(invite.created_at),
        "expires": _when(invite.expires_at),
        "expires_iso": _iso(invite.expires_at),
        "state": row.state,
        "joined": _when(use.joined),
        "joined_iso": _iso(use.joined),
        "seen": _when(use.seen),
        "seen_iso": _iso(use.seen),
        "link": invite_link(request, invite.token) if row.state == "active" else None,
    }


async def _context(request: web.Request, admin: Grant, **extra: Any) -> dict[str, Any]:
    event, settings = request.app[EVENT], request.app[SETTINGS]
    await request.app[HUB].revoker.catch_up()  # revocations from the CLI or other nodes
    rows = await request.app[INVITES].rows(time.time())
    authority = request.app[AUTHORITY]
    return {
        "event": event,
        "admin": admin,
        "rows": [_row(request, row) for row in rows],
        "roles": [(role.value, authority.max_lifetime(role) / 3600) for role in PEOPLE_ROLES],
        "limits": settings.invites,
        "form": {},
        "error": None,
        "created": request.query.get("created"),
        "revoked": request.query.get("revoked"),
        **extra,
    }


def _render(request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template("invites.html", request, context, status=status)
    # The page holds live tokens: never cached, and no other site learns its address.
    # ("no-referrer" would also make Chromium send ``Origin: null`` with the page's forms.)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def invites_page(request: web.Request) -> web.Response:
    """``GET /admin/invites``: the form and the list."""
    admin = _admin(request)
    return _render(request, await _context(request, admin))


async def create_invite(request: web.Request) -> web.Response:
    """``POST /admin/invites``: issue one; a refusal shows the form again, values kept."""
    admin = _admin(request)
    _from_our_page(request)
    posted = await request.post()
    form = {key: [v for v in posted.getall(key) if isinstance(v, str)] for key in posted}
    event, settings = request.app[EVENT], request.app[SETTINGS]
    authority = request.app[AUTHORITY]
    try:
        asked = parse_request(
            form,
            event,
            lambda role: authority.max_lifetime(role) / 3600,
            settings.invites.max_label_chars,
        )
        invite = await request.app[INVITES].issue(asked, admin.identity, time.time())
    except SignalingError as error:
        status = http_error_for(error).status
        context = await _context(request, admin, form=form, error=error.message)
        return _render(request, context, status=status)
    raise web.HTTPSeeOther(location=f"{PAGE}?created={invite.id}#invite-{invite.id}")


async def revoke_invite(request: web.Request) -> web.Response:
    """``POST /admin/invites/{id}/revoke``: through the revoker, which closes its sockets."""
    admin = _admin(request)
    _from_our_page(request)
    invite_id = request.match_info["invite"]
    entry = await request.app[INVITES].revocation(invite_id, admin.identity, time.time())
    await request.app[HUB].revoker.revoke(entry)
    raise web.HTTPSeeOther(location=f"{PAGE}?revoked={invite_id}#invite-{invite_id}")


async def invite_qr(request: web.Request) -> web.Response:
    """``GET /admin/invites/{id}/qr.svg``: the QR code of an active invite's link."""
    _admin(request)
    await request.app[HUB].revoker.catch_up()
    invite = await request.app[INVITES].find(request.match_info["invite"])
    if invite is None:
        raise http_error(web.HTTPNotFound, "There is no such invite in this event.")
    state = invite.state(request.app[AUTHORITY].revocations, time.time())
    if state != "active":
        raise Refused(f"this invite is {state}: its link no longer works")
    svg = io.BytesIO()
    qr = segno.make_qr(invite_link(request, invite.token), error="m")
    qr.save(svg, kind="svg", scale=4, border=3, dark="#1d2330", light="#ffffff", xmldecl=False)
    return web.Response(
        body=svg.getvalue(),
        content_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get(PAGE, invites_page, name="invites")
    app.router.add_post(PAGE, create_invite)
    app.router.add_post(PAGE + "/{invite}/revoke", revoke_invite)
    app.router.add_get(PAGE + "/{invite}/qr.svg", invite_qr)

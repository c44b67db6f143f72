"""``POST /api/tokens/revoke``: an admin revokes one token or every token of a role.

Body: ``{"token_id": "<jti>"}``, ``{"token": "<the token itself>"}`` or ``{"role": "viewer"}``
(every viewer token issued before now). The entry goes into the store; this node applies
it at once and closes the revoked websockets, the others within the refresh interval.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from signaling.auth import Grant, Role
from signaling.auth.revocation import Revocation, revoke_role, revoke_token
from signaling.errors import BadMessage, Forbidden, Unauthorized
from signaling.protocol.codec import decode_object
from web.auth import require_grant
from web.keys import AUTHORITY, HUB

EXAMPLE = '{"token_id": "<id>"}, {"token": "<token>"} or {"role": "<role>"}'


def _admin(request: web.Request) -> Grant:
    grant = require_grant(request)
    if grant.role is not Role.ADMIN:
        raise Forbidden("revoking tokens is for admins")
    return grant


def _entry(request: web.Request, body: dict[str, Any], by: str, now: float) -> Revocation:
    """The revocation the body asks for; ``BadMessage`` when it asks for none or several."""
    asked = [key for key in ("token_id", "token", "role") if key in body]
    if len(asked) != 1 or not isinstance(body[asked[0]], str):
        raise BadMessage(f"send one of {EXAMPLE}")
    value: str = body[asked[0]]
    if asked[0] == "role":
        try:
            return revoke_role(Role(value), by, now)
        except ValueError:
            raise BadMessage(f"no role '{value[:40]}'") from None
    if asked[0] == "token":
        try:
            value = request.app[AUTHORITY].verify(value).token_id or ""
        except Unauthorized:
            raise BadMessage("that token is not valid now: nothing to revoke") from None
    try:
        return revoke_token(value, by, now)
    except ValueError:
        raise BadMessage("that token has no id: revoke its role instead") from None


async def post_revoke(request: web.Request) -> web.Response:
    """Record a revocation; answers what was revoked and how many sockets closed here."""
    admin = _admin(request)
    body = decode_object(await request.read())
    entry = _entry(request, body, admin.identity, time.time())
    closed = await request.app[HUB].revoker.revoke(entry)
    return web.json_response({"revoked": entry.describe(), "closed_here": closed})


def setup(app: web.Application) -> None:
    app.router.add_post("/api/tokens/revoke", post_revoke)

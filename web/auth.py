"""Finding and checking the token a request carries (header, cookie or query)."""

from __future__ import annotations

from aiohttp import web

from signaling.auth import Grant
from signaling.errors import Unauthorized
from web.keys import AUTHORITY

COOKIE = "vb_token"


def request_token(request: web.Request) -> str | None:
    """``Authorization: Bearer``, then the invite cookie, then ``?token=``."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return request.cookies.get(COOKIE) or request.query.get("token") or None


def request_grant(request: web.Request) -> Grant | None:
    """The grant of the request's token; None without one; ``Unauthorized`` if invalid."""
    token = request_token(request)
    if token is None:
        return None
    return request.app[AUTHORITY].verify(token)


def require_grant(request: web.Request) -> Grant:
    """Like ``request_grant`` but a missing or bad token is an HTTP 401."""
    try:
        grant = request_grant(request)
    except Unauthorized as error:
        raise _unauthorized(error.message) from None
    if grant is None:
        raise _unauthorized("this needs a token: open your invite link first")
    return grant


def require_director(request: web.Request, what: str) -> Grant:
    """A director's or admin's grant, else 401 (no or bad token) or 403 naming ``what``."""
    grant = require_grant(request)
    if not grant.directs:
        raise web.HTTPForbidden(text=f"{what} is for directors", content_type="text/plain")
    return grant


def _unauthorized(message: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=message, content_type="text/plain", headers={"WWW-Authenticate": "Bearer"}
    )

"""Finding and checking the token a request carries (header, cookie or query).

Refusals are the control plane's errors (``Unauthorized``, ``Forbidden``); the
``signaling_errors`` middleware turns them into 401 (with ``WWW-Authenticate``) and 403.
"""

from __future__ import annotations

from aiohttp import web

from signaling.auth import Grant
from signaling.errors import Forbidden, Unauthorized
from web.keys import CREDENTIALS

COOKIE = "vb_token"
NEEDS_A_TOKEN = "this needs a token: open your invite link first"


def request_token(request: web.Request) -> str | None:
    """``Authorization: Bearer``, then the invite cookie, then ``?token=``."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return request.cookies.get(COOKIE) or request.query.get("token") or None


def request_grant(request: web.Request) -> Grant | None:
    """The grant of the request's token (signed, or the ingest key); None without one.

    ``Unauthorized`` when a token is there but is neither.
    """
    token = request_token(request)
    if token is None:
        return None
    return request.app[CREDENTIALS].grant(token)


def require_grant(request: web.Request, missing: str = NEEDS_A_TOKEN) -> Grant:
    """Like ``request_grant``, but no token is ``Unauthorized`` saying ``missing``."""
    grant = request_grant(request)
    if grant is None:
        raise Unauthorized(missing)
    return grant


def require_director(
    request: web.Request, what: str, *, missing: str = NEEDS_A_TOKEN, bearer_api: bool = False
) -> Grant:
    """A grant that directs (``Grant.directs``), else 401 or 403 naming ``what``.

    No token is 401. A token that does not verify is 401 too, except on ``bearer_api``
    endpoints, which answer it with 403 as the WHIP/WHEP endpoints beside them do.
    """
    try:
        grant = require_grant(request, missing)
    except Unauthorized:
        if bearer_api and request_token(request) is not None:
            raise Forbidden(f"{what} is for directors") from None
        raise
    if not grant.directs:
        raise Forbidden(f"{what} is for directors")
    return grant

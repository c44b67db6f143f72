"""``/join``: an invite link keeps its token in the HttpOnly cookie and goes where it works.

Two ways a link could be turned against the person who clicks it:

- ``next=`` as an open redirect. Browsers drop tabs and line breaks from URLs and read a
  backslash as a slash, so ``/%09/evil.example`` becomes ``//evil.example``. ``next`` is
  used only when it is a plain path on this site (``local_path``), else the role's page.
- Login CSRF: a link carrying the attacker's token would silently sign the victim in as
  the attacker. When someone else is already signed in, the link asks first; the answer
  is a POST from our own page (its ``Origin`` must be ours).
"""

from __future__ import annotations

import time

import aiohttp_jinja2
import jwt
from aiohttp import web
from yarl import URL

from signaling.auth import Grant
from signaling.errors import Unauthorized
from web.auth import COOKIE
from web.client import request_is_https
from web.errors import http_error
from web.keys import AUTHORITY, INVITE_USES
from web.origin import is_same_origin
from web.qa_pages import landing

# Printable ASCII without space or backslash: the only characters a safe target may hold.
_PATH_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F)) - {"\\"}


def local_path(target: str) -> str | None:
    """``target`` when it is a path on this site, else None.

    Refused: anything that is not printable ASCII (tabs, line breaks and other controls
    that browsers strip), backslashes (read as slashes), ``//`` (scheme-relative), and
    anything with a scheme or a host once parsed.
    """
    if not target.startswith("/") or target.startswith("//"):
        return None
    if any(character not in _PATH_CHARACTERS for character in target):
        return None
    try:
        url = URL(target)
    except ValueError:
        return None
    if url.is_absolute() or url.scheme or not url.path.startswith("/"):
        return None
    if url.path.startswith("//"):
        return None
    return target


def _signed_in(request: web.Request) -> Grant | None:
    """The grant of the cookie already there, if it is still valid."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return request.app[AUTHORITY].verify(token)
    except Unauthorized:
        return None


# What the person holding a dead link should do, by why it stopped working.
_DEAD_LINK = {
    "token_revoked": "This invite has been revoked. Ask the organisers for a new invite link.",
    "token_expired": "This invite has expired. Ask the organisers for a new invite link.",
}


def _invite(request: web.Request, token: str) -> Grant:
    try:
        # Invite links are signed tokens only: the ingest key never goes into a cookie.
        return request.app[AUTHORITY].verify(token)
    except Unauthorized as error:
        message = _DEAD_LINK.get(error.code, f"This invite link does not work: {error.message}.")
        raise Unauthorized(message, code=error.code) from None


def describe(grant: Grant) -> str:
    """Who a grant is, in a few words for the confirmation page."""
    scope = f" of {grant.venue}" if grant.venue else ""
    return f"{grant.identity} ({grant.role.value}{scope})"


async def join(request: web.Request) -> web.StreamResponse:
    """``GET /join?token=...&next=...``: sign in, or ask when someone else is signed in."""
    token = request.query.get("token", "")
    grant = _invite(request, token)
    target = local_path(request.query.get("next", "")) or landing(grant)
    current = _signed_in(request)
    if current is not None and current.identity != grant.identity:
        context = {
            "current": describe(current),
            "invited": describe(grant),
            "token": token,
            "next": target,
            "stay": landing(current),
        }
        response = aiohttp_jinja2.render_template("join_confirm.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        return response
    raise _sign_in(request, token, grant, target)


async def confirm_join(request: web.Request) -> web.StreamResponse:
    """``POST /join`` from the confirmation page: replace the signed-in identity."""
    origin = request.headers.get("Origin")
    if origin is None or not is_same_origin(request, origin):
        raise http_error(web.HTTPForbidden, "Confirm the switch on this site's own page.")
    form = await request.post()
    token = form.get("token")
    target = form.get("next")
    if not isinstance(token, str):
        raise http_error(web.HTTPBadRequest, "The form has no invite token.")
    grant = _invite(request, token)
    target = local_path(target if isinstance(target, str) else "") or landing(grant)
    raise _sign_in(request, token, grant, target)


def _sign_in(request: web.Request, token: str, grant: Grant, target: str) -> web.HTTPSeeOther:
    uses = request.app.get(INVITE_USES)
    if uses is not None:
        uses.note(grant, "joined")
        uses.note(grant, "seen")
    response = web.HTTPSeeOther(location=target)
    expires = _expiry(token)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, int(expires - time.time())) if expires else None,
        httponly=True,
        samesite="Lax",
        secure=request_is_https(request),
        path="/",
    )
    return response


def _expiry(token: str) -> float | None:
    # Already verified by the caller; this only reads the expiry for the cookie's lifetime.
    claims = jwt.decode(token, options={"verify_signature": False})
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def setup(app: web.Application) -> None:
    app.router.add_get("/join", join, name="join")
    app.router.add_post("/join", confirm_join, name="confirm_join")

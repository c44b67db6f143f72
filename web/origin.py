"""Same-origin checks for what a browser sends with the invite cookie on its own.

A page on another origin (another site, or the same host on another port: the cookie's
``SameSite=Lax`` counts those as the same site) can make the browser open ``/ws`` or
submit a form with the director's cookie attached. Browsers say where such a request
comes from in ``Origin``, so ``/ws`` and every state-changing request that relies on the
cookie must come from our own origin. Requests without ``Origin`` (curl, OBS, other
nodes) and requests with ``Authorization: Bearer`` (a page cannot make the browser add a
token it does not know) are left alone.
"""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from web.auth import COOKIE
from web.client import public_base
from web.errors import Handler, http_error

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WEBSOCKET_PATH = "/ws"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Origin = tuple[str, str, int]


def parse_origin(text: str) -> Origin | None:
    """``(scheme, host, port)`` of an ``Origin`` value; None for ``null`` or nonsense."""
    try:
        url = URL(text.strip())
    except ValueError:
        return None
    scheme = url.scheme.lower()
    if scheme not in DEFAULT_PORTS or not url.host:
        return None
    port = url.explicit_port or DEFAULT_PORTS[scheme]
    return scheme, url.host.lower().rstrip("."), port


def own_origin(request: web.Request) -> Origin | None:
    """Our origin: the configured ``public_url``, else the request's own scheme and host."""
    return parse_origin(public_base(request))


def is_same_origin(request: web.Request, origin: str) -> bool:
    """Whether ``origin`` (an ``Origin`` header value) is this site's own."""
    theirs = parse_origin(origin)
    return theirs is not None and theirs == own_origin(request)


def needs_origin_check(request: web.Request) -> bool:
    """``/ws``, and state-changing requests that would act with the invite cookie."""
    if request.path == WEBSOCKET_PATH:
        return True
    if request.method not in UNSAFE_METHODS or "Authorization" in request.headers:
        return False
    return COOKIE in request.cookies


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuses (403) a cookie-borne request whose ``Origin`` is another site's."""
    origin = request.headers.get("Origin")
    if origin is not None and needs_origin_check(request) and not is_same_origin(request, origin):
        raise http_error(
            web.HTTPForbidden, "This request came from another site's page and was refused."
        )
    return await handler(request)

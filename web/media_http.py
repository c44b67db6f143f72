"""The WHIP/WHEP HTTP shape shared by both endpoints; media errors mapped in one place."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from aiohttp import web

from streaming import errors
from streaming.http_rules import (
    CORS_HEADERS,
    SDP,
    TRICKLE,
    check_if_match,
    parse_trickle_fragment,
    require_content_type,
)
from streaming.ice_servers import ice_servers_for, link_header
from streaming.sdp_syntax import MAX_FRAGMENT_BYTES, MAX_SDP_BYTES
from streaming.session_urls import Negotiated
from web.client import public_base
from web.errors import http_error
from web.keys import MEDIA, SETTINGS
from web.steering import media_token

RETRY_AFTER_SECONDS = "5"
T = TypeVar("T")


class _PayloadTooLarge(web.HTTPClientError):
    # aiohttp's own 413 class wants sizes for its text; ours says it in words.
    status_code = 413


# First match wins: subclasses before their bases (PayloadTooLarge is a BadRequest).
_STATUS: list[tuple[type[errors.MediaError], type[web.HTTPError]]] = [
    (errors.PayloadTooLarge, _PayloadTooLarge),
    (errors.BadRequest, web.HTTPBadRequest),
    (errors.UnsupportedMediaType, web.HTTPUnsupportedMediaType),
    (errors.Unauthenticated, web.HTTPUnauthorized),
    (errors.Forbidden, web.HTTPForbidden),
    (errors.NotFound, web.HTTPNotFound),
    (errors.NotLive, web.HTTPConflict),
    (errors.Conflict, web.HTTPConflict),
    (errors.UnsupportedOffer, web.HTTPUnprocessableEntity),
    (errors.PreconditionFailed, web.HTTPPreconditionFailed),
    (errors.TooManyRequests, web.HTTPTooManyRequests),
    (errors.OverCapacity, web.HTTPServiceUnavailable),
]


def raise_http(error: errors.MediaError) -> NoReturn:
    """The one mapping from media-plane errors to HTTP responses."""
    kind = next((status for cls, status in _STATUS if isinstance(error, cls)), web.HTTPBadRequest)
    response = http_error(kind, str(error))
    response.headers.update(CORS_HEADERS)
    if isinstance(error, errors.Unauthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, errors.NotLive):
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    if isinstance(error, errors.Refused):
        response.headers["Retry-After"] = str(error.retry_after)
    raise response


async def guarded(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; a ``MediaError`` becomes its HTTP response."""
    try:
        return await call()
    except errors.MediaError as error:
        raise_http(error)


async def read_offer(request: web.Request) -> tuple[str, str | None]:
    """The SDP offer and the token of a WHIP/WHEP POST: Bearer, a redirect's pass
    (``access_token``, web/steering.py), else the invite cookie.

    The cookie lets our own pages publish and play without the token in their HTML; a
    POST carrying it from another site's page is refused by web/origin.py.
    """
    require_content_type(request.headers.get("Content-Type"), SDP)
    token = media_token(request)
    length = request.content_length
    if length is not None and length > MAX_SDP_BYTES:
        raise errors.PayloadTooLarge(f"the offer is too large (at most {MAX_SDP_BYTES} bytes)")
    try:
        text = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise errors.BadRequest("the offer is not UTF-8 text") from None
    return text, token


def _absolute(request: web.Request, path: str) -> str:
    return public_base(request) + path


def created(request: web.Request, negotiated: Negotiated) -> web.Response:
    """RFC 9725: 201, the answer, Location (the session URL, secret included), ETag, Links."""
    response = web.Response(status=201, text=negotiated.answer, content_type=SDP)
    response.headers.update(CORS_HEADERS)
    response.headers["Location"] = _absolute(request, negotiated.path)
    response.headers["ETag"] = negotiated.etag
    response.headers["Accept-Patch"] = TRICKLE
    _add_ice_servers(request, response, negotiated.session_id)
    return response


def _add_ice_servers(request: web.Request, response: web.Response, user: str) -> None:
    ice = request.app[SETTINGS].ice
    for server in ice_servers_for(ice, user, time.time()):
        response.headers.add("Link", link_header(server))


def preflight(*, session: bool) -> web.Response:
    """OPTIONS: CORS and what the resource accepts."""
    response = web.Response(status=204)
    response.headers.update(CORS_HEADERS)
    if session:
        response.headers["Accept-Patch"] = TRICKLE
    else:
        response.headers["Accept-Post"] = SDP
    return response


async def end_session(request: web.Request) -> web.Response:
    """DELETE on a session URL ends the session: 200; 404 without the URL's secret."""
    hub = request.app[MEDIA]

    async def end() -> None:
        await hub.end(hub.session_at(request.path))

    await guarded(end)
    response = web.Response(status=200)
    response.headers.update(CORS_HEADERS)
    return response


async def patch_session(request: web.Request) -> web.Response:
    """PATCH on a session URL: trickled candidates (RFC 8840); ICE restarts are refused."""
    hub = request.app[MEDIA]

    async def patch() -> None:
        # The secret first: a stranger learns nothing, not even which headers we want.
        session_id = hub.session_at(request.path)
        require_content_type(request.headers.get("Content-Type"), TRICKLE)
        check_if_match(request.headers.get("If-Match"), hub.session_etag(session_id))
        length = request.content_length
        if length is not None and length > MAX_FRAGMENT_BYTES:
            raise errors.PayloadTooLarge(f"at most {MAX_FRAGMENT_BYTES} bytes per PATCH")
        try:
            text = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            raise errors.BadRequest("the fragment is not UTF-8 text") from None
        await hub.trickle(session_id, parse_trickle_fragment(text))

    await guarded(patch)
    response = web.Response(status=204)
    response.headers.update(CORS_HEADERS)
    return response


async def session_options(request: web.Request) -> web.Response:
    return preflight(session=True)


async def endpoint_options(request: web.Request) -> web.Response:
    """OPTIONS on an endpoint also carries the ICE servers (``Link``, as in the 201).

    A browser must know its STUN and TURN servers before it gathers candidates for the
    offer, and the 201's ``Link`` headers come after; our pages (web/static/venue/link.js)
    ask here first. The TURN credentials are the same kind anyone gets from a POST.
    """
    response = preflight(session=False)
    _add_ice_servers(request, response, f"page-{secrets.token_hex(6)}")
    return response

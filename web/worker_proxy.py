"""PATCH and DELETE on a session URL reach the worker that owns the session.

The kernel hands each connection to any worker (SO_REUSEPORT), but a session lives in
one worker's memory. Its id starts with the owner's index (web/worker_place.py), so the
worker that receives a request for a sibling's session sends it on, unchanged, to the
sibling's private loopback listener and returns the answer as it came: status, body and
the headers that matter. Same public origin, so no redirect. The body is bounded as on
the owner (one trickle fragment at most), and so is the wait.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from streaming.http_rules import CORS_HEADERS
from streaming.sdp_syntax import MAX_FRAGMENT_BYTES
from web.errors import http_error
from web.keys import WORKER, WORKER_LINKS

logger = logging.getLogger(__name__)

MEDIA_PREFIXES = ("/whip/", "/whep/")
SESSION_METHODS = ("PATCH", "DELETE")
PROXY_TIMEOUT_SECONDS = 5.0
# Hop-by-hop headers and those aiohttp recomputes; everything else passes both ways.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "accept-encoding",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
        "server",
        "date",
    }
)


class _TooLarge(web.HTTPClientError):
    status_code = 413  # aiohttp's own class wants sizes for its text


def _forwardable(headers: CIMultiDict[str] | object) -> CIMultiDict[str]:
    kept: CIMultiDict[str] = CIMultiDict()
    for name, value in getattr(headers, "items")():  # noqa: B009 (both multidict kinds)
        if name.lower() not in _NOT_FORWARDED:
            kept.add(name, value)
    return kept


def _refusal(kind: type[web.HTTPError], text: str) -> web.HTTPError:
    response = http_error(kind, text)
    response.headers.update(CORS_HEADERS)
    return response


@web.middleware
async def to_owning_worker(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Send a sibling's session PATCH/DELETE to the sibling; serve everything else here."""
    if request.method not in SESSION_METHODS or not request.path.startswith(MEDIA_PREFIXES):
        return await handler(request)
    place = request.app[WORKER]
    owner = place.owner_of(request.path.rpartition("/")[2])
    if owner is None or owner == place.index:
        return await handler(request)
    links = request.app[WORKER_LINKS]
    url = await links.private_url(owner)
    if url is None:
        # The owner is down: its sessions went with it.
        raise _refusal(web.HTTPNotFound, "no such session (it may have ended)")
    length = request.content_length
    if length is not None and length > MAX_FRAGMENT_BYTES:
        raise _refusal(_TooLarge, f"at most {MAX_FRAGMENT_BYTES} bytes")
    body = await request.content.read(MAX_FRAGMENT_BYTES + 1)
    if len(body) > MAX_FRAGMENT_BYTES:
        raise _refusal(_TooLarge, f"at most {MAX_FRAGMENT_BYTES} bytes")
    try:
        async with links.http.request(
            request.method,
            url + request.path_qs,
            headers=_forwardable(request.headers),
            data=body,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=PROXY_TIMEOUT_SECONDS),
        ) as answer:
            content = await answer.content.read(MAX_FRAGMENT_BYTES + 1)
            return web.Response(
                status=answer.status, body=content, headers=_forwardable(answer.headers)
            )
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("worker %d did not answer a %s: %s", owner, request.method, error)
        raise _refusal(web.HTTPBadGateway, "the session's worker did not answer") from None

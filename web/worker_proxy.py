"""PATCH and DELETE on a session URL (and a player's language switch) reach the worker
that owns the session; the routing API reaches worker 0, the one that runs the automation.

The kernel hands each connection to any worker (SO_REUSEPORT), but a session lives in
one worker's memory. Its id starts with the owner's index (web/worker_place.py), so the
worker that receives a request for a sibling's session sends it on, unchanged, to the
sibling's private loopback listener and returns the answer as it came: status, body and
the headers that matter. Same public origin, so no redirect. The body is bounded as on
the owner (one trickle fragment at most), and so is the wait.

An interpreter's WHIP (``?lang=``) and the booth API (``/api/interpret/{channel}``) go to
the worker holding the channel's floor publisher when one does: the booth sits beside
the floor, and every sibling that pulls the floor pulls the languages from there too
(streaming/language_relay.py). With no floor publisher yet, the receiving worker serves.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from signaling.nodes import DirectoryUnavailable
from streaming.http_rules import CORS_HEADERS
from streaming.sdp_syntax import MAX_FRAGMENT_BYTES, MAX_SDP_BYTES
from web.errors import http_error
from web.keys import WORKER, WORKER_LINKS

logger = logging.getLogger(__name__)

MEDIA_PREFIXES = ("/whip/", "/whep/")
SESSION_METHODS = ("PATCH", "DELETE")
LANGUAGE = "/language"  # POST {session URL}/language: a player's language switch
BOOTH_PREFIX = "/api/interpret/"
PROXY_TIMEOUT_SECONDS = 5.0
MAX_ROUTING_BYTES = 64 * 1024  # a routing API body is one small JSON object
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # the routing matrix of a large event, with room
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


async def _read_at_most(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """The body, or its first ``limit`` bytes (one ``read`` may return less than asked)."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = await stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _refusal(kind: type[web.HTTPError], text: str) -> web.HTTPError:
    response = http_error(kind, text)
    response.headers.update(CORS_HEADERS)
    return response


def _routing_request(request: web.Request) -> bool:
    """The routing API: the automation and the crosspoints live on worker 0."""
    path = request.path
    if path == "/api/routing":
        return True
    return path.startswith("/api/venues/") and path.endswith(("/route", "/automation"))


def _owner(request: web.Request) -> int | None:
    """The sibling that must answer ``request``, or None: this worker does."""
    place = request.app[WORKER]
    owner: int | None = None
    path = request.path
    if request.method in SESSION_METHODS and path.startswith(MEDIA_PREFIXES):
        owner = place.owner_of(path.rpartition("/")[2])
    elif request.method == "POST" and path.startswith("/whep/") and path.endswith(LANGUAGE):
        # A player's language switch (web/languages_http.py) names its session before it.
        owner = place.owner_of(path.removesuffix(LANGUAGE).rpartition("/")[2])
    elif _routing_request(request):
        owner = 0
    return None if owner == place.index else owner


def _booth_channel(request: web.Request) -> str | None:
    """The channel of an interpreter's WHIP or of a booth API request, else None."""
    path = request.path
    if request.method == "POST" and path.startswith("/whip/") and "lang" in request.query:
        channel = path.removeprefix("/whip/")
        return channel if channel and "/" not in channel else None
    if path.startswith(BOOTH_PREFIX):
        return path.removeprefix(BOOTH_PREFIX).partition("/")[0] or None
    return None


async def _booth_owner(request: web.Request) -> int | None:
    """The sibling holding the floor publisher of a booth request's channel, if any."""
    channel = _booth_channel(request)
    directory = request.app[WORKER_LINKS].directory
    if channel is None or directory is None:
        return None
    try:
        holder = await directory.owner(channel)
    except DirectoryUnavailable:
        return None  # serve here: the booth may be split, but nothing is refused
    place = request.app[WORKER]
    if holder is None or not holder.isdigit() or int(holder) in (place.index,):
        return None
    return int(holder) if int(holder) < place.count else None


@web.middleware
async def to_owning_worker(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Send a sibling's session PATCH/DELETE (and the routing API) to that sibling."""
    owner = _owner(request)
    if owner is None:
        owner = await _booth_owner(request)
    if owner is None:
        return await handler(request)
    links = request.app[WORKER_LINKS]
    assert links.http is not None  # there are siblings: the session exists
    url = await links.private_url(owner)
    if url is None:
        if request.method in SESSION_METHODS or request.path.endswith(LANGUAGE):
            # The owner is down: its sessions went with it.
            raise _refusal(web.HTTPNotFound, "no such session (it may have ended)")
        raise _refusal(web.HTTPServiceUnavailable, "the routing worker is starting")
    limit = MAX_FRAGMENT_BYTES if request.method in SESSION_METHODS else MAX_ROUTING_BYTES
    if request.path.startswith("/whip/"):
        limit = MAX_SDP_BYTES  # an interpreter's offer
    length = request.content_length
    if length is not None and length > limit:
        raise _refusal(_TooLarge, f"at most {limit} bytes")
    body = await _read_at_most(request.content, limit + 1)
    if len(body) > limit:
        raise _refusal(_TooLarge, f"at most {limit} bytes")
    try:
        async with links.http.request(
            request.method,
            url + request.path_qs,
            headers=_forwardable(request.headers),
            data=body,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=PROXY_TIMEOUT_SECONDS),
        ) as answer:
            content = await _read_at_most(answer.content, MAX_ANSWER_BYTES)
            return web.Response(
                status=answer.status, body=content, headers=_forwardable(answer.headers)
            )
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("worker %d did not answer a %s: %s", owner, request.method, error)
        raise _refusal(web.HTTPBadGateway, "the worker that owns this did not answer") from None

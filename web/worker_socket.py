"""A director's websocket that lands on a sibling worker is carried to worker 0.

Routing commands (``route``, ``set_automation``, ``use_source``, and operators'
``set_output_language``) act on the automation,
which runs on worker 0 only (web/workers.py); the kernel hands a page's websocket to any
worker (SO_REUSEPORT). Pages that only watch the matrix are served where they land from
the copy the routing worker sends its siblings (web/worker_routes.py), so the big
audience stays spread. The few sockets of people who direct are joined, frame for frame,
to a websocket on worker 0's private listener: one more hop on loopback, and every
command is carried out where the automation is.

The public origin check (web/origin.py) has already passed on this worker; the private
listener gets the request without ``Origin``, as a same-host client would send it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import WSMsgType, web
from multidict import CIMultiDict

from signaling.auth import Grant
from signaling.auth.grants import Role
from web.keys import HUB, WORKER, WORKER_LINKS

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
# Not passed on: the websocket handshake is made anew on the second hop, and the origin
# was checked on the first.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "upgrade",
        "origin",
        "host",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "sec-websocket-protocol",
    }
)


def _headers(request: web.Request) -> CIMultiDict[str]:
    kept: CIMultiDict[str] = CIMultiDict()
    for name, value in request.headers.items():
        if name.lower() not in _NOT_FORWARDED:
            kept.add(name, value)
    return kept


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type is WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        else:
            break


async def carried_to_routing_worker(
    request: web.Request, ws: web.WebSocketResponse, grant: Grant
) -> bool:
    """Join ``ws`` (open, its token checked here) to a websocket on worker 0 for as long
    as both last, if it is a director's or an operator's on a sibling; False: it is this
    worker's own."""
    place = request.app.get(WORKER)
    # Operators too: they set their venue output's language (``set_output_language``).
    if place is None or place.index == 0 or not (grant.directs or grant.role is Role.OPERATOR):
        return False
    links = request.app[WORKER_LINKS]
    url = await links.private_url(0)
    if url is None or links.http is None:
        return False  # worker 0 is restarting: served here, routing answers no_routing
    options = request.app[HUB].options
    try:
        upstream = await links.http.ws_connect(
            url + request.path_qs,
            headers=_headers(request),
            max_msg_size=options.max_message,
            timeout=aiohttp.ClientWSTimeout(ws_close=CONNECT_TIMEOUT_SECONDS),
            autoping=True,
            heartbeat=options.heartbeat,
        )
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not carry a director's websocket to worker 0: %s", error)
        return False
    try:
        tasks = [
            asyncio.create_task(_pump(ws, upstream)),
            asyncio.create_task(_pump(upstream, ws)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
        # Worker 0's close code (a revoked token, a flood) reaches the page.
        if upstream.closed and upstream.close_code is not None:
            await ws.close(code=upstream.close_code, message=b"")
    finally:
        await upstream.close()
        await ws.close()
    return True

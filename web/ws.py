"""``GET /ws``: one websocket per page. Thin: parse at the edge, the hub does the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from signaling.auth import Grant
from signaling.clients import Client
from signaling.errors import SignalingError, Unauthorized
from signaling.hub import Hub
from signaling.protocol import PROTOCOL_VERSION, decode, encode, error_frame
from web.auth import request_token
from web.keys import AUTHORITY, HUB

logger = logging.getLogger(__name__)
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408


async def websocket(request: web.Request) -> web.WebSocketResponse:
    hub = request.app[HUB]
    options = hub.options
    ws = web.WebSocketResponse(
        heartbeat=options.heartbeat, max_msg_size=options.max_message, compress=False
    )
    await ws.prepare(request)
    authority = request.app[AUTHORITY]
    token = request_token(request)
    issued: str | None = None
    try:
        if token is None:
            grant, issued = authority.anonymous_viewer()
        else:
            grant = authority.verify(token)
    except Unauthorized as error:
        await ws.send_str(error_frame(error.code, error.message))
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"unauthorized")
        return ws
    client = Client(grant, request.remote or "unknown", outbox_size=options.outbox_size)
    hub.connect(client)
    hub.send(client, encode(_welcome(hub, grant, issued)))
    writer = asyncio.create_task(_write(ws, client, options.send_timeout))
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await _handle(hub, client, message.data)
            elif message.type is WSMsgType.BINARY:
                hub.send(client, error_frame("bad_message", "send JSON text frames"))
            if client.dropped.is_set():
                break
        if ws.exception() is not None:
            # e.g. a frame over the size limit: aiohttp closes with 1009.
            logger.info("websocket of %s closed: %s", client.identity, ws.exception())
    finally:
        hub.disconnect(client)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        if client.drop_reason.startswith("too slow"):
            await ws.close(code=CLOSE_TOO_SLOW, message=b"too slow")
        await ws.close()
    return ws


def _welcome(hub: Hub, grant: Grant, issued: str | None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "welcome",
        "v": PROTOCOL_VERSION,
        "identity": grant.identity,
        "role": grant.role.value,
        "venue": grant.venue,
        "sessions": list(grant.sessions),
        "channels": list(grant.channels),
        "node": hub.node,
    }
    if issued is not None:
        # Kept by the page so the same person (and their votes) survives a reconnect.
        frame["token"] = issued
    return frame


async def _handle(hub: Hub, client: Client, data: str) -> None:
    ref: str | None = None
    try:
        message = decode(data)
        ref = message.ref
        ack = await hub.handle(client, message)
        frame: dict[str, Any] = {"type": "ack", "of": message.__struct_config__.tag}
        if ref is not None:
            frame["ref"] = ref
        frame.update(ack or {})
        hub.send(client, encode(frame))
    except SignalingError as error:
        hub.stats.errors_sent += 1
        hub.send(client, error_frame(error.code, error.message, ref))
    except Exception:
        logger.exception("unexpected error handling a message from %s", client.identity)
        hub.send(client, error_frame("internal", "something went wrong on our side", ref))


async def _write(ws: web.WebSocketResponse, client: Client, send_timeout: float) -> None:
    """Drain the outbox; a client that cannot take a frame within ``send_timeout`` is dropped."""
    try:
        while True:
            frame = await client.outbox.get()
            if client.dropped.is_set() or not frame:
                break
            await asyncio.wait_for(ws.send_str(frame), timeout=send_timeout)
    except TimeoutError:
        client.drop("too slow: send timed out")
    except ConnectionError:
        client.drop("connection lost")
    # Closing wakes the reader loop, which then cleans up.
    code = CLOSE_TOO_SLOW if client.drop_reason.startswith("too slow") else 1001
    with contextlib.suppress(Exception):
        await ws.close(code=code, message=client.drop_reason.encode()[:120])


async def close_all(app: web.Application) -> None:
    """On shutdown: every socket is closed by its own writer."""
    if HUB in app:
        app[HUB].drop_all("the server is shutting down")


def setup(app: web.Application) -> None:
    app.router.add_get("/ws", websocket, name="ws")

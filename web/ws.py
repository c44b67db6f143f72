"""``GET /ws``: one websocket per page. Thin: parse at the edge, the hub does the rest.

A handshake whose ``Origin`` is another site's never gets here: web/origin.py refuses it.

Outgoing frames skip aiohttp's per-message coroutine: fan-out writes each frame straight
to the socket's transport (server frames are unmasked, so one encoded frame, header and
all, serves every client: ``Frame.wire``), and the transport's buffer is the client's
bounded outbox (see signaling.clients).
aiohttp still writes its own control frames (pong, close); writes never interleave
because each frame goes out in one synchronous ``transport.write``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import WSMsgType, web

from signaling.auth import Grant, Role
from signaling.clients import Client
from signaling.clock import Clock
from signaling.errors import BadMessage, RateLimited, SignalingError, Unauthorized
from signaling.hub import Hub
from signaling.protocol import PROTOCOL_VERSION, ClientMessage, decode, encode_frame
from signaling.protocol.budget import ConnectionBudget, Verdict
from signaling.protocol.messages import Join
from signaling.protocol.server import Error, Frame, Welcome
from signaling.protocol.wsframe import close_frame
from signaling.rehearsal import RehearsalClock
from signaling.revoker import REVOKED
from web.auth import request_token
from web.client import client_address
from web.keys import ANONYMOUS, CLOCK, CREDENTIALS, HUB
from web.worker_socket import carried_to_routing_worker

logger = logging.getLogger(__name__)
CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_LATER = 4429  # no identity for now: too many new ones from this address
CLOSE_POLICY = 1008  # kept flooding past the message rate
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 4408  # a slow consumer: its backlog passed the outbox limit or timed out


_REVOKED_FRAME = encode_frame(
    Error(code="token_revoked", message="the token has been revoked")
).wire


def _attach(client: Client, transport: asyncio.Transport, grace: float) -> None:
    def write(frame: bytes) -> None:
        if not transport.is_closing():
            transport.write(frame)

    def on_drop(reason: str) -> None:
        if transport.is_closing():
            return
        if reason.startswith(REVOKED):
            # The same refusal a revoked token gets when it connects, so the page can
            # say why (the close code alone says only "unauthorized").
            transport.write(_REVOKED_FRAME)
        transport.write(close_frame(_close_code(reason), reason))
        transport.close()
        # The close frame waits behind what is queued; a peer that never reads it does
        # not keep the socket (and its backlog) beyond one more send timeout.
        asyncio.get_running_loop().call_later(grace, transport.abort)

    client.write = write
    client.backlog = transport.get_write_buffer_size
    client.on_drop = on_drop


def _close_code(reason: str) -> int:
    if reason.startswith("too slow"):
        return CLOSE_TOO_SLOW
    if reason.startswith(REVOKED):
        return CLOSE_UNAUTHORIZED
    return CLOSE_GOING_AWAY


async def websocket(request: web.Request) -> web.WebSocketResponse:
    hub = request.app[HUB]
    options = hub.options
    ws = web.WebSocketResponse(
        heartbeat=options.heartbeat, max_msg_size=options.max_message, compress=False
    )
    await ws.prepare(request)
    credentials = request.app[CREDENTIALS]
    token = request_token(request)
    issued: str | None = None
    try:
        if token is None:
            # The page keeps the welcome's token and presents it next time; see ANONYMOUS.
            minter = request.app[ANONYMOUS]
            grant, issued = minter.mint(client_address(request), time.monotonic())
        else:
            grant = credentials.grant(token)
            if grant.role is Role.RELAY:
                raise Unauthorized("a node's relay token only plays channels")
    except (Unauthorized, RateLimited) as error:
        code = CLOSE_UNAUTHORIZED if isinstance(error, Unauthorized) else CLOSE_TRY_LATER
        await ws.send_str(encode_frame(Error(code=error.code, message=error.message)).text)
        await ws.close(code=code, message=error.code.encode())
        return ws
    if await carried_to_routing_worker(request, ws, grant):
        return ws  # a director's socket on a sibling worker, joined to worker 0's
    transport = request.transport
    if not isinstance(transport, asyncio.Transport) or transport.is_closing():
        return ws
    client = Client(grant, client_address(request), max_backlog=options.max_backlog)
    _attach(client, transport, options.send_timeout)
    clients = hub.clients
    clients.connect(client)
    clients.send(client, encode_frame(_welcome(hub, grant, issued, request.app.get(CLOCK))))
    await hub.greet(client)
    budget = ConnectionBudget(options.messages, time.monotonic())
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                if not await _handle(hub, client, message.data, budget):
                    await ws.close(code=CLOSE_POLICY, message=b"too many messages")
                    break
            elif message.type is WSMsgType.BINARY:
                clients.send(client, _error("bad_message", "send JSON text frames"))
            if client.dropped:
                break
        if ws.exception() is not None and not client.dropped:
            # e.g. a frame over the size limit: aiohttp closes with 1009.
            logger.info("websocket of %s closed: %s", client.identity, ws.exception())
    finally:
        clients.disconnect(client)
        if client.dropped:
            logger.info("dropped websocket of %s: %s", client.identity, client.drop_reason)
        else:
            await ws.close()
    return ws


def _welcome(hub: Hub, grant: Grant, issued: str | None, clock: Clock | None) -> Welcome:
    return Welcome(
        v=PROTOCOL_VERSION,
        identity=grant.identity,
        role=grant.role.value,
        venue=grant.venue,
        sessions=list(grant.sessions),
        channels=list(grant.channels),
        node=hub.node,
        # Kept by the page so the same person (and their votes) survives a reconnect.
        token=issued,
        rehearsal=clock.rehearsal_time() if isinstance(clock, RehearsalClock) else None,
    )


def _error(code: str, message: str, ref: str | None = None) -> Frame:
    return encode_frame(Error(code=code, message=message, ref=ref))


async def _handle(hub: Hub, client: Client, data: str, budget: ConnectionBudget) -> bool:
    """Answer one text frame; False when the client keeps flooding and must be closed."""
    message: ClientMessage | None = None
    refusal: BadMessage | None = None
    try:
        message = decode(data)
    except BadMessage as error:
        refusal = error
    # Charged after parsing (bounded by max_message) so a join can cost what its snapshot does.
    cost = hub.options.messages.join_cost if isinstance(message, Join) else 1
    verdict = budget.take(cost, time.monotonic())
    if verdict == Verdict.CLOSE:
        logger.info("closing the websocket of %s: too many messages", client.identity)
        return False
    if verdict != Verdict.ALLOW:
        if verdict == Verdict.REFUSE:
            hub.clients.send_error(client, _error("rate_limited", "too many messages; slow down"))
        return True
    if message is None:
        if refusal is not None:
            hub.clients.send_error(client, _error(refusal.code, refusal.message))
        return True
    ref = message.ref
    try:
        hub.clients.send(client, encode_frame(await hub.handle(client, message)))
    except SignalingError as error:
        hub.clients.send_error(client, _error(error.code, error.message, ref))
    except Exception:
        logger.exception("unexpected error handling a message from %s", client.identity)
        hub.clients.send(client, _error("internal", "something went wrong on our side", ref))
    return True


async def close_all(app: web.Application) -> None:
    """On shutdown: every socket gets a close frame and its transport is closed."""
    if HUB in app:
        app[HUB].drop_all("the server is shutting down")


def setup(app: web.Application) -> None:
    app.router.add_get("/ws", websocket, name="ws")

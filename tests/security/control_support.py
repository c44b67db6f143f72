"""Helpers for the control-plane security tests: a hub without sockets, a node on port 0."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from signaling.auth import Grant, Role
from signaling.bus.local import LocalBus
from signaling.clients import Client
from signaling.hub import Hub, HubOptions
from signaling.protocol import messages as m
from signaling.protocol.budget import MessageRate
from signaling.qa.limits import Limits, Rate
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import Node
from web.app import create_app

ROOM = "overseas-talents-summit"
LOTS = Rate(burst=100_000, per_minute=100_000)
NO_MESSAGE_LIMIT = MessageRate(burst=100_000, per_second=100_000.0)


def text_payload(wire: bytes) -> bytes:
    """The payload of one unmasked websocket text frame, as the hub writes them."""
    assert wire[0] == 0x81, wire[:2]
    length, start = wire[1], 2
    if length == 126:
        length, start = int.from_bytes(wire[2:4], "big"), 4
    elif length == 127:
        length, start = int.from_bytes(wire[2:10], "big"), 10
    assert len(wire) == start + length
    return wire[start:]


class Socket:
    """Collects what the hub writes to one client, decoded."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def attach(self, client: Client) -> Client:
        client.write = lambda wire: self.frames.append(json.loads(text_payload(wire)))
        return client


@contextlib.asynccontextmanager
async def running_hub(tmp_path: Path, event: Event, options: HubOptions) -> AsyncIterator[Hub]:
    """A started hub on a SQLite store and an in-process bus."""
    store = await SqliteEventStore.open(tmp_path / "hub.sqlite3")
    hub = Hub(event, store, LocalBus(), options)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        await store.aclose()


def connect(hub: Hub, grant: Grant, address: str) -> tuple[Client, Socket]:
    """A client at ``address`` with ``grant``, connected to ``hub``."""
    socket = Socket()
    client = socket.attach(Client(grant, address))
    hub.clients.connect(client)
    return client, socket


async def open_room_with_question(hub: Hub) -> tuple[Client, Socket, str]:
    """A moderator in ``ROOM`` (open mode) and the id of one question on it."""
    moderator, socket = connect(hub, Grant("mod", Role.MODERATOR, sessions=(ROOM,)), "10.0.0.1")
    await hub.handle(moderator, m.Join(room=ROOM))
    await hub.handle(moderator, m.SetMode(room=ROOM, mode="open"))
    ack = await hub.handle(moderator, m.Ask(room=ROOM, text="Which visa covers a roadshow?"))
    question = getattr(ack, "question", None)
    assert isinstance(question, str)
    return moderator, socket, question


def anonymous(n: int) -> Grant:
    return Grant(f"anon-{n}", Role.VIEWER, anonymous=True)


@contextlib.asynccontextmanager
async def running_node(
    settings: Settings, event: Event, options: HubOptions | None = None
) -> AsyncIterator[Node]:
    """The whole app on 127.0.0.1, port 0, with ``options`` (no message limit by default)."""
    app = create_app(settings, event, options or HubOptions(messages=NO_MESSAGE_LIMIT))
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield Node(client)


def limits(**changes: Any) -> Limits:
    """Generous limits except the ones a test is about."""
    base: dict[str, Any] = {
        "ask_per_identity": LOTS,
        "ask_per_address": LOTS,
        "vote_per_identity": LOTS,
        "vote_per_address": LOTS,
        "anonymous_per_address": LOTS,
        "suspect_votes": 100_000,
    }
    return Limits(**{**base, **changes})

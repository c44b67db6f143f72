"""Helpers for control-plane tests: backends and a websocket client that awaits replies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from signaling.bus import Bus
from signaling.store import EventStore
from tests.helpers import eventually


@dataclass
class Backend:
    name: str
    store: EventStore
    new_bus: Callable[[], Bus]
    reopen: Callable[[], Awaitable[EventStore]]


@dataclass
class WsClient:
    """A page's websocket as tests drive it: frames are collected, replies awaited by ref."""

    ws: aiohttp.ClientWebSocketResponse
    frames: list[dict[str, Any]] = field(default_factory=list)
    refs: int = 0
    reader: asyncio.Task[None] | None = None
    welcome: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def connect(
        cls, session: aiohttp.ClientSession, url: str, token: str | None = None
    ) -> WsClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        ws = await session.ws_connect(url, headers=headers)
        client = cls(ws)
        client.reader = asyncio.create_task(client._read())
        await eventually(lambda: any(f["type"] == "welcome" for f in client.frames), "welcome")
        client.welcome = next(f for f in client.frames if f["type"] == "welcome")
        return client

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(message.data))

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send ``message`` and return the ack or error frame that answers it."""
        self.refs += 1
        ref = f"t{self.refs}"
        await self.ws.send_str(json.dumps({**message, "ref": ref}))
        await eventually(
            lambda: any(f.get("ref") == ref for f in self.frames), f"a reply to {message['type']}"
        )
        return next(f for f in self.frames if f.get("ref") == ref)

    async def ok(self, message: dict[str, Any]) -> dict[str, Any]:
        reply = await self.request(message)
        assert reply["type"] == "ack", reply
        return reply

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    def question(self, question_id: str) -> dict[str, Any] | None:
        """The latest view of a question this client was sent (snapshot or update)."""
        latest: dict[str, Any] | None = None
        for frame in self.frames:
            if frame["type"] == "snapshot":
                for q in frame["questions"]:
                    if q["id"] == question_id:
                        latest = q
                if question_id in frame["removed"]:
                    latest = None
            elif frame["type"] == "question" and frame["question"]["id"] == question_id:
                latest = frame["question"]
            elif frame["type"] == "question_removed" and frame["id"] == question_id:
                latest = None
        return latest

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await self.reader


def mint(app: Any, role: str, identity: str | None = None, **scope: Any) -> str:
    """A token from the running app's own authority."""
    from signaling.auth import Grant, Role
    from web.keys import AUTHORITY

    grant = Grant(
        identity=identity or f"{role}-{len(scope)}-{id(scope)}",
        role=Role(role),
        venue=scope.get("venue"),
        sessions=tuple(scope.get("sessions", ())),
        channels=tuple(scope.get("channels", ())),
    )
    return str(app[AUTHORITY].mint(grant, ttl=3600))


@dataclass
class Node:
    """One running app (an aiohttp test server on port 0) and clients opened against it."""

    http: Any  # aiohttp.test_utils.TestClient
    clients: list[WsClient] = field(default_factory=list)

    @property
    def app(self) -> Any:
        return self.http.server.app

    def token(self, role: str, identity: str | None = None, **scope: Any) -> str:
        return mint(self.app, role, identity, **scope)

    async def connect(self, token: str | None = None) -> WsClient:
        url = str(self.http.make_url("/ws"))
        client = await WsClient.connect(self.http.session, url, token)
        self.clients.append(client)
        return client

    async def joined(self, room: str, token: str | None = None) -> WsClient:
        client = await self.connect(token)
        await client.ok({"type": "join", "room": room})
        return client

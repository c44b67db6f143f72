"""The clients of one node, the rooms they are in, and sending to them.

Sending never awaits and makes no task: a frame goes to the client's bounded outbox, and
a client whose outbox is full, or whose backlog has not emptied for ``send_timeout``
seconds, is dropped (and counted) instead of slowing the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from signaling.clients import Client
from signaling.protocol.server import Frame


@dataclass(slots=True)
class SendStats:
    dropped_slow: int = 0
    frames_sent: int = 0
    errors_sent: int = 0


class ClientRegistry:
    """Who is connected and in which rooms; ``generation`` moves on every change."""

    def __init__(self, send_timeout: float = 5.0) -> None:
        self.stats = SendStats()
        # Presence compares this with what it counted last instead of being called back.
        self.generation = 0
        self._send_timeout = send_timeout
        self._clients: set[Client] = set()
        self._members: dict[str, set[Client]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._clients)

    def everyone(self) -> list[Client]:
        """Every connected client (a copy: sending may drop one)."""
        return list(self._clients)

    def connect(self, client: Client) -> None:
        self._clients.add(client)
        self.generation += 1

    def disconnect(self, client: Client) -> None:
        self._clients.discard(client)
        for room in client.rooms:
            self._members.get(room, set()).discard(client)
        self.generation += 1

    def join(self, client: Client, room: str) -> None:
        client.rooms.add(room)
        self._members.setdefault(room, set()).add(client)
        self.generation += 1

    def leave(self, client: Client, room: str) -> None:
        client.rooms.discard(room)
        self._members.get(room, set()).discard(client)
        self.generation += 1

    def changed(self) -> None:
        """Something presence counts changed on a client (what it watches)."""
        self.generation += 1

    def members(self, room: str) -> list[Client]:
        """The clients in ``room`` now (a copy)."""
        return list(self._members.get(room, ()))

    def send(self, client: Client, frame: Frame) -> None:
        """Hand ``frame`` to ``client``; count it, or count the client dropped as too slow."""
        was_dropped = client.dropped
        if client.send(frame):
            self.stats.frames_sent += 1
        elif not was_dropped and client.dropped:
            self.stats.dropped_slow += 1

    def send_to(self, clients: list[Client], frame: Frame) -> None:
        """Hand one frame to many clients: the same bytes to each, in one synchronous loop."""
        wire = frame.wire
        sent = dropped = 0
        for client in clients:
            if client.dropped:
                continue
            if client.send_wire(wire):
                sent += 1
            else:
                dropped += 1
        self.stats.frames_sent += sent
        self.stats.dropped_slow += dropped

    def send_error(self, client: Client, frame: Frame) -> None:
        """Send an error frame, counted apart."""
        self.stats.errors_sent += 1
        self.send(client, frame)

    def drop_all(self, reason: str) -> None:
        """Ask every client's writer to close its socket (server shutdown)."""
        for client in list(self._clients):
            client.drop(reason)

    def sweep(self, now: float) -> None:
        """Drop clients whose backlog has not emptied for ``send_timeout`` seconds."""
        for client in list(self._clients):
            if client.backlog() == 0:
                client.backlog_since = None
            elif client.backlog_since is None:
                client.backlog_since = now
            elif now - client.backlog_since > self._send_timeout:
                client.drop("too slow: send timed out")
                self.stats.dropped_slow += 1

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="hub-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._send_timeout / 4)
            self.sweep(time.monotonic())

"""Presence on the wire: count this node, tell the others, push the sum to the watchers.

Bursts of joins and leaves coalesce into one update per ``interval``; an unchanged node
still speaks every ``refresh`` seconds so the others know it lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from signaling.bus.node import BusMessage, NodeBus
from signaling.clients import Client
from signaling.presence import Counts, PresenceBoard, count
from signaling.protocol.server import Presence, encode_frame
from signaling.registry import ClientRegistry


def presence_frame(counts: Counts) -> Presence:
    """The ``presence`` frame for summed counts."""
    return Presence(
        viewers_by_channel=counts.viewers_by_channel,
        viewers_by_venue=counts.viewers_by_venue,
        operators_by_venue=counts.operators_by_venue,
        moderators_by_room=counts.moderators_by_room,
        connections=counts.connections,
    )


class PresenceFeed:
    """The presence board of one node; ``start``/``stop`` own its coalescing loop."""

    def __init__(
        self, clients: ClientRegistry, bus: NodeBus, interval: float, refresh: float
    ) -> None:
        self._clients = clients
        self._bus = bus
        self._interval = interval
        self._refresh = refresh
        self._board = PresenceBoard(stale_after=3 * refresh)
        self._counted_generation = -1  # never counted: the first pass speaks at once
        self._last: Presence | None = None
        self._task: asyncio.Task[None] | None = None
        bus.on("presence", self._heard, own=True)

    def counts(self) -> Counts:
        """The counts summed over every live node."""
        return self._board.total(time.monotonic())

    def current(self) -> Presence:
        """The summed counts as a frame."""
        return presence_frame(self.counts())

    def send_to(self, client: Client) -> None:
        """The current presence, for a page that just started watching."""
        self._clients.send(client, encode_frame(self.current()))

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="hub-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        refresh_at = 0.0
        while True:
            now = time.monotonic()
            generation = self._clients.generation
            if generation != self._counted_generation or now >= refresh_at:
                self._counted_generation = generation
                refresh_at = now + self._refresh
                counts = count(self._clients.everyone())
                self._board.update(self._bus.instance, counts, now)
                self._push()
                await self._bus.publish("presence", {"counts": counts.as_json()})
            await asyncio.sleep(self._interval)

    def _heard(self, message: BusMessage) -> None:
        raw = message.get("counts")
        counts = Counts.from_json(raw if isinstance(raw, dict) else {})
        # Keyed by the sending process: a node's workers share its name, not their counts.
        sender = message.get("from") or message.get("node")
        self._board.update(str(sender), counts, time.monotonic())
        self._push()

    def _push(self) -> None:
        current = self.current()
        if current == self._last:
            return
        self._last = current
        frame = encode_frame(current)
        for client in self._clients.everyone():
            if client.watches_presence:
                self._clients.send(client, frame)

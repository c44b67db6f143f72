"""Talkback delivery: a line goes to the clients of this node that hear it, and to the
other nodes over the bus, which do the same with theirs."""

from __future__ import annotations

import msgspec

from signaling.bus.node import BusMessage, NodeBus
from signaling.protocol.server import Talkback, as_json, encode_frame
from signaling.registry import ClientRegistry
from signaling.talkback import hears_talkback


class TalkbackRelay:
    """Delivers talkback lines on this node and publishes them for the others."""

    def __init__(self, clients: ClientRegistry, bus: NodeBus) -> None:
        self._clients = clients
        self._bus = bus
        bus.on("talkback", self._heard)

    async def say(self, line: Talkback) -> None:
        """Deliver ``line`` here and on every other node."""
        self._deliver(line)
        await self._bus.publish("talkback", {"frame": as_json(line)})

    def _heard(self, message: BusMessage) -> None:
        # A malformed line raises here and is logged by the bus as a bad message.
        self._deliver(msgspec.convert(message.get("frame"), Talkback))

    def _deliver(self, line: Talkback) -> None:
        frame = encode_frame(line)
        for client in self._clients.everyone():
            if hears_talkback(client.grant, line.venue):
                self._clients.send(client, frame)

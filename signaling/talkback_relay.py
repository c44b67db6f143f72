"""Talkback delivery: a line goes to the clients of this node that hear it, and to the
other nodes over the bus, which do the same with theirs."""

from __future__ import annotations

import msgspec

from signaling.bus.node import BusMessage, NodeBus
from signaling.clients import Client
from signaling.protocol.server import Talkback, TalkbackHistory, as_json, encode_frame
from signaling.registry import ClientRegistry
from signaling.talkback import hears_talkback
from signaling.talkback_history import TalkbackHistory as History


class TalkbackRelay:
    """Delivers talkback lines on this node and publishes them for the others; the node
    that takes a line keeps it in the history (shared by every node through the store)."""

    def __init__(self, clients: ClientRegistry, bus: NodeBus, history: History) -> None:
        self._clients = clients
        self._bus = bus
        self._history = history
        bus.on("talkback", self._heard)

    async def say(self, line: Talkback) -> None:
        """Keep ``line``, then deliver it here and on every other node."""
        await self._history.record(line)
        self._deliver(line)
        await self._bus.publish("talkback", {"frame": as_json(line)})

    async def replay_to(self, client: Client) -> None:
        """Send a page that just connected the lines it hears that were said before."""
        lines = await self._history.heard_by(client.grant)
        if lines:
            self._clients.send(client, encode_frame(TalkbackHistory(lines=lines)))

    def _heard(self, message: BusMessage) -> None:
        # A malformed line raises here and is logged by the bus as a bad message.
        self._deliver(msgspec.convert(message.get("frame"), Talkback))

    def _deliver(self, line: Talkback) -> None:
        frame = encode_frame(line)
        for client in self._clients.everyone():
            if hears_talkback(client.grant, line.venue):
                self._clients.send(client, frame)

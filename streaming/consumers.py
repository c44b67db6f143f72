"""The consumers of one feed, by kind: the fan-out list every feed keeps.

A dict subclass, so the packet path's ``consumers[packet.video]`` stays a plain lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from streaming.feed import PacketConsumer
from streaming.packet import MediaPacket
from streaming.send_batch import SendBatch

logger = logging.getLogger(__name__)


class Consumers(dict[bool, list[PacketConsumer]]):
    """Consumers of video (True) and audio (False) packets, in the order they came."""

    def __init__(self) -> None:
        super().__init__({True: [], False: []})
        # Changes with every add and remove (a frame batch's followers are only valid
        # for the consumers they were taken from).
        self.version = 0

    def add(self, consumer: PacketConsumer) -> None:
        """Start delivering the kinds ``consumer`` asks for (once, however often added)."""
        for kind in consumer.kinds:
            if consumer not in self[kind]:
                self[kind].append(consumer)
        self.version += 1

    def remove(self, consumer: PacketConsumer) -> None:
        """Stop delivering to ``consumer``; nothing happens if it was not here."""
        for consumers in self.values():
            if consumer in consumers:
                consumers.remove(consumer)
        self.version += 1

    def count(self) -> int:
        """How many distinct consumers there are (one taking video and audio counts once)."""
        return len({id(c) for consumers in self.values() for c in consumers})

    def deliver(
        self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch, owner: str
    ) -> None:
        """``packet`` to every consumer of its kind; one that raises is removed (logged
        as a consumer of ``owner``), the others still get it. The caller flushes ``batch``."""
        self.deliver_to(tuple(self[packet.video]), packet, frame, batch, owner)

    def deliver_to(
        self,
        consumers: Sequence[PacketConsumer],
        packet: MediaPacket,
        frame: Sequence[MediaPacket],
        batch: SendBatch,
        owner: str,
    ) -> None:
        """``packet`` to ``consumers`` (some of this feed's), as ``deliver`` does."""
        for consumer in consumers:
            try:
                consumer.deliver(packet, frame, batch)
            except Exception:  # one broken subscriber must not stop the others
                logger.exception("consumer of %s failed; removing it", owner)
                self.remove(consumer)

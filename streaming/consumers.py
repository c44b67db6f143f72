"""The consumers of one feed, by kind: the fan-out list every feed keeps.

A dict subclass, so the packet path's ``consumers[packet.video]`` stays a plain lookup.
"""

from __future__ import annotations

from streaming.feed import PacketConsumer


class Consumers(dict[bool, list[PacketConsumer]]):
    """Consumers of video (True) and audio (False) packets, in the order they came."""

    def __init__(self) -> None:
        super().__init__({True: [], False: []})

    def add(self, consumer: PacketConsumer) -> None:
        """Start delivering the kinds ``consumer`` asks for (once, however often added)."""
        for kind in consumer.kinds:
            if consumer not in self[kind]:
                self[kind].append(consumer)

    def remove(self, consumer: PacketConsumer) -> None:
        """Stop delivering to ``consumer``; nothing happens if it was not here."""
        for consumers in self.values():
            if consumer in consumers:
                consumers.remove(consumer)

    def count(self) -> int:
        """How many distinct consumers there are (one taking video and audio counts once)."""
        return len({id(c) for consumers in self.values() for c in consumers})

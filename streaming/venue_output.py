"""A venue's switchable programme output (``/whep/venue/{venue}``).

``switch_to(channel)`` arms a switch; it happens in the packet path at the first
keyframe of the new source, audio and video together, and is reported with the moment
it happened. Subscribers keep their connections: their writers see a new epoch and
re-base sequence numbers and timestamps, so there is no renegotiation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from streaming.feed import PacketConsumer
from streaming.packet import MediaPacket
from streaming.ports import SwitchEvent
from streaming.source import ChannelSource

logger = logging.getLogger(__name__)


class _Tap:
    """Receives one source's packets on behalf of the output."""

    kinds = (True, False)

    def __init__(self, output: VenueOutput, source: ChannelSource) -> None:
        self.output = output
        self.source = source

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket]) -> None:
        self.output._from_source(self, packet, frame)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Sources never replay to a venue output; it asks for their cache itself."""


class VenueOutput:
    """Plays whichever channel is routed to the venue, switching at keyframes."""

    def __init__(
        self,
        venue: str,
        sources: Callable[[str], ChannelSource],
        on_switch: Callable[[SwitchEvent], None],
    ) -> None:
        self._venue = venue
        self._sources = sources
        self._on_switch = on_switch
        self._routed: str | None = None
        self._active: _Tap | None = None
        self._pending: _Tap | None = None
        self._consumers: dict[bool, list[PacketConsumer]] = {True: [], False: []}
        self._last_switch: SwitchEvent | None = None

    @property
    def venue(self) -> str:
        return self._venue

    @property
    def routed_channel(self) -> str | None:
        return self._routed

    @property
    def on_air_channel(self) -> str | None:
        return self._active.source.channel if self._active else None

    @property
    def consumer_count(self) -> int:
        return len({id(c) for kind in self._consumers.values() for c in kind})

    @property
    def last_switch(self) -> SwitchEvent | None:
        """The most recent cut, if there was one."""
        return self._last_switch

    def switch_to(self, channel: str | None) -> None:
        """Route ``channel`` (None: nothing) here; the cut happens at its next keyframe."""
        source = self._sources(channel) if channel is not None else None
        self._routed = channel
        if self._pending is not None:
            self._pending.source.remove_consumer(self._pending)
            self._pending = None
        if source is None:
            self._cut(None, [])
            return
        if self._active is not None and self._active.source is source:
            return
        self._pending = _Tap(self, source)
        source.add_consumer(self._pending)
        gop = source.gop_snapshot()
        if self._active is None and gop:
            # Nothing on air yet: start with the cached pictures instead of waiting.
            self._cut(self._pending, [])
            for consumer in tuple(self._consumers[True]):
                consumer.start(gop)
            return
        source.request_keyframe()

    def add_consumer(self, consumer: PacketConsumer) -> None:
        for kind in consumer.kinds:
            if consumer not in self._consumers[kind]:
                self._consumers[kind].append(consumer)

    def remove_consumer(self, consumer: PacketConsumer) -> None:
        for consumers in self._consumers.values():
            if consumer in consumers:
                consumers.remove(consumer)

    def gop_snapshot(self) -> list[MediaPacket]:
        return self._active.source.gop_snapshot() if self._active else []

    def request_keyframe(self) -> None:
        if self._active is not None:
            self._active.source.request_keyframe()

    def _from_source(self, tap: _Tap, packet: MediaPacket, frame: Sequence[MediaPacket]) -> None:
        if tap is self._pending:
            if not (packet.video and packet.keyframe and not packet.late):
                return
            self._cut(tap, frame)
        elif tap is not self._active:
            return
        for consumer in tuple(self._consumers[packet.video]):
            try:
                consumer.deliver(packet, frame)
            except Exception:
                logger.exception("consumer of venue %s failed; removing it", self._venue)
                self.remove_consumer(consumer)

    def _cut(self, tap: _Tap | None, frame: Sequence[MediaPacket]) -> None:
        previous = self.on_air_channel
        if self._active is not None:
            self._active.source.remove_consumer(self._active)
        self._active = tap
        if tap is self._pending:
            self._pending = None
        event = SwitchEvent(self._venue, self.on_air_channel, previous, datetime.now(UTC))
        self._last_switch = event
        try:
            self._on_switch(event)
        except Exception:
            logger.exception("switch listener failed for venue %s", self._venue)

    def close(self) -> None:
        """Detach from every source."""
        for tap in (self._active, self._pending):
            if tap is not None:
                tap.source.remove_consumer(tap)
        self._active = self._pending = None
        for consumers in self._consumers.values():
            consumers.clear()

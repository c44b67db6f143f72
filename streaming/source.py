"""A channel's live source: the current publisher's packets fanned out to consumers.

The source outlives publishers. A new publisher (reconnect or replacement) gets a new
epoch; consumers stay attached and re-base at its first keyframe. The source keeps the
current video frame and the last group of pictures, so a late joiner starts at a
keyframe at once even when the publisher ignores keyframe requests (OBS does).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Protocol

from streaming.feed import PacketConsumer
from streaming.packet import MediaPacket
from streaming.rate_limit import MinInterval

logger = logging.getLogger(__name__)

# Keyframe requests upstream: at most two per second per publisher.
KEYFRAME_REQUEST_INTERVAL = 0.5
# A group of pictures longer than this is not cached (about 10 s at 2.5 Mbit/s).
MAX_GOP_PACKETS = 3000

_epochs = itertools.count(1)


def next_epoch() -> int:
    """A process-wide unique publisher epoch."""
    return next(_epochs)


class KeyframeSource(Protocol):
    """The publisher side of a source: it can be asked for a keyframe."""

    def send_keyframe_request(self) -> None: ...


class ChannelSource:
    """Fan-out point of one channel."""

    def __init__(self, channel: str, clock: Callable[[], float]) -> None:
        self.channel = channel
        self.publisher: KeyframeSource | None = None
        self.epoch = 0
        self.keyframe_requests = MinInterval(KEYFRAME_REQUEST_INTERVAL)
        self._clock = clock
        # Consumers by kind (True: video), so the fan-out loop does no dispatching.
        self._consumers: dict[bool, list[PacketConsumer]] = {True: [], False: []}
        self._frame: list[MediaPacket] = []
        self._gop: list[MediaPacket] = []
        self._gop_timestamp: int | None = None

    @property
    def live(self) -> bool:
        return self.publisher is not None

    @property
    def consumer_count(self) -> int:
        return len({id(c) for kind in self._consumers.values() for c in kind})

    @property
    def has_cached_keyframe(self) -> bool:
        """A group of pictures is cached, so a new player starts at once."""
        return bool(self._gop)

    def attach_publisher(self, publisher: KeyframeSource) -> int:
        """Make ``publisher`` the source's publisher; returns its epoch."""
        self.publisher = publisher
        self.epoch = next_epoch()
        self._frame = []
        self._gop = []
        self._gop_timestamp = None
        return self.epoch

    def detach_publisher(self, publisher: KeyframeSource) -> None:
        """Forget ``publisher`` if it is still the current one."""
        if self.publisher is publisher:
            self.publisher = None
            self._frame = []
            self._gop = []
            self._gop_timestamp = None

    def add_consumer(self, consumer: PacketConsumer) -> None:
        for kind in consumer.kinds:
            if consumer not in self._consumers[kind]:
                self._consumers[kind].append(consumer)

    def remove_consumer(self, consumer: PacketConsumer) -> None:
        for consumers in self._consumers.values():
            if consumer in consumers:
                consumers.remove(consumer)

    def gop_snapshot(self) -> list[MediaPacket]:
        """The last group of pictures, from a keyframe to now (empty if none)."""
        return list(self._gop)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, rate-limited."""
        if self.publisher is not None and self.keyframe_requests.allow(self._clock()):
            self.publisher.send_keyframe_request()

    def push(self, packet: MediaPacket) -> None:
        """One packet from the current publisher, to every consumer."""
        if packet.epoch != self.epoch:
            return
        if packet.video and not packet.late:
            self._remember(packet)
        frame = self._frame
        for consumer in tuple(self._consumers[packet.video]):
            try:
                consumer.deliver(packet, frame)
            except Exception:  # one broken subscriber must not stop the others
                logger.exception("consumer of %s failed; removing it", self.channel)
                self.remove_consumer(consumer)

    def _remember(self, packet: MediaPacket) -> None:
        if packet.frame_start:
            self._frame = [packet]
        else:
            self._frame.append(packet)
        if packet.keyframe and packet.timestamp != self._gop_timestamp:
            self._gop = list(self._frame)
            self._gop_timestamp = packet.timestamp
        elif self._gop:
            self._gop.append(packet)
            if len(self._gop) > MAX_GOP_PACKETS:
                self._gop = []

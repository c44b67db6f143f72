"""A channel's live source: the current publisher's packets fanned out to consumers.

The source outlives publishers. A new publisher (reconnect or replacement) gets a new
epoch; consumers stay attached and re-base at its first keyframe. The source keeps the
current video frame and the last group of pictures, so a late joiner starts at a
keyframe at once even when the publisher ignores keyframe requests (OBS does).

A channel may have two publishers, a primary and a backup, each in its own slot. Only
the one on air is fanned out; the other's packets only stamp its slot's last-packet
time (health) and, once a switch is armed, cut it in at its first keyframe.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from streaming.consumers import Consumers
from streaming.feed import PacketConsumer
from streaming.frame_batch import FrameBatch
from streaming.packet import MediaPacket
from streaming.ports import SourceRole
from streaming.rate_limit import MinInterval
from streaming.send_batch import PLAIN_BATCH, SendBatch

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


@dataclass(slots=True)
class PublisherSlot:
    """The primary or the backup publisher of a channel and when it last sent media."""

    role: SourceRole
    publisher: KeyframeSource | None = None
    epoch: int = -1
    # Monotonic seconds; kept after the publisher leaves, so "lost since" stays known.
    last_packet_at: float | None = None
    # The last publisher here ended on purpose (DELETE), not by a dropped connection.
    ended_cleanly: bool = True


class ChannelSource:
    """Fan-out point of one channel."""

    def __init__(
        self,
        channel: str,
        clock: Callable[[], float],
        batch: SendBatch = PLAIN_BATCH,
        video_batch: SendBatch | None = None,
    ) -> None:
        self.channel = channel
        # How this channel's packets reach the network (``streaming/send_batch.py``):
        # audio packet by packet, video by ``video_batch`` (a frame at a time if native).
        self.batch = batch
        self.video_batch = batch if video_batch is None else video_batch
        self._frames = self.video_batch if isinstance(self.video_batch, FrameBatch) else None
        # The video consumers to call for a followed frame's next packets.
        self._others: list[PacketConsumer] | None = None
        # The publisher on air and its epoch: plain attributes for the packet path.
        self.publisher: KeyframeSource | None = None
        self.epoch = 0
        self.slots: dict[SourceRole, PublisherSlot] = {
            "primary": PublisherSlot("primary"),
            "backup": PublisherSlot("backup"),
        }
        self.on_air: SourceRole = "primary"
        self.armed: SourceRole | None = None
        self.keyframe_requests = MinInterval(KEYFRAME_REQUEST_INTERVAL)
        self._on_air_slot = self.slots["primary"]
        self._clock = clock
        # Consumers by kind (True: video), so the fan-out loop does no dispatching.
        self._consumers = Consumers()
        self._frame: list[MediaPacket] = []
        self._gop: list[MediaPacket] = []
        self._gop_timestamp: int | None = None

    @property
    def live(self) -> bool:
        return self.publisher is not None

    @property
    def consumer_count(self) -> int:
        return self._consumers.count()

    @property
    def has_cached_keyframe(self) -> bool:
        """A group of pictures is cached, so a new player starts at once."""
        return bool(self._gop)

    def attach_publisher(self, publisher: KeyframeSource, role: SourceRole = "primary") -> int:
        """Put ``publisher`` in ``role``'s slot; returns its epoch.

        It goes on air at once when its slot is on air or nothing is on air; otherwise
        the failover policy decides when to arm it.
        """
        slot = self.slots[role]
        slot.publisher = publisher
        slot.epoch = next_epoch()
        slot.last_packet_at = self._clock()
        slot.ended_cleanly = False
        if role == self.on_air or self.publisher is None:
            self._go_on_air(slot)
        return slot.epoch

    def detach_publisher(self, publisher: KeyframeSource, *, cleanly: bool = False) -> None:
        """Forget ``publisher`` if it is still in its slot."""
        for slot in self.slots.values():
            if slot.publisher is publisher:
                slot.publisher = None
                slot.ended_cleanly = cleanly
                if self.armed == slot.role:
                    self.armed = None
        if self.publisher is publisher:
            self.publisher = None
            self.video_batch.flush()  # the rest of its last frame is not coming
            self._frame = []
            self._gop = []
            self._gop_timestamp = None

    def arm(self, role: SourceRole) -> None:
        """Cut to ``role``'s publisher at its next keyframe (asked for now)."""
        if role == self.on_air and self.publisher is not None:
            self.armed = None
            return
        slot = self.slots[role]
        if slot.publisher is None:
            return
        if self.armed != role:
            self.armed = role
            slot.publisher.send_keyframe_request()

    def nudge_armed(self) -> None:
        """Ask the armed publisher for a keyframe again, rate-limited (it may ignore PLIs)."""
        if self.armed is None:
            return
        publisher = self.slots[self.armed].publisher
        if publisher is not None and self.keyframe_requests.allow(self._clock()):
            publisher.send_keyframe_request()

    def _go_on_air(self, slot: PublisherSlot) -> None:
        self.on_air = slot.role
        self._on_air_slot = slot
        self.armed = None
        self.publisher = slot.publisher
        self.epoch = slot.epoch
        self._frame = []
        self._gop = []
        self._gop_timestamp = None

    def add_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.add(consumer)

    def remove_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.remove(consumer)

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
            self._off_air(packet)
            return
        self._on_air_slot.last_packet_at = packet.arrival
        if packet.video and not packet.late:
            self._remember(packet)
        if packet.video and self._frames is not None:
            self._push_frame(packet, self._frames)
            return
        batch = self.video_batch if packet.video else self.batch
        self._consumers.deliver(packet, self._frame, batch, self.channel)
        batch.packet_done(packet)  # sent now, or when its frame ends

    def _push_frame(self, packet: MediaPacket, batch: FrameBatch) -> None:
        # Video a frame at a time: the writers that took the frame's first packet take the
        # rest without a call each (``FrameBatch.follow``); the other consumers are called.
        consumers = self._consumers
        if self._others is not None and batch.follows(packet, consumers.version):
            consumers.deliver_to(self._others, packet, self._frame, batch, self.channel)
        else:
            consumers.deliver(packet, self._frame, batch, self.channel)
            self._others = batch.follow(packet, consumers[True], consumers.version)
        batch.packet_done(packet)  # sent when its frame ends

    def _off_air(self, packet: MediaPacket) -> None:
        # The publisher not on air: stamp its health; cut it in at an armed keyframe.
        for slot in self.slots.values():
            if slot.epoch == packet.epoch and slot.publisher is not None:
                slot.last_packet_at = packet.arrival
                if (
                    self.armed == slot.role
                    and packet.video
                    and packet.keyframe
                    and packet.frame_start
                    and not packet.late
                ):
                    logger.info("channel %s: the %s is on air", self.channel, slot.role)
                    self._go_on_air(slot)
                    self.push(packet)
                return

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

"""A video feed's send batch that holds each frame until it ends (``FrameBatch``).

A frame is of no use to a viewer until its last packet is there, so holding its first
packets until then costs nothing, and sending a subscriber's packets of one frame
together lets ``NativeBatch.send_frame`` (``streaming/native_batch.py``) put them in one
UDP GSO message: the kernel walks its send path once per subscriber per frame instead of
once per packet, and the Python work per frame grows with the subscribers, not with
subscribers times packets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from streaming.packet import MediaPacket
from streaming.send_batch import BatchedWriter

# Packets of one frame a native call takes (a frame batch sends when it has this many).
FRAME_PACKETS = 1024


class FrameSender(Protocol):
    """What sends a held frame (``NativeBatch``)."""

    def send_frame(
        self,
        packets: list[MediaPacket],
        starts: dict[BatchedWriter, int],
        ends: dict[BatchedWriter, int],
    ) -> None: ...


class FrameBatch:
    """One video feed's batch: each subscriber's packets of a frame leave together.

    The frame's packets are kept once, in delivery order, and each writer's share as a
    range of them (a writer gets every packet from its first until it leaves the batch:
    one that would skip a packet settles the batch first, see ``TrackWriter.deliver``).
    Sent when the frame's last packet (the marker bit) has been delivered, when a late
    packet (a repair) comes, ``hold_seconds`` after the first held packet (a frame whose
    last packet was lost), or when a writer needs its packets settled (``flush``).
    """

    native = True
    holds_frames = True

    def __init__(self, sender: FrameSender, hold_seconds: float) -> None:
        self._sender = sender
        self._hold = hold_seconds
        self._packets: list[MediaPacket] = []
        self._last: MediaPacket | None = None
        self._starts: dict[BatchedWriter, int] = {}
        self._ends: dict[BatchedWriter, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        # Writers that take the frame's next packets without being called (``follow``),
        # for the consumer list version and publisher epoch they were taken from.
        self._following: list[BatchedWriter] = []
        self._follow_version = -1
        self._follow_epoch = -1
        # Frames sent (flushes that carried packets), for the tests and /metrics.
        self.frames = 0

    @property
    def held(self) -> int:
        """Copies (packets times subscribers) waiting for the end of their frame."""
        following, count = set(self._following), len(self._packets)
        return sum(
            (count if writer in following else self._ends[writer]) - start
            for writer, start in self._starts.items()
        )

    def add(
        self, writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int
    ) -> None:
        # ``sequence`` and ``timestamp`` are the packet's own plus the writer's offsets,
        # which cannot change while the writer has packets here: the send recomputes them.
        packets = self._packets
        if packet is not self._last:
            self._last = packet
            packets.append(packet)
        end = len(packets)
        if writer not in self._starts:
            self._starts[writer] = end - 1
        self._ends[writer] = end

    def follow(
        self, packet: MediaPacket, consumers: Sequence[Any], version: int
    ) -> list[Any] | None:
        """After ``packet`` went to every one of ``consumers`` (a feed's video consumers,
        list ``version``): the writers that took it into this frame follow the frame.

        A writer that took a packet of the frame into this batch takes the next ones the
        same way (nothing that would change its path happens inside a frame: a new
        publisher, a late packet or a change of consumers ends the following), so the
        feed need not call it for each packet. Returns the consumers the feed must still
        call, or None when there is no frame to follow.
        """
        count = len(self._packets)
        if not count or packet.late or packet is not self._last:
            self._following = []
            return None
        starts, ends = self._starts, self._ends
        following: list[BatchedWriter] = []
        others: list[Any] = []
        for consumer in consumers:
            if consumer.__hash__ is None:  # not a writer (writers are hashable)
                others.append(consumer)
            elif ends.get(consumer) == count and consumer in starts:
                following.append(consumer)
            else:
                others.append(consumer)
        self._following = following
        self._follow_version = version
        self._follow_epoch = packet.epoch
        return others

    def follows(self, packet: MediaPacket, version: int) -> bool:
        """True if ``packet`` continues the followed frame: it is taken for every follower
        (the feed then calls only the others)."""
        if not self._following:
            return False
        if packet.late or packet.epoch != self._follow_epoch or version != self._follow_version:
            # The followers stop here, having taken every packet so far; whoever is still
            # a consumer is called for this one.
            count = len(self._packets)
            for writer in self._following:
                self._ends[writer] = count
            self._following = []
            return False
        if packet is not self._last:
            self._last = packet
            self._packets.append(packet)
        return True

    def packet_done(self, packet: MediaPacket) -> None:
        """Send the frame if ``packet`` ended it; otherwise hold it, with a deadline."""
        if not self._starts:
            return
        if packet.marker or packet.late or self._hold <= 0 or len(self._packets) >= FRAME_PACKETS:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop to wake us: do not hold
                self.flush()
                return
            self._timer = loop.call_later(self._hold, self._deadline)

    def _deadline(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        packets, starts, ends = self._packets, self._starts, self._ends
        for writer in self._following:  # every packet of the frame since it began
            ends[writer] = len(packets)
        self._following = []
        self._packets, self._last = [], None
        if not starts:
            return
        self._starts, self._ends = {}, {}
        self.frames += 1
        self._sender.send_frame(packets, starts, ends)

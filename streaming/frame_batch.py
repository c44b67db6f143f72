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
from typing import TYPE_CHECKING

from streaming.packet import MediaPacket
from streaming.send_batch import BatchedWriter

if TYPE_CHECKING:
    from streaming.native_batch import NativeBatch

# Packets of one frame a native call takes (a frame batch sends when it has this many).
FRAME_PACKETS = 1024


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

    def __init__(self, sender: NativeBatch, hold_seconds: float) -> None:
        self._sender = sender
        self._hold = hold_seconds
        self._packets: list[MediaPacket] = []
        self._last: MediaPacket | None = None
        self._starts: dict[BatchedWriter, int] = {}
        self._ends: dict[BatchedWriter, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        # Frames sent (flushes that carried packets), for the tests and /metrics.
        self.frames = 0

    @property
    def held(self) -> int:
        """Copies (packets times subscribers) waiting for the end of their frame."""
        return sum(self._ends[writer] - start for writer, start in self._starts.items())

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
        self._packets, self._last = [], None
        if not starts:
            return
        self._starts, self._ends = {}, {}
        self.frames += 1
        self._sender.send_frame(packets, starts, ends)

"""How a fan-out hands one packet's copies to the network: the batch interface.

A feed delivers a packet to every consumer with one ``SendBatch``, then calls
``packet_done``: a per-packet batch sends there, so it never holds a packet past the
delivery call; a frame batch (``holds_frames``) may hold a video frame's packets until
the frame's last one, a frame being useless to a viewer until it is whole. A writer
whose queue is empty rewrites the header and ``add``s the packet;
the batch settles each entry by calling back ``packet_sent`` (it went out, or was dropped
for good, as the one-packet path drops it) or ``packet_unsent`` (the socket would block:
the writer queues it, exactly as when ``send_rtp`` says False).

``PlainBatch`` sends at once, one ``sendto`` per packet (the path before batching, and the
fallback). ``streaming/native_batch.py`` gathers the entries and sends them with one
native call (SRTP and ``sendmmsg`` in C); its ``FrameBatch`` sends a subscriber's packets
of one frame as one UDP GSO message.
"""

from __future__ import annotations

from typing import Protocol

from streaming.packet import MediaPacket
from streaming.rtp_rewrite import RtpRewriter


class RtpSink(Protocol):
    """Where a subscriber's RTP goes: its own SRTP context and UDP path."""

    send_errors: int

    def writable(self) -> bool: ...

    def batch_target(self) -> tuple[int, int] | None:
        """``(socket fd, native destination)`` for a native batch, or None: send plainly."""
        ...

    def send_rtp(
        self,
        payload_type: int,
        marker: bool,
        sequence: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
    ) -> bool:
        """Send one packet; False if the sink cannot take it now (nothing was sent)."""
        ...


class SentFrame:
    """What a writer's share of a sent frame adds to its counters, summed once a frame."""

    __slots__ = ("bytes_before", "frames_before", "keyframes", "packets")

    def __init__(self, packets: list[MediaPacket]) -> None:
        self.packets = packets
        # Running totals before each index: bytes on the wire (12-byte header), frame ends.
        self.bytes_before = [0]
        self.frames_before = [0]
        # Indexes of keyframe packets.
        self.keyframes: list[int] = []
        total = ends = 0
        for index, packet in enumerate(packets):
            total += len(packet.payload) + 12
            ends += packet.marker
            self.bytes_before.append(total)
            self.frames_before.append(ends)
            if packet.keyframe:
                self.keyframes.append(index)


class BatchedWriter(Protocol):
    """A writer as a batch sees it: its header state, its sink and the two outcomes."""

    @property
    def rewriter(self) -> RtpRewriter: ...

    @property
    def sink(self) -> RtpSink: ...

    def packet_sent(self, packet: MediaPacket, sequence: int, timestamp: int) -> None: ...

    def packet_unsent(self, packet: MediaPacket) -> None: ...

    def frame_sent(self, frame: SentFrame, start: int, stop: int, failed: int) -> None:
        """``frame.packets[start:stop]`` went out (``failed`` of them were dropped)."""
        ...


class SendBatch(Protocol):
    """Collects one delivery call's packets; ``flush`` settles every one of them."""

    # True: a writer may have several packets in the batch at once (a frame's).
    holds_frames: bool

    def add(
        self, writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int
    ) -> None:
        """Send ``packet`` as ``sequence``/``timestamp`` to ``writer``'s sink, now or at flush."""
        ...

    def packet_done(self, packet: MediaPacket) -> None:
        """The feed delivered ``packet`` to every consumer: send now or hold its frame."""
        ...

    def flush(self) -> None:
        """Send what was added and call every writer back; cheap when nothing was added."""
        ...


def send_now(writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int) -> bool:
    """The one-packet path: protect and ``sendto`` now, then tell the writer how it went
    (False: it waits in the writer's queue)."""
    rewriter = writer.rewriter
    if writer.sink.send_rtp(
        rewriter.payload_type, packet.marker, sequence, timestamp, rewriter.ssrc, packet.payload
    ):
        writer.packet_sent(packet, sequence, timestamp)
        return True
    writer.packet_unsent(packet)
    return False


class PlainBatch:
    """No batching: every packet goes out in ``add``, one system call each."""

    native = False
    holds_frames = False

    def add(
        self, writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int
    ) -> None:
        send_now(writer, packet, sequence, timestamp)

    def packet_done(self, packet: MediaPacket) -> None:
        """Nothing is ever held."""

    def flush(self) -> None:
        """Nothing is ever held."""


# Stateless: the default of every feed and writer that was given no batch.
PLAIN_BATCH = PlainBatch()

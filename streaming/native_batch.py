"""The batched send path: native calls protect and send packets to many subscribers.

Every subscriber shares the media port's socket (``streaming/udp_mux.py``), so the copies
for all of a feed's subscribers can leave with one ``sendmmsg``. Entries (a subscriber's
header fields and a pointer to the payload) are packed into a C array, a few hundred
nanoseconds each and no system call; ``rtp_fanout.c`` writes each header and payload into
a slot, runs libsrtp's ``srtp_protect`` on it and sends, then every entry is settled with
its writer. Entries the socket would not take (EAGAIN) go back to their writers to queue,
as on the one-packet path; an SRTP or socket error counts a send error and drops the
packet, also as there.

Two batches share one ``NativeBatch``'s buffers:

* ``NativeBatch`` itself sends each packet's copies when its feed's delivery call ends
  (audio, and video when frames are not held): one message per copy.
* ``FrameBatch`` (``streaming/frame_batch.py``, one per video feed) holds a frame's
  packets until its last one (the marker bit) or ``hold_seconds``, then ``send_frame``
  describes the frame's packets to ``rtp_fanout.c`` once and each subscriber by its header
  fields only; the C side sends each subscriber's packets of the frame as UDP GSO messages
  (``UDP_SEGMENT``: the kernel cuts them into the datagrams), every subscriber's in one
  ``sendmmsg``, and each writer settles its share of the frame at once. A kernel that
  refuses GSO turns it off for the process; the packets then go one message each, still
  one ``sendmmsg`` per frame.
"""

from __future__ import annotations

import logging
import struct
import time
from typing import Any

from config import Event, MediaSettings
from streaming import aiortc_glue as glue
from streaming.frame_batch import FRAME_PACKETS, FrameBatch
from streaming.native import load
from streaming.packet import MediaPacket
from streaming.send_batch import BatchedWriter, PlainBatch, SendBatch, SentFrame, send_now
from streaming.source import ChannelSource

logger = logging.getLogger(__name__)

# Entries one native call carries; a bigger fan-out makes several calls.
CAPACITY = 4096
# Protected packets a native call keeps at once (its runs reuse them): 1.5 MB.
SLOTS = 1024
# Packets in one GSO message (``UDP_MAX_SEGMENTS`` of kernels before 6.9).
SEGMENTS = 64
# Subscribers one native call sends a frame to; more take several calls.
FRAME_WRITERS = 1024
# ``struct vb_entry``, ``vb_packet`` and ``vb_writer`` of rtp_fanout.c (checked against
# the compiled layout at start).
_ENTRY = struct.Struct("=QQiIIHHBBBB4x")
_STATUS_OFFSET = 34
_PACKET = struct.Struct("=QIHHB7x")
_WRITER = struct.Struct("=QiIIHBxiiii")
_WRITER_OUTCOME = struct.Struct("=ii")
_OUTCOME_OFFSET = 32
SENT, FAILED, UNSENT = 0, 1, 2
_LARGEST_PAYLOAD = glue.SRTP_BUFFER - glue.SRTP_TRAILER - 12

_Staged = tuple[BatchedWriter, MediaPacket, int, int]


class NativeBatch:
    """Gathers a delivery call's packets and sends them with ``rtp_fanout.c``."""

    native = True
    holds_frames = False

    def __init__(self, native: Any, capacity: int = CAPACITY, gso: bool = True) -> None:
        self._ffi, self._lib = native.ffi, native.lib
        if (
            self._ffi.sizeof("struct vb_entry") != _ENTRY.size
            or self._ffi.sizeof("struct vb_packet") != _PACKET.size
            or self._ffi.sizeof("struct vb_writer") != _WRITER.size
        ):
            raise RuntimeError("the native module does not match streaming/native_batch.py")
        self._capacity = capacity
        self._entries = self._ffi.new("struct vb_entry[]", capacity)
        self._view = memoryview(self._ffi.buffer(self._entries))
        self._slot_count = min(SLOTS, capacity)
        self._slots = self._ffi.new("uint8_t[]", self._slot_count * glue.SRTP_BUFFER)
        # rtp_fanout.c's report: dropped entries, GSO refused, GSO messages sent.
        self._counts = self._ffi.new("int[3]")
        self._protect = glue.srtp_protect_address()
        self._frame_packets = self._ffi.new("struct vb_packet[]", FRAME_PACKETS)
        self._packet_view = memoryview(self._ffi.buffer(self._frame_packets))
        self._frame_writers = self._ffi.new("struct vb_writer[]", FRAME_WRITERS)
        self._writer_view = memoryview(self._ffi.buffer(self._frame_writers))
        self._staged: list[_Staged] = []
        # Payloads the packed entries point at (by ``id`` of their packet), kept alive
        # until the call returns.
        self._pinned: dict[int, tuple[Any, int]] = {}
        # Packets of one frame a GSO message may carry (1 once the kernel refused GSO).
        self.segments = SEGMENTS if gso else 1
        # Native calls made, packets they carried and GSO messages of several packets
        # among them (for /metrics and the tests).
        self.calls = 0
        self.packets = 0
        self.gso_messages = 0

    def frame_batch(self, hold_seconds: float) -> FrameBatch:
        """A video feed's batch that sends a frame at a time through this one's buffers."""
        return FrameBatch(self, hold_seconds)

    def add(
        self, writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int
    ) -> None:
        target = writer.sink.batch_target()
        if target is None or len(packet.payload) > _LARGEST_PAYLOAD:
            send_now(writer, packet, sequence, timestamp)  # not a plain UDP socket; too big
            return
        if len(self._staged) == self._capacity:
            self.flush()
        self._pack(writer, target, packet, sequence, timestamp)

    def packet_done(self, packet: MediaPacket) -> None:
        """The feed delivered ``packet`` to everyone: send the copies now."""
        self.flush()

    def flush(self) -> None:
        staged = self._staged
        if not staged:
            return
        self._staged = []
        unsent = self._lib.vb_fan_out(
            self._protect,
            self._entries,
            len(staged),
            self._slots,
            glue.SRTP_BUFFER,
            self._slot_count,
            self.segments,
            self._counts,
        )
        self._pinned.clear()
        self._count_call(len(staged) - unsent)
        if unsent == 0 and self._counts[0] == 0:  # the common case: all went out
            for writer, packet, sequence, timestamp in staged:
                try:
                    writer.packet_sent(packet, sequence, timestamp)
                except Exception:
                    logger.exception("a writer failed to settle a batched packet")
            return
        view = self._view
        for index, (writer, packet, sequence, timestamp) in enumerate(staged):
            status = view[index * _ENTRY.size + _STATUS_OFFSET]
            self._settle(writer, packet, sequence, timestamp, status)

    def _count_call(self, carried: int) -> None:
        # What a native call reported (``self._counts``): the counters, and a refused GSO.
        self.calls += 1
        self.packets += carried
        self.gso_messages += self._counts[2]
        if self._counts[1] and self.segments > 1:
            logger.warning("the kernel refused UDP GSO; sending a frame's packets one by one")
            self.segments = 1

    def send_frame(
        self,
        packets: list[MediaPacket],
        starts: dict[BatchedWriter, int],
        ends: dict[BatchedWriter, int],
    ) -> None:
        """Send ``packets[starts[w]:ends[w]]`` to each writer ``w``, each writer's packets
        next to each other (its GSO messages), and settle them per writer.

        The frame's packets are described to the native side once; each writer adds only
        its header fields (offsets, SSRC, destination), so the Python work per frame grows
        with the subscribers, not with subscribers times packets. A writer's packets stay
        in one native send: a socket that would block leaves only its last ones unsent,
        and they queue behind what went, in order.
        """
        self.flush()  # nothing of another call may sit in the entries
        frame = SentFrame(packets)
        view = self._packet_view
        pinned = []
        for index, packet in enumerate(packets):
            buffer = self._ffi.from_buffer(packet.payload)
            pinned.append(buffer)
            _PACKET.pack_into(
                view,
                index * _PACKET.size,
                int(self._ffi.cast("uintptr_t", buffer)),
                packet.timestamp,
                len(packet.payload),
                packet.sequence_number,
                packet.marker,
            )
        chosen: list[tuple[BatchedWriter, int, int]] = []
        for writer, start in starts.items():
            target = writer.sink.batch_target()
            if target is None:
                self._send_plainly(writer, packets[start : ends[writer]])
                continue
            rewriter = writer.rewriter
            _WRITER.pack_into(
                self._writer_view,
                len(chosen) * _WRITER.size,
                target[1],
                target[0],
                rewriter.ssrc,
                rewriter.ts_offset,
                rewriter.seq_offset,
                rewriter.payload_type,
                start,
                ends[writer],
                0,
                0,
            )
            chosen.append((writer, start, ends[writer]))
            if len(chosen) == FRAME_WRITERS:
                self._send_writers(frame, chosen)
                chosen = []
        if chosen:
            self._send_writers(frame, chosen)
        del pinned  # the payloads were only needed during the native calls

    def _send_writers(self, frame: SentFrame, chosen: list[tuple[BatchedWriter, int, int]]) -> None:
        unsent = self._lib.vb_send_frame(
            self._protect,
            self._frame_packets,
            self._frame_writers,
            len(chosen),
            self._entries,
            self._capacity,
            self._slots,
            glue.SRTP_BUFFER,
            self._slot_count,
            self.segments,
            self._counts,
        )
        self._count_call(sum(end - start for _, start, end in chosen) - unsent)
        packets = frame.packets
        view = self._writer_view
        for index, (writer, start, end) in enumerate(chosen):
            sent, failed = _WRITER_OUTCOME.unpack_from(view, index * _WRITER.size + _OUTCOME_OFFSET)
            try:
                writer.frame_sent(frame, start, start + sent, failed)
                for packet in packets[start + sent : end]:
                    writer.packet_unsent(packet)
            except Exception:
                logger.exception("a writer failed to settle a batched frame")

    @staticmethod
    def _send_plainly(writer: BatchedWriter, packets: list[MediaPacket]) -> None:
        # Not a plain UDP socket (TCP, TURN): one by one; once one must wait, the rest
        # queue behind it.
        rewriter = writer.rewriter
        waiting = False
        for packet in packets:
            if waiting:
                writer.packet_unsent(packet)
                continue
            sequence = (packet.sequence_number + rewriter.seq_offset) & 0xFFFF
            timestamp = (packet.timestamp + rewriter.ts_offset) & 0xFFFFFFFF
            waiting = not send_now(writer, packet, sequence, timestamp)

    def _pack(
        self,
        writer: BatchedWriter,
        target: tuple[int, int],
        packet: MediaPacket,
        sequence: int,
        timestamp: int,
    ) -> None:
        staged = self._staged
        pinned = self._pinned.get(id(packet))
        if pinned is None:
            buffer = self._ffi.from_buffer(packet.payload)
            pinned = self._pinned[id(packet)] = (buffer, int(self._ffi.cast("uintptr_t", buffer)))
        rewriter = writer.rewriter
        _ENTRY.pack_into(
            self._view,
            len(staged) * _ENTRY.size,
            target[1],
            pinned[1],
            target[0],
            rewriter.ssrc,
            timestamp,
            len(packet.payload),
            sequence,
            0x80,
            (0x80 if packet.marker else 0) | rewriter.payload_type,
            UNSENT,
            0,
        )
        staged.append((writer, packet, sequence, timestamp))

    @staticmethod
    def _settle(
        writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int, status: int
    ) -> None:
        # One writer's trouble must not keep the others from hearing how their packet went.
        try:
            if status == UNSENT:
                writer.packet_unsent(packet)
                return
            if status == FAILED:
                writer.sink.send_errors += 1
            writer.packet_sent(packet, sequence, timestamp)
        except Exception:
            logger.exception("a writer failed to settle a batched packet")


def new_send_batch(native: bool, gso: bool = True) -> SendBatch:
    """The native batch if wanted and built, else the plain one-packet path."""
    module = load() if native else None
    if module is None:
        return PlainBatch()
    return NativeBatch(module, gso=gso)


def new_sources(event: Event, media: MediaSettings) -> dict[str, ChannelSource]:
    """Every programme channel's source, sending the way ``[media]`` says: one batch per
    process for audio (and video packet by packet), one frame batch per channel's video."""
    batch = new_send_batch(media.native_send, gso=media.frame_send)
    sources = {}
    for channel in event.channels:
        video = batch
        if isinstance(batch, NativeBatch) and media.frame_send:
            video = batch.frame_batch(media.frame_hold_ms / 1000)
        sources[channel.id] = ChannelSource(channel.id, time.monotonic, batch, video)
    return sources

"""The batched send path: one native call protects and sends a packet to many subscribers.

Every subscriber shares the media port's socket (``streaming/udp_mux.py``), so the copies
of one packet for all of a feed's subscribers can leave with one ``sendmmsg``. ``add``
packs each subscriber's header fields into a C array (a few hundred nanoseconds, no
system call); ``flush``, called by the feed at the end of its delivery call, hands the
array to ``rtp_fanout.c``, which writes each header and the payload into its own slot,
runs libsrtp's ``srtp_protect`` on it and sends all slots, then settles each entry with its
writer. Entries the socket would not take (EAGAIN) go back to their writers to queue, as
on the one-packet path; an SRTP or socket error counts a send error and drops the packet,
also as there.

UDP GSO does not fit this batch: it sends equal-size segments to *one* destination,
and these are one packet to many destinations. Batching a subscriber's packets of one
frame instead would hold packets until the frame ends, which adds latency.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from streaming import aiortc_glue as glue
from streaming.native import load
from streaming.packet import MediaPacket
from streaming.send_batch import BatchedWriter, PlainBatch, SendBatch, send_now

logger = logging.getLogger(__name__)

# Entries one native call carries; a bigger fan-out makes several calls per packet.
CAPACITY = 256
# ``struct vb_entry`` of rtp_fanout.c (checked against the compiled layout at start).
_ENTRY = struct.Struct("=QQiIIHHBBBB4x")
_STATUS_OFFSET = 34
SENT, FAILED, UNSENT = 0, 1, 2
_LARGEST_PAYLOAD = glue.SRTP_BUFFER - glue.SRTP_TRAILER - 12


class NativeBatch:
    """Gathers a delivery call's packets and sends them with ``rtp_fanout.c``."""

    native = True

    def __init__(self, native: Any, capacity: int = CAPACITY) -> None:
        self._ffi, self._lib = native.ffi, native.lib
        if self._ffi.sizeof("struct vb_entry") != _ENTRY.size:
            raise RuntimeError("the native module does not match streaming/native_batch.py")
        self._capacity = capacity
        self._entries = self._ffi.new("struct vb_entry[]", capacity)
        self._view = memoryview(self._ffi.buffer(self._entries))
        self._slots = self._ffi.new("uint8_t[]", capacity * glue.SRTP_BUFFER)
        self._failed = self._ffi.new("int *")
        self._protect = glue.srtp_protect_address()
        self._staged: list[tuple[BatchedWriter, MediaPacket, int, int]] = []
        # The payload the next entries point at, kept alive until the call returns.
        self._packet: MediaPacket | None = None
        self._payload_address = 0
        self._payloads: list[Any] = []
        # Native calls made and packets they carried (for /metrics and the tests).
        self.calls = 0
        self.packets = 0

    def add(
        self, writer: BatchedWriter, packet: MediaPacket, sequence: int, timestamp: int
    ) -> None:
        sink = writer.sink
        target = sink.batch_target()
        if target is None or len(packet.payload) > _LARGEST_PAYLOAD:
            send_now(writer, packet, sequence, timestamp)  # not a plain UDP socket; too big
            return
        staged = self._staged
        if len(staged) == self._capacity:
            self.flush()
        if packet is not self._packet:
            pinned = self._ffi.from_buffer(packet.payload)
            self._payloads.append(pinned)
            self._payload_address = int(self._ffi.cast("uintptr_t", pinned))
            self._packet = packet
        rewriter = writer.rewriter
        _ENTRY.pack_into(
            self._view,
            len(staged) * _ENTRY.size,
            target[1],
            self._payload_address,
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

    def flush(self) -> None:
        staged = self._staged
        if not staged:
            return
        self._staged = []
        unsent = self._lib.vb_fan_out(
            self._protect, self._entries, len(staged), self._slots, glue.SRTP_BUFFER, self._failed
        )
        self._payloads.clear()
        self._packet = None
        self.calls += 1
        self.packets += len(staged) - unsent
        if unsent == 0 and self._failed[0] == 0:  # the common case: all went out
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


def new_send_batch(native: bool) -> SendBatch:
    """The native batch if wanted and built, else the plain one-packet path."""
    module = load() if native else None
    if module is None:
        return PlainBatch()
    return NativeBatch(module)

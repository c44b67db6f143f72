"""One subscriber track's bounded queue: rewrite, send, remember for NACKs, drop when slow.

Sending is synchronous: when the sink can take a packet it goes out at once, in the call
that delivered it, so a fast subscriber costs no task switch. Only a sink that cannot keep
up makes packets wait, in a queue of ``capacity``; on overflow video drops to the next
keyframe and audio drops oldest-first. Nothing a subscriber does can block the publisher.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streaming.packet import MediaPacket
from streaming.rtp_rewrite import RtpRewriter
from streaming.send_batch import PLAIN_BATCH, RtpSink, SendBatch, SentFrame

# Slots of NACK history until the link's RTT is known (``streaming/nack.py`` sizes it).
HISTORY_SIZE = 512


@dataclass(slots=True)
class WriterStats:
    """Counters of one subscriber track."""

    packets_sent: int = 0
    bytes_sent: int = 0
    frames_sent: int = 0
    keyframes_sent: int = 0
    dropped: int = 0
    nacks_received: int = 0
    retransmitted: int = 0
    first_packet_at: float | None = None


class TrackWriter:
    """The per-subscriber, per-kind path from shared packets to one SRTP stream."""

    def __init__(
        self,
        video: bool,
        rewriter: RtpRewriter,
        sink: RtpSink,
        capacity: int,
        clock: Callable[[], float],
        request_keyframe: Callable[[], None],
        on_blocked: Callable[[], None],
    ) -> None:
        self.video = video
        self.rewriter = rewriter
        self.sink = sink
        self.capacity = capacity
        self.stats = WriterStats()
        self.waiting_for_keyframe = video
        self.last_sent_at: float | None = None
        self._clock = clock
        self._request_keyframe = request_keyframe
        self._on_blocked = on_blocked
        self._queue: deque[MediaPacket] = deque()
        self._epoch: int | None = None
        self._last_keyframe_timestamp = -1
        # Sent packets by outgoing sequence number (modulo the size), each with the
        # (sequence, timestamp) offsets it went out with: a frame's packets share one
        # offsets pair, so remembering a frame allocates nothing per packet.
        self._history: list[MediaPacket | None] = [None] * HISTORY_SIZE
        self._history_offsets: list[tuple[int, int] | None] = [None] * HISTORY_SIZE
        self._history_mask = HISTORY_SIZE - 1
        self._offsets: tuple[int, int] = (0, 0)
        # The batch holding our last packet until its feed flushes it (None: settled).
        self._staged_in: SendBatch | None = None

    @property
    def kinds(self) -> tuple[bool, ...]:
        return (self.video,)

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def history_size(self) -> int:
        """Packets kept for retransmission."""
        return len(self._history)

    def resize_history(self, size: int) -> None:
        """Keep ``size`` (a power of two) packets for NACKs; the newest ones survive."""
        if size == len(self._history) or size <= 0 or size & (size - 1):
            return
        newest = self.rewriter.last_sequence
        kept = sorted(
            (
                ((packet.sequence_number + offsets[0]) & 0xFFFF, packet, offsets)
                for packet, offsets in zip(self._history, self._history_offsets, strict=True)
                if packet is not None and offsets is not None
            ),
            key=lambda entry: (entry[0] - newest - 1) & 0xFFFF,  # oldest first, newest last
        )
        history: list[MediaPacket | None] = [None] * size
        history_offsets: list[tuple[int, int] | None] = [None] * size
        for sequence, packet, offsets in kept:
            history[sequence & (size - 1)] = packet
            history_offsets[sequence & (size - 1)] = offsets
        self._history = history
        self._history_offsets = history_offsets
        self._history_mask = size - 1

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Begin with a cached group of pictures (it starts with a keyframe)."""
        if not self.video or not gop or len(gop) > self.capacity:
            return
        self.waiting_for_keyframe = False
        self._epoch = gop[0].epoch
        self._queue.extend(gop)
        self.flush()

    def deliver(
        self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch = PLAIN_BATCH
    ) -> None:
        """Take one live packet; ``frame`` is its video frame so far (it ends with it).

        Sent through ``batch``: settled when the feed's delivery call returns, or for a
        frame batch when the frame ends.
        """
        staged = self._staged_in
        if staged is not None and (staged is not batch or not staged.holds_frames):
            # Our previous packet is still in another batch: settle it first, so this
            # one goes out after it and is rewritten from what really went out. (A frame
            # batch keeps a writer's packets of one frame in order: they may wait.)
            staged.flush()
            staged = None
        if self.video and (self.waiting_for_keyframe or packet.epoch != self._epoch):
            if staged is not None:
                staged.flush()
            self._resume_at_keyframe(packet, frame)
            return
        self._epoch = packet.epoch
        if self._queue:
            self._enqueue(packet)
            self.flush()
            return
        # The common case: nothing waiting; the batch sends it now or at its flush. The
        # rewriter's steady state is inlined (once per packet per subscriber).
        rewriter = self.rewriter
        if packet.epoch == rewriter.epoch and not rewriter.rebase_pending:
            self._staged_in = batch
            batch.add(
                self,
                packet,
                (packet.sequence_number + rewriter.seq_offset) & 0xFFFF,
                (packet.timestamp + rewriter.ts_offset) & 0xFFFFFFFF,
            )
        else:
            if staged is not None:
                staged.flush()  # re-basing starts from the last packet really sent
            self._staged_in = batch
            batch.add(self, packet, *rewriter.rewrite(packet, packet.arrival))

    def packet_unsent(self, packet: MediaPacket) -> None:
        """The sink could not take ``packet`` now: it waits in the queue."""
        self._staged_in = None
        self._enqueue(packet)
        self.flush()

    def _resume_at_keyframe(self, packet: MediaPacket, frame: Sequence[MediaPacket]) -> None:
        if not packet.keyframe or packet.late:
            self.waiting_for_keyframe = True
            return
        self.waiting_for_keyframe = False
        self._epoch = packet.epoch
        self.rewriter.after_gap()
        for earlier in frame:
            self._enqueue(earlier)
        self.flush()

    def _enqueue(self, packet: MediaPacket) -> None:
        if len(self._queue) >= self.capacity:
            if self.video:
                # A partial picture is useless: drop it all and start again at a keyframe.
                self.stats.dropped += len(self._queue) + 1
                self._queue.clear()
                self.waiting_for_keyframe = True
                self._request_keyframe()
                return
            self._queue.popleft()
            self.stats.dropped += 1
        self._queue.append(packet)

    def flush(self) -> None:
        """Send what the sink takes now; tell the owner if some must wait."""
        queue = self._queue
        while queue:
            if not self._send(queue[0]):
                self._on_blocked()
                return
            queue.popleft()

    def _rewrite(self, packet: MediaPacket) -> tuple[int, int]:
        # The hot path (once per packet per subscriber): the rewriter's steady-state
        # arithmetic is inlined; re-basing (new epoch, after a gap) goes through it.
        rewriter = self.rewriter
        if packet.epoch == rewriter.epoch and not rewriter.rebase_pending:
            return (
                (packet.sequence_number + rewriter.seq_offset) & 0xFFFF,
                (packet.timestamp + rewriter.ts_offset) & 0xFFFFFFFF,
            )
        return rewriter.rewrite(packet, packet.arrival)

    def _send(self, packet: MediaPacket) -> bool:
        """Send one queued packet now; False if the sink cannot take it (it stays queued)."""
        sequence, timestamp = self._rewrite(packet)
        rewriter = self.rewriter
        if not self.sink.send_rtp(
            rewriter.payload_type, packet.marker, sequence, timestamp, rewriter.ssrc, packet.payload
        ):
            return False
        self.packet_sent(packet, sequence, timestamp)
        return True

    def packet_sent(self, packet: MediaPacket, sequence: int, timestamp: int) -> None:
        """``packet`` went out (or was dropped for good): remember it for NACKs, count it."""
        self._staged_in = None
        rewriter = self.rewriter
        if 0 < ((sequence - rewriter.last_sequence) & 0xFFFF) < 0x8000:
            rewriter.last_sequence = sequence
            rewriter.last_timestamp = timestamp
            rewriter.last_sent_at = packet.arrival
        offsets = self._offsets
        if (packet.sequence_number + offsets[0]) & 0xFFFF != sequence or (
            packet.timestamp + offsets[1]
        ) & 0xFFFFFFFF != timestamp:
            offsets = self._offsets = (
                (sequence - packet.sequence_number) & 0xFFFF,
                (timestamp - packet.timestamp) & 0xFFFFFFFF,
            )
        slot = sequence & self._history_mask
        self._history[slot] = packet
        self._history_offsets[slot] = offsets
        self.last_sent_at = packet.arrival
        stats = self.stats
        stats.packets_sent += 1
        stats.bytes_sent += len(packet.payload) + 12
        if packet.marker:
            stats.frames_sent += 1
        if packet.keyframe and packet.timestamp != self._last_keyframe_timestamp:
            self._last_keyframe_timestamp = packet.timestamp
            stats.keyframes_sent += 1
        if stats.first_packet_at is None:
            stats.first_packet_at = self._clock()

    def frame_sent(self, frame: SentFrame, start: int, stop: int, failed: int) -> None:
        """``frame.packets[start:stop]`` went out as one (``failed`` were dropped): what
        ``packet_sent`` does for each, with the per-packet work done by list slices."""
        self._staged_in = None
        count = stop - start
        if count <= 0:
            return
        packets = frame.packets
        rewriter = self.rewriter
        seq_offset, ts_offset = rewriter.seq_offset, rewriter.ts_offset
        offsets = self._offsets
        if offsets[0] != seq_offset or offsets[1] != ts_offset:
            offsets = self._offsets = (seq_offset, ts_offset)
        first, last = packets[start], packets[stop - 1]
        sequence = (last.sequence_number + seq_offset) & 0xFFFF
        if 0 < ((sequence - rewriter.last_sequence) & 0xFFFF) < 0x8000:
            rewriter.last_sequence = sequence
            rewriter.last_timestamp = (last.timestamp + ts_offset) & 0xFFFFFFFF
            rewriter.last_sent_at = last.arrival
        history, mask = self._history, self._history_mask
        slot = (first.sequence_number + seq_offset) & mask
        if (
            slot + count <= len(history)
            and (last.sequence_number - first.sequence_number) & 0xFFFF == count - 1
        ):
            history[slot : slot + count] = packets[start:stop]
            self._history_offsets[slot : slot + count] = [offsets] * count
        else:  # wraps around the history, or a gap in the sequence numbers
            for packet in packets[start:stop]:
                slot = (packet.sequence_number + seq_offset) & mask
                history[slot] = packet
                self._history_offsets[slot] = offsets
        self.last_sent_at = last.arrival
        stats = self.stats
        stats.packets_sent += count
        stats.bytes_sent += frame.bytes_before[stop] - frame.bytes_before[start]
        stats.frames_sent += frame.frames_before[stop] - frame.frames_before[start]
        for index in frame.keyframes:
            keyframe = packets[index]
            if start <= index < stop and keyframe.timestamp != self._last_keyframe_timestamp:
                self._last_keyframe_timestamp = keyframe.timestamp
                stats.keyframes_sent += 1
        if stats.first_packet_at is None:
            stats.first_packet_at = self._clock()
        if failed:
            self.sink.send_errors += failed

    def retransmit(self, sequence_numbers: Sequence[int]) -> None:
        """Answer a NACK from history; what has aged out is left to a keyframe request."""
        self.stats.nacks_received += 1
        rewriter = self.rewriter
        for sequence in sequence_numbers:
            slot = sequence & self._history_mask
            packet, offsets = self._history[slot], self._history_offsets[slot]
            if (
                packet is None
                or offsets is None
                or (packet.sequence_number + offsets[0]) & 0xFFFF != sequence
            ):
                continue
            timestamp = (packet.timestamp + offsets[1]) & 0xFFFFFFFF
            if self.sink.send_rtp(
                rewriter.payload_type,
                packet.marker,
                sequence,
                timestamp,
                rewriter.ssrc,
                packet.payload,
            ):
                self.stats.retransmitted += 1

"""Sans-I/O receive side of one publisher track: classify, count, find losses.

No depacketising and no decoder: a packet is looked at only for its header and, for
video, the first bytes of its payload (keyframe detection).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from streaming.keyframes import is_keyframe
from streaming.packet import MediaPacket

SEQ_MOD = 1 << 16
MAX_NACK_GAP = 64


@dataclass(slots=True)
class IngestStats:
    """Counters of one publisher track."""

    packets: int = 0
    bytes: int = 0
    frames: int = 0
    keyframes: int = 0
    lost: int = 0
    nacks_sent: int = 0
    duplicates: int = 0
    first_packet_at: float | None = None
    first_keyframe_at: float | None = None


class TrackIngest:
    """Turns a publisher's RTP packets into ``MediaPacket``s and notices missing ones."""

    def __init__(self, video: bool, video_codec: str, epoch: int) -> None:
        self.video = video
        self.video_codec = video_codec
        self.epoch = epoch
        self.stats = IngestStats()
        self._highest: int | None = None
        self._last_timestamp: int | None = None
        self._last_keyframe_timestamp: int | None = None
        self._missing: deque[int] = deque(maxlen=256)
        self._interval_mark: tuple[int, int] = (0, 0)
        self.expected = 0
        self._cycles = 0

    def receive(
        self, sequence_number: int, timestamp: int, marker: bool, payload: bytes, now: float
    ) -> tuple[MediaPacket, list[int]]:
        """The packet to forward and the sequence numbers newly found missing."""
        stats = self.stats
        stats.packets += 1
        stats.bytes += len(payload) + 12
        if stats.first_packet_at is None:
            stats.first_packet_at = now
        late, missing = self._track_sequence(sequence_number)
        packet = MediaPacket(
            self.video, payload, sequence_number, timestamp, marker, self.epoch, now, late=late
        )
        if self.video and not late:
            packet.frame_start = timestamp != self._last_timestamp
            self._last_timestamp = timestamp
            if is_keyframe(self.video_codec, payload):
                packet.keyframe = True
                if timestamp != self._last_keyframe_timestamp:
                    self._last_keyframe_timestamp = timestamp
                    stats.keyframes += 1
                    if stats.first_keyframe_at is None:
                        stats.first_keyframe_at = now
        if marker and not late:
            stats.frames += 1
        return packet, missing

    def _track_sequence(self, sequence_number: int) -> tuple[bool, list[int]]:
        if self._highest is None:
            self._highest = sequence_number
            self.expected = 1
            return False, []
        ahead = (sequence_number - self._highest) % SEQ_MOD
        if ahead == 0:
            self.stats.duplicates += 1
            return True, []
        if ahead >= SEQ_MOD // 2:
            # Older than the highest: a retransmission or a reordered packet.
            if sequence_number in self._missing:
                self._missing.remove(sequence_number)
                self.stats.lost -= 1
            return True, []
        gap = [(self._highest + i) % SEQ_MOD for i in range(1, ahead)]
        if sequence_number < self._highest:
            self._cycles += SEQ_MOD
        self._highest = sequence_number
        self.expected += ahead
        self.stats.lost += len(gap)
        if len(gap) > MAX_NACK_GAP:
            return False, []
        self._missing.extend(gap)
        return False, gap

    @property
    def extended_highest_sequence(self) -> int:
        """The highest sequence number seen, with wrap-arounds counted (RFC 3550)."""
        return self._cycles + (self._highest or 0)

    def fraction_lost(self) -> int:
        """RFC 3550 fraction lost (0-255) since the previous call, for receiver reports."""
        expected, received = self.expected, self.stats.packets - self.stats.duplicates
        last_expected, last_received = self._interval_mark
        self._interval_mark = (expected, received)
        interval_expected = expected - last_expected
        interval_lost = interval_expected - (received - last_received)
        if interval_expected <= 0 or interval_lost <= 0:
            return 0
        return min(255, (interval_lost << 8) // interval_expected)

"""Sans-I/O receive side of one publisher track: classify, count, find losses.

No depacketising and no decoder: a packet is looked at only for its header and, for
video, the first bytes of its payload (keyframe detection). Video losses are NACKed, and
NACKed again until repaired (``streaming/nack.py``); a hole no retransmission will fill,
or loss too heavy for retransmission to keep up, sets ``keyframe_wanted`` instead.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from streaming.keyframes import is_keyframe
from streaming.link_health import FreezeMeter, LossWindow
from streaming.nack import NackScheduler, RepairTuning
from streaming.packet import MediaPacket

SEQ_MOD = 1 << 16
MAX_NACK_GAP = 64
# A keyframe asked for because of loss is asked again after this long if none came.
KEYFRAME_RETRY = 1.0


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
    keyframes_wanted: int = 0  # keyframe requests because of loss (video)


class TrackIngest:
    """Turns a publisher's RTP packets into ``MediaPacket``s and notices missing ones."""

    def __init__(
        self, video: bool, video_codec: str, epoch: int, tuning: RepairTuning | None = None
    ) -> None:
        tuning = tuning or RepairTuning()
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
        self.reported_fraction_lost = 0
        # Video only: retransmission and keyframe recovery, and what a decoder would see.
        self.nacks = NackScheduler(tuning.give_up_after)
        self.loss = LossWindow()
        self.freeze = FreezeMeter()
        self.keyframe_wanted = False
        self._keyframe_loss = tuning.keyframe_loss_fraction
        self._broken = False  # a hole no retransmission will fill: wait for a keyframe
        self._keyframe_asked_at: float | None = None

    def receive(
        self, sequence_number: int, timestamp: int, marker: bool, payload: bytes, now: float
    ) -> tuple[MediaPacket, list[int]]:
        """The packet to forward and the sequence numbers newly found missing."""
        stats = self.stats
        stats.packets += 1
        stats.bytes += len(payload) + 12
        if stats.first_packet_at is None:
            stats.first_packet_at = now
        late, missing, lost_now = self._track_sequence(sequence_number)
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
        if self.video:
            missing = self._repair(packet, missing, lost_now, now)
        return packet, missing

    def _repair(
        self, packet: MediaPacket, missing: list[int], lost_now: int, now: float
    ) -> list[int]:
        """NACK bookkeeping, keyframe recovery and the freeze meter for one video packet."""
        nacks = self.nacks
        repaired = packet.late and nacks.arrived(packet.sequence_number, now)
        if packet.keyframe and packet.frame_start:
            nacks.keyframe_at(packet.sequence_number)
            self._broken = False
            if self._keyframe_asked_at is not None:
                self._keyframe_asked_at = None
                self.loss.clear()  # the loss that asked for it is history now
        if not packet.late:
            self.loss.add(now, lost_now + 1, lost_now)
        if lost_now and not missing:  # a hole too big to NACK
            self._broken = True
        if missing and nacks.missing(missing, now):
            self._broken = True
        again, given_up = nacks.poll(now)
        if given_up:
            self._broken = True
        if self._broken or (lost_now and self._loss_too_high(now)):
            self._want_keyframe(now)
        elif (repaired or (packet.marker and not packet.late)) and nacks.pending == 0:
            self.freeze.advance(now)
        return missing + again if again else missing

    def _loss_too_high(self, now: float) -> bool:
        fraction = self.loss.fraction(now)
        return fraction is not None and fraction > self._keyframe_loss

    def _want_keyframe(self, now: float) -> None:
        asked = self._keyframe_asked_at
        rtt = self.nacks.rtt or 0.0
        if asked is not None and now - asked < max(KEYFRAME_RETRY, 2 * rtt):
            return
        self._keyframe_asked_at = now
        self.keyframe_wanted = True
        self.stats.keyframes_wanted += 1

    def _track_sequence(self, sequence_number: int) -> tuple[bool, list[int], int]:
        """(late, sequence numbers to NACK, packets found missing) for one arrival."""
        if self._highest is None:
            self._highest = sequence_number
            self.expected = 1
            return False, [], 0
        ahead = (sequence_number - self._highest) % SEQ_MOD
        if ahead == 0:
            self.stats.duplicates += 1
            return True, [], 0
        if ahead >= SEQ_MOD // 2:
            # Older than the highest: a retransmission or a reordered packet.
            if sequence_number in self._missing:
                self._missing.remove(sequence_number)
                self.stats.lost -= 1
            return True, [], 0
        lost = ahead - 1
        if sequence_number < self._highest:
            self._cycles += SEQ_MOD
        self._highest = sequence_number
        self.expected += ahead
        self.stats.lost += lost
        if lost > MAX_NACK_GAP or lost == 0:
            return False, [], lost
        gap = [(self._highest - lost + i) % SEQ_MOD for i in range(lost)]
        self._missing.extend(gap)
        return False, gap, lost

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
            self.reported_fraction_lost = 0
        else:
            self.reported_fraction_lost = min(255, (interval_lost << 8) // interval_expected)
        return self.reported_fraction_lost

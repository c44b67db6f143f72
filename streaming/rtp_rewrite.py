"""Sans-I/O RTP header rewriting for one subscriber track.

Every subscriber gets its own SSRC, sequence numbers and timestamps. They stay monotonic
across a publisher reconnect and a venue-output switch (a new ``epoch``), and across the
packets we drop for a slow subscriber, so its decoder never sees the source change.
"""

from __future__ import annotations

import random
import struct

from streaming.packet import MediaPacket

_HEADER = struct.Struct("!BBHII")
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


def rtp_header(
    payload_type: int, marker: bool, sequence_number: int, timestamp: int, ssrc: int
) -> bytes:
    """A 12-byte RTP header (version 2, no padding, extensions or CSRCs)."""
    return _HEADER.pack(
        0x80, (0x80 if marker else 0) | payload_type, sequence_number, timestamp, ssrc
    )


def parse_rtp_header(data: bytes) -> tuple[int, bool, int, int, int]:
    """``(payload_type, marker, sequence_number, timestamp, ssrc)`` of an RTP packet."""
    if len(data) < 12 or data[0] >> 6 != 2:
        raise ValueError("not an RTP packet")
    _, second, seq, ts, ssrc = _HEADER.unpack_from(data)
    return second & 0x7F, bool(second & 0x80), seq, ts, ssrc


class RtpRewriter:
    """Maps source sequence numbers and timestamps onto one outgoing stream."""

    def __init__(
        self, ssrc: int, payload_type: int, clock_rate: int, rng: random.Random | None = None
    ) -> None:
        rng = rng or random.Random()
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        # Start in the lower half so the 16-bit counter does not wrap early (SRTP rollover).
        self.last_sequence = rng.randrange(SEQ_MOD // 2)
        self.last_timestamp = rng.randrange(TS_MOD)
        # Public for the writer's inlined hot path; change them only through this class.
        self.seq_offset = 0
        self.ts_offset = 0
        self.epoch: int | None = None
        self.last_sent_at = 0.0
        self.rebase_pending = True

    def after_gap(self) -> None:
        """We dropped packets on purpose: make the next one follow on without a hole."""
        self.rebase_pending = True

    def rewrite(self, packet: MediaPacket, now: float) -> tuple[int, int]:
        """Sequence number and timestamp for ``packet`` sent at ``now`` (monotonic seconds).

        Call ``sent()`` once the packet really went out; until then nothing advances.
        """
        if packet.epoch != self.epoch:
            self._rebase_timestamp(packet, now)
            self.epoch = packet.epoch
            self.rebase_pending = True
        if self.rebase_pending:
            self.seq_offset = (self.last_sequence + 1 - packet.sequence_number) % SEQ_MOD
            self.rebase_pending = False
        return (
            (packet.sequence_number + self.seq_offset) % SEQ_MOD,
            (packet.timestamp + self.ts_offset) % TS_MOD,
        )

    def sent(self, sequence: int, timestamp: int, now: float) -> None:
        """Record a packet as sent; only newer ones move the high-water marks."""
        if 0 < (sequence - self.last_sequence) % SEQ_MOD < SEQ_MOD // 2:
            self.last_sequence = sequence
            self.last_timestamp = timestamp
            self.last_sent_at = now

    def _rebase_timestamp(self, packet: MediaPacket, now: float) -> None:
        if self.epoch is None:
            target = self.last_timestamp
        else:
            # Advance by the wall-clock time since the last packet, at least one tick.
            elapsed = max(0.0, now - self.last_sent_at)
            target = self.last_timestamp + max(1, int(elapsed * self.clock_rate))
        self.ts_offset = (target - packet.timestamp) % TS_MOD

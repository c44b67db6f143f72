"""The repair hold of a relay pull's video track: its timer, its hold, its frame flags.

A ``HeldVideoTrack`` is a pull's video ``PublisherTrack`` whose packets go to the
channel through a ``ReleaseBuffer`` (``streaming/reorder.py``): in sequence order, a hole
waiting for its retransmission from upstream rather than reaching local viewers, whose
jitter buffers (tuned for a short link to us) would give up on it. A local WHIP
publisher never goes through it.

The hold follows the link: long enough for the first NACK's repair and one retry
(``NackScheduler`` asks again after 1.5 RTT; its answer takes one more RTT), plus a
margin for jitter, never over ``relay.repair_hold_ms``. A clean link costs nothing:
packets in order go out in the call that received them.

Each NACK goes upstream twice (see ``HeldVideoTrack.nack_copies``); the second copy of
a repair is dropped here as a duplicate.

Audio passes straight through: it is never NACKed (a hole in it would only wait the
whole hold for nothing), and Opus in-band FEC and the decoder's concealment cover a
lost audio packet better than a late one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from streaming.keyframes import is_keyframe
from streaming.nack import INITIAL_RTT, RETRY_RTT_FACTOR, RETRY_SLACK
from streaming.packet import MediaPacket
from streaming.publisher import PublisherSession, PublisherTrack
from streaming.reorder import ReleaseBuffer

# Jitter allowance on top of the first repair and one retry.
HOLD_MARGIN = 0.05


def hold_for(rtt: float | None, maximum: float) -> float:
    """Seconds a hole may hold video up on a link of round trip ``rtt`` (None: unknown)."""
    rtt = INITIAL_RTT if rtt is None else max(0.0, rtt)
    return min(maximum, (RETRY_RTT_FACTOR + 1) * rtt + RETRY_SLACK + HOLD_MARGIN)


class HeldVideoTrack(PublisherTrack):
    """A relay pull's video: released to the channel in order, holes given time to heal."""

    # Two copies of each NACK, so the upstream also sends two of each repair: a repair
    # then fails with both copies lost (0.25 % at 5 % loss) instead of either one (10 %),
    # and nearly every hole heals within the first round trip, long before the hold ends.
    # The cost: repairs cross the link twice (10 % more packets at 5 % loss).
    nack_copies = 2

    def __init__(
        self, owner: PublisherSession, rtcp_ssrc: int, max_hold: float, max_held: int
    ) -> None:
        super().__init__(owner, True, rtcp_ssrc)
        self.max_hold = max_hold
        self.hold = ReleaseBuffer[MediaPacket](hold_for(None, max_hold), max_held)
        self.out_of_order = 0  # in-order releases behind an earlier one: must stay 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._last_timestamp: int | None = None
        self._last_sequence: int | None = None
        self._skipped = 0

    def forward(self, packet: MediaPacket) -> None:
        ingest = self.ingest
        if ingest is not None:
            self.hold.hold = hold_for(ingest.nacks.rtt, self.max_hold)
        released, late = self.hold.push(packet.sequence_number, packet, packet.arrival)
        if late:
            packet.late = True
            self.owner.source.push(packet)
        else:
            self._release(released)
        self._arm()

    def _release(self, packets: list[MediaPacket]) -> None:
        source = self.owner.source
        for packet in packets:
            self._in_order(packet)
            source.push(packet)
        if self.hold.stats.skipped != self._skipped:
            # A hole given up: viewers' pictures break until a keyframe (rate-limited).
            self._skipped = self.hold.stats.skipped
            if source.publisher is self.owner:
                source.request_keyframe()

    def _in_order(self, packet: MediaPacket) -> None:
        """Frame flags as the release order sees them (a repair may start a frame)."""
        last = self._last_sequence
        if last is not None and not 0 < (packet.sequence_number - last) % 65536 < 32768:
            self.out_of_order += 1
        self._last_sequence = packet.sequence_number
        if packet.late:  # late on arrival, in its place now
            packet.late = False
            packet.keyframe = is_keyframe(self.owner.video_codec, packet.payload)
        packet.frame_start = packet.timestamp != self._last_timestamp
        self._last_timestamp = packet.timestamp

    def _arm(self) -> None:
        """The timer that releases what waits when its hole's hold ends, no packet needed."""
        deadline = self.hold.deadline()
        if deadline == self._timer_at:
            return
        self.cancel_timer()
        if deadline is not None and not self.owner._closed:
            delay = max(0.0, deadline - time.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self._expire)
            self._timer_at = deadline

    def _expire(self) -> None:
        self._timer = self._timer_at = None
        self._release(self.hold.poll(time.monotonic()))
        self._arm()

    def cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._timer_at = None


def hold_fields(held: HeldVideoTrack | None) -> dict[str, Any]:
    """A link's repair-hold counters, for its snapshot (none without a hold)."""
    if held is None:
        return {}
    stats = held.hold.stats
    return {
        "hold_s": held.hold.hold,
        "held_packets": stats.held,
        "holes_repaired_in_hold": stats.repaired,
        "hold_skipped": stats.skipped,
        "hold_longest_wait_s": stats.longest_wait,
    }

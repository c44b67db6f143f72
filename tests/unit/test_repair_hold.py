"""The relay pull's repair hold (``streaming/reorder.py``): in-order release, sans-I/O."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import cast

import pytest

from streaming.packet import MediaPacket
from streaming.publisher import PublisherSession
from streaming.relay_hold import HeldVideoTrack, hold_for
from streaming.reorder import ReleaseBuffer
from streaming.rtp_rewrite import parse_rtp_header
from streaming.send_batch import SendBatch
from streaming.source import ChannelSource
from tests.helpers import eventually
from tests.unit.test_writer_and_feeds import FakeSink, Stream, make_writer

HOLD = 0.5


def buffer(hold: float = HOLD, max_held: int = 64) -> ReleaseBuffer[int]:
    return ReleaseBuffer(hold, max_held)


def push(held: ReleaseBuffer[int], sequence: int, now: float = 0.0) -> list[int]:
    released, late = held.push(sequence, sequence, now)
    assert not late
    return released


def test_in_order_packets_go_out_at_once() -> None:
    held = buffer()
    assert [push(held, n) for n in range(100, 105)] == [[100], [101], [102], [103], [104]]
    assert held.deadline() is None
    assert held.stats.released == 5
    assert held.stats.held == 0


def test_a_hole_repaired_releases_what_waited_in_order() -> None:
    held = buffer()
    push(held, 10)
    assert push(held, 12, 1.0) == []
    assert push(held, 13, 1.1) == []
    assert held.deadline() == pytest.approx(1.0 + HOLD)
    assert push(held, 11, 1.3) == [11, 12, 13]  # the retransmission fills the hole
    assert held.deadline() is None
    assert (held.stats.repaired, held.stats.held, held.stats.skipped) == (1, 2, 0)
    assert held.stats.longest_wait == pytest.approx(0.3)
    assert push(held, 14, 1.4) == [14]


def test_a_hole_that_waited_the_hold_is_skipped() -> None:
    held = buffer()
    push(held, 10)
    push(held, 13, 1.0)
    push(held, 14, 1.2)
    assert held.poll(1.0 + HOLD - 0.001) == []
    assert held.poll(1.0 + HOLD) == [13, 14]
    assert held.stats.skipped == 2
    assert held.deadline() is None
    # The retransmission that comes too late passes through, marked late, once.
    assert held.push(11, 11, 2.0) == ([11], True)
    assert held.push(11, 11, 2.0) == ([], False)
    assert held.stats.late == 1
    assert push(held, 15, 2.1) == [15]


def test_a_second_hole_waits_from_when_it_was_seen() -> None:
    held = buffer()
    push(held, 1)
    push(held, 3, 1.0)  # hole at 2, seen at 1.0
    push(held, 5, 1.4)  # hole at 4, seen at 1.4
    assert held.poll(1.5) == [3]  # 2 skipped; 4 still within its hold
    assert held.deadline() == pytest.approx(1.4 + HOLD)
    assert push(held, 4, 1.6) == [4, 5]
    assert (held.stats.skipped, held.stats.repaired) == (1, 1)


def test_an_arrival_after_the_deadline_releases_expired_holes() -> None:
    held = buffer()
    push(held, 1)
    push(held, 3, 1.0)
    assert push(held, 4, 1.0 + HOLD + 0.1) == [3, 4]  # no timer needed to move on


def test_order_across_the_16_bit_wrap() -> None:
    held = buffer()
    push(held, 65534)
    assert push(held, 1, 1.0) == []
    assert push(held, 65535, 1.1) == [65535]
    assert push(held, 0, 1.2) == [0, 1]
    assert held.push(65535, 65535, 1.3) == ([], False)  # released already: a duplicate


def test_duplicates_of_held_and_released_packets() -> None:
    held = buffer()
    push(held, 7)
    push(held, 9, 1.0)
    assert push(held, 9, 1.1) == []
    assert held.stats.duplicates == 1
    assert push(held, 8, 1.2) == [8, 9]
    assert held.push(8, 8, 1.3) == ([], False)  # released already (a second repair)
    assert held.stats.duplicates == 2


def test_a_flood_of_far_future_sequence_numbers_never_exceeds_the_cap() -> None:
    held = buffer(max_held=32)
    push(held, 0)
    rng = random.Random(13)
    most = 0
    for step in range(5000):
        held.push(rng.randrange(65536), step, step / 1000)
        most = max(most, held.holding)
    assert most < 32
    assert len(held._skipped) <= 32  # what it remembers of skipped packets is bounded too
    assert held.stats.jumps > 0


def test_a_jump_releases_what_waited_and_restarts_there() -> None:
    held = buffer(max_held=32)
    push(held, 100)
    push(held, 102, 1.0)
    assert push(held, 500, 1.1) == [102, 500]
    assert held.stats.jumps == 1
    assert push(held, 501, 1.2) == [501]


def test_no_hold_releases_everything_at_once() -> None:
    held = buffer(hold=0.0)
    push(held, 1)
    assert push(held, 3) == [3]
    assert held.holding == 0
    assert held.stats.skipped == 1


def test_random_loss_and_late_repairs_never_release_out_of_order() -> None:
    held = buffer(hold=0.3, max_held=512)
    rng = random.Random(5)
    arrivals: list[tuple[float, int]] = []
    for sequence in range(3000):
        sent = sequence * 0.004
        if rng.random() < 0.05:
            if rng.random() < 0.9:  # repaired one round trip later
                arrivals.append((sent + 0.3 * rng.uniform(0.9, 1.1), sequence))
        else:
            arrivals.append((sent, sequence))
    released: list[int] = []
    for now, sequence in sorted(arrivals):
        deadline = held.deadline()
        while deadline is not None and deadline <= now:  # the owner's timer
            released.extend(held.poll(deadline))
            deadline = held.deadline()
        out, late = held.push(sequence % 65536, sequence, now)
        if not late:
            released.extend(out)
    released.extend(held.clear(100.0))
    assert released == sorted(released)
    assert len(released) == len(set(released))
    assert held.stats.repaired > 50
    assert held.stats.longest_wait == pytest.approx(0.3)


def test_clear_returns_what_waited_and_forgets_the_sequence() -> None:
    held = buffer()
    push(held, 10)
    push(held, 12, 1.0)
    assert held.clear(1.1) == [12]
    assert push(held, 40000, 2.0) == [40000]  # a new sender starts anywhere


def test_max_held_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="max_held"):
        ReleaseBuffer[int](0.1, 1)


def test_the_hold_follows_the_rtt_within_the_setting() -> None:
    assert hold_for(0.3, 1.0) == pytest.approx(2.5 * 0.3 + 0.06)  # a repair and one retry
    assert hold_for(0.001, 1.0) < 0.07  # a short link holds video up briefly
    assert hold_for(2.0, 1.0) == 1.0  # never over relay.repair_hold_ms
    assert hold_for(None, 5.0) == hold_for(0.3, 5.0)  # unknown: assumed long


def test_a_packet_that_came_late_answers_a_later_nack() -> None:
    """A viewer's NACK for a packet the edge did not have yet goes unanswered; once the
    packet came (late, without a hold) a repeated NACK is answered from history."""
    sink = FakeSink()
    writer, _ = make_writer(sink, capacity=64)
    stream = Stream(per_frame=4)
    key, second = stream.frame(True, "k"), stream.frame(False, "p")
    missing = second[1]
    for packet in [*key, second[0], second[2], second[3]]:
        writer.deliver(packet, ())
    lost = (parse_rtp_header(sink.sent[-2])[2] - 1) % 65536
    sent = len(sink.sent)
    writer.retransmit([lost])
    assert len(sink.sent) == sent  # nothing to answer with yet
    missing.late = True
    writer.deliver(missing, ())
    assert parse_rtp_header(sink.sent[-1])[2] == lost  # forwarded at its own place
    writer.retransmit([lost])
    assert sink.sent[-1] == sink.sent[-2]
    assert writer.stats.retransmitted == 1


class FakePull:
    """What a held track needs of its session: the source, the codec, whether it closed."""

    def __init__(self) -> None:
        self.source = ChannelSource("hall", time.monotonic)
        self.video_codec = "H264"
        self._closed = False
        self.keyframe_requests = 0
        self.source.attach_publisher(self)

    def send_keyframe_request(self) -> None:
        self.keyframe_requests += 1


class Collect:
    kinds = (True,)

    def __init__(self) -> None:
        self.sequences: list[int] = []

    def start(self, gop: Sequence[MediaPacket]) -> None:
        pass

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self.sequences.append(packet.sequence_number)


def held_track(max_hold: float) -> tuple[HeldVideoTrack, FakePull, Collect]:
    pull = FakePull()
    track = HeldVideoTrack(cast(PublisherSession, pull), 1, max_hold, 64)
    seen = Collect()
    pull.source.add_consumer(seen)
    return track, pull, seen


def packet(pull: FakePull, sequence: int) -> MediaPacket:
    return MediaPacket(True, b"\x41", sequence, sequence, True, pull.source.epoch, time.monotonic())


async def test_the_hold_timer_releases_what_waits_without_another_packet() -> None:
    track, pull, seen = held_track(max_hold=0.05)
    for sequence in (1, 3, 4):
        track.forward(packet(pull, sequence))
    assert seen.sequences == [1]
    await eventually(lambda: seen.sequences == [1, 3, 4], "the hold to expire by its timer")
    assert pull.keyframe_requests == 1  # the skipped hole asks for a keyframe
    assert track._timer is None


async def test_the_hold_timer_is_cancelled_on_close() -> None:
    track, pull, seen = held_track(max_hold=0.05)
    track.forward(packet(pull, 1))
    track.forward(packet(pull, 3))
    timer = track._timer
    assert timer is not None
    pull._closed = True
    track.cancel_timer()
    assert timer.cancelled()
    track.forward(packet(pull, 4))  # a straggler after close arms nothing
    assert track._timer is None
    assert seen.sequences == [1]

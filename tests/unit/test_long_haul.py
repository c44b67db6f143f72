"""Long-haul protection, pure pieces: history sizing, NACK retries, keyframe recovery,
the freeze meter, and a subscriber sizing its history (FEC, settings, NACK packets:
test_long_haul_sdp_and_settings.py)."""

from __future__ import annotations

import random

import pytest

from streaming.ingest import TrackIngest
from streaming.link_health import FreezeMeter, LossWindow
from streaming.nack import (
    INITIAL_RTT,
    MAX_PENDING,
    MAX_TRIES,
    MIN_HISTORY,
    NackScheduler,
    RepairTuning,
    history_size,
    is_before,
)
from streaming.packet import MediaPacket
from streaming.rtp_rewrite import RtpRewriter, parse_rtp_header
from streaming.subscriber import _SubscriberTrack
from streaming.writer import HISTORY_SIZE, TrackWriter
from tests.unit.test_writer_and_feeds import Clock, FakeSink

# -- the sender's history ------------------------------------------------------------------


def test_history_covers_four_round_trips_and_the_jitter_at_the_packet_rate() -> None:
    # 300 ms RTT, 250 packets/s (2.5 Mbit/s): 1.2 s -> 300 packets, kept as 512 (the floor).
    assert history_size(0.3, 250, maximum=4096) == MIN_HISTORY
    # 8 Mbit/s (~750 packets/s) over 300 ms plus 50 ms jitter: 1.3 s -> 975 -> 1024.
    assert history_size(0.3, 750, 0.05, maximum=4096) == 1024
    # 600 ms RTT at 1000 packets/s: 2400 -> 4096.
    assert history_size(0.6, 1000, maximum=4096) == 4096


def test_history_is_a_power_of_two_within_the_memory_cap() -> None:
    assert history_size(2.0, 5000, maximum=4096) == 4096
    assert history_size(2.0, 5000, maximum=3000) == 2048  # the power of two below the cap
    assert history_size(0.3, 250, maximum=100) == 64  # a cap below the floor wins
    for rtt in (0.0, 0.01, 0.15, 0.3, 1.0):
        for rate in (0.0, 50.0, 250.0, 900.0):
            size = history_size(rtt, rate, 0.02, maximum=8192)
            assert size & (size - 1) == 0
            assert MIN_HISTORY <= size <= 8192


def test_history_before_any_rtt_assumes_a_long_link() -> None:
    assert history_size(None, 1000, maximum=16384) == history_size(INITIAL_RTT, 1000, maximum=16384)
    assert history_size(-1.0, 1000, maximum=4096) == MIN_HISTORY  # nonsense RTT: the floor


def _writer(sink: FakeSink) -> TrackWriter:
    return TrackWriter(
        video=False,
        rewriter=RtpRewriter(0x1234, 111, 48000, random.Random(0)),
        sink=sink,
        capacity=8,
        clock=Clock(),
        request_keyframe=lambda: None,
        on_blocked=lambda: None,
    )


def test_a_resized_history_still_answers_nacks_for_the_newest_packets() -> None:
    sink = FakeSink()
    writer = _writer(sink)
    for i in range(3000):
        writer.deliver(MediaPacket(False, i.to_bytes(2, "big"), i, i * 960, False, 1), ())
    sent = [parse_rtp_header(data)[2] for data in sink.sent]
    assert writer.history_size == HISTORY_SIZE
    writer.retransmit([sent[3000 - 600]])
    assert writer.stats.retransmitted == 0  # 600 packets ago: beyond 512 slots
    writer.resize_history(2048)
    for i in range(3000, 4000):
        writer.deliver(MediaPacket(False, i.to_bytes(2, "big"), i, i * 960, False, 1), ())
    sent = [parse_rtp_header(data)[2] for data in sink.sent]
    writer.retransmit([sent[4000 - 1500]])  # kept since the resize
    assert writer.stats.retransmitted == 1
    assert sink.sent[-1] == sink.sent[4000 - 1500]
    writer.resize_history(512)  # shrinking keeps the newest
    writer.retransmit([sent[-1], sent[-512], sent[-513]])
    assert writer.stats.retransmitted == 3
    writer.resize_history(1000)  # not a power of two: ignored
    assert writer.history_size == 512


# -- the receiver's NACKs ------------------------------------------------------------------


def test_a_nack_is_asked_again_after_a_round_trip_until_repaired() -> None:
    nacks = NackScheduler(give_up_after=1.5)
    nacks.missing([10, 11], 0.0)
    interval = nacks.retry_interval()
    assert interval == pytest.approx(INITIAL_RTT * 1.5 + 0.01)
    assert nacks.poll(interval - 0.001) == ([], 0)
    assert nacks.poll(interval) == ([10, 11], 0)
    assert nacks.poll(interval + 0.01) == ([], 0)  # not again before another interval
    assert nacks.arrived(10, interval + 0.3)
    assert not nacks.arrived(10, interval + 0.3)  # a duplicate repairs nothing
    assert (nacks.repaired, nacks.retries, nacks.pending) == (1, 2, 1)


def test_the_rtt_is_learned_from_first_nacks_and_never_shrunk_by_retried_ones() -> None:
    nacks = NackScheduler(give_up_after=5.0)
    nacks.missing([1], 0.0)
    nacks.arrived(1, 0.3)
    assert nacks.rtt == pytest.approx(0.3)
    nacks.missing([2], 1.0)
    nacks.arrived(2, 1.1)
    assert nacks.rtt == pytest.approx(0.3 + 0.125 * (0.1 - 0.3))
    # Asked twice, answered late: could be the first ask's answer, so only lengthens.
    before = nacks.rtt
    nacks.missing([3], 2.0)
    assert nacks.poll(2.001 + nacks.retry_interval()) == ([3], 0)
    nacks.arrived(3, 2.0 + nacks.retry_interval() + 0.01)
    assert nacks.rtt is not None
    assert nacks.rtt > before


def test_a_long_link_gets_its_rtt_even_when_retries_come_too_early() -> None:
    nacks = NackScheduler(give_up_after=10.0)
    for round_ in range(40):  # a 900 ms link: every first retry is sent before the answer
        start = round_ * 5.0
        nacks.missing([round_], start)
        nacks.poll(start + nacks.retry_interval())
        nacks.arrived(round_, start + 0.9)
    assert nacks.rtt is not None
    assert nacks.rtt > 0.6


def test_nacks_give_up_after_the_limit_or_the_tries() -> None:
    nacks = NackScheduler(give_up_after=1.0)
    nacks.missing([5], 0.0)
    interval = nacks.retry_interval()  # 0.46 s
    assert nacks.poll(interval) == ([5], 0)
    # A third ask would be answered after the limit: give up instead.
    assert nacks.poll(2 * interval) == ([], 1)
    assert (nacks.pending, nacks.given_up) == (0, 1)
    short = NackScheduler(give_up_after=10.0)
    short.rtt = 0.01
    short.missing([7], 0.0)
    asks = 1
    now = 0.0
    while short.pending:
        now += short.retry_interval()
        again, _ = short.poll(now)
        asks += len(again)
    assert asks == MAX_TRIES


def test_a_keyframe_ends_the_wait_for_older_holes_and_pending_is_bounded() -> None:
    nacks = NackScheduler(give_up_after=1.0)
    nacks.missing([65534, 65535, 2], 0.0)
    nacks.keyframe_at(1)  # across the 16-bit wrap
    assert nacks.pending == 1  # only 2 still holds our video up
    assert nacks.awaited == 3  # but all are still asked for, for players downstream
    assert nacks.poll(0.5) == ([65534, 65535, 2], 0)
    assert nacks.poll(1.0) == ([], 1)  # of three given up, one mattered
    assert nacks.given_up == 3
    assert is_before(65535, 1)
    assert not is_before(1, 65535)
    full = NackScheduler(give_up_after=1.0)
    full.missing([1], 0.0)
    full.keyframe_at(2)
    assert full.missing(list(range(100, 100 + MAX_PENDING + 5)), 0.0) == 5  # 1 was moot
    assert full.pending == MAX_PENDING
    assert full.given_up == 6


# -- loss window and freeze meter ----------------------------------------------------------


def test_loss_window_covers_the_last_second_and_needs_enough_packets() -> None:
    window = LossWindow()
    for i in range(10):
        window.add(i * 0.01, 1, 0)
    assert window.fraction(0.1) is None  # 10 packets say nothing yet
    for i in range(90):
        window.add(0.1 + i * 0.01, 1, 1 if i % 10 == 0 else 0)
    assert window.fraction(1.0) == pytest.approx(9 / 100)
    window.add(1.1, 60, 59)  # a burst
    assert window.fraction(1.1) == pytest.approx((9 + 59) / 160, abs=0.05)
    assert window.fraction(3.0) is None  # long gone
    window.clear()
    assert window.fraction(1.1) is None


def test_freeze_meter_counts_only_long_waits_and_the_one_going_on() -> None:
    meter = FreezeMeter(threshold=0.2)
    for i in range(30):
        meter.advance(i / 30)
    assert (meter.freezes, meter.total) == (0, 0.0)
    meter.advance(1.5)  # 533 ms without a decodable frame
    assert meter.freezes == 1
    assert meter.total == pytest.approx(1.5 - 29 / 30)
    assert meter.frozen_for(1.6) == 0.0
    assert meter.total_at(2.0) == pytest.approx(meter.total + 0.5)
    assert FreezeMeter().total_at(5.0) == 0.0


# -- the receiving track: retries, keyframe recovery, freeze -------------------------------


class VideoSender:
    """Packets as a publisher sends them: 4 per frame at 30 fps, a keyframe first."""

    def __init__(self, ingest: TrackIngest) -> None:
        self.ingest = ingest
        self.seq = 1000
        self.frame = 0
        self.sent: dict[int, tuple[int, bool, bytes]] = {}

    def frame_packets(self, key: bool = False) -> list[tuple[int, int, bool, bytes]]:
        timestamp = self.frame * 3000
        packets = []
        for i in range(4):
            payload = bytes([0x65 if key and i == 0 else 0x41, 0x88])
            if key and i == 0:
                payload = bytes([0x67, 0x42])  # SPS: a keyframe starts
            packets.append((self.seq % 65536, timestamp, i == 3, payload))
            self.sent[self.seq % 65536] = (timestamp, i == 3, payload)
            self.seq += 1
        self.frame += 1
        return packets

    def deliver(self, packet: tuple[int, int, bool, bytes], now: float) -> list[int]:
        seq, ts, marker, payload = packet
        return self.ingest.receive(seq, ts, marker, payload, now)[1]

    def resend(self, seq: int, now: float) -> list[int]:
        ts, marker, payload = self.sent[seq]
        return self.ingest.receive(seq, ts, marker, payload, now)[1]


def test_a_lost_video_packet_is_nacked_again_and_its_repair_ends_the_freeze() -> None:
    ingest = TrackIngest(True, "H264", epoch=1)
    sender = VideoSender(ingest)
    now = 0.0
    for packet in sender.frame_packets(key=True):
        sender.deliver(packet, now)
    lost = sender.frame_packets()
    nacked: list[int] = []
    for packet in lost[:1] + lost[2:]:
        nacked += sender.deliver(packet, now)
    assert nacked == [lost[1][0]]
    asked_again: list[int] = []
    for _ in range(20):  # 20 frames while the NACK and its retransmission are lost
        now += 1 / 30
        for packet in sender.frame_packets():
            asked_again += sender.deliver(packet, now)
    assert asked_again == [lost[1][0]]  # asked again once, after ~0.46 s
    assert not ingest.keyframe_wanted
    assert ingest.freeze.frozen_for(now) > 0.6  # the decoder waits on the hole
    assert sender.resend(lost[1][0], now + 0.01) == []
    assert ingest.freeze.freezes == 1
    assert ingest.freeze.total > 0.6
    assert ingest.nacks.repaired == 1
    assert ingest.stats.lost == 0


def test_a_hole_too_big_to_nack_asks_for_a_keyframe_which_ends_it() -> None:
    ingest = TrackIngest(True, "H264", epoch=1)
    sender = VideoSender(ingest)
    for packet in sender.frame_packets(key=True):
        sender.deliver(packet, 0.0)
    for _ in range(30):  # 120 packets lost in a burst
        sender.frame_packets()
    sender.deliver(sender.frame_packets()[0], 1.0)
    assert ingest.keyframe_wanted
    assert ingest.stats.keyframes_wanted == 1
    ingest.keyframe_wanted = False  # the publisher track took it
    for packet in sender.frame_packets():
        sender.deliver(packet, 1.1)
    assert not ingest.keyframe_wanted  # asked already; a second PLI waits a second
    for packet in sender.frame_packets(key=True):
        sender.deliver(packet, 1.2)
    for packet in sender.frame_packets():
        sender.deliver(packet, 1.23)
    assert ingest.freeze.frozen_for(1.23) == 0.0  # decodable again from the keyframe
    assert ingest.freeze.freezes == 1


def test_given_up_holes_ask_for_a_keyframe_again_until_one_comes() -> None:
    ingest = TrackIngest(True, "H264", epoch=1, tuning=RepairTuning(give_up_after=0.5))
    sender = VideoSender(ingest)
    for packet in sender.frame_packets(key=True):
        sender.deliver(packet, 0.0)
    frame = sender.frame_packets()
    for packet in frame[:2] + frame[3:]:
        sender.deliver(packet, 0.0)
    now = 0.0
    wanted = 0
    for _ in range(90):  # 3 s of frames; neither the NACKs nor a keyframe get through
        now += 1 / 30
        for packet in sender.frame_packets():
            sender.deliver(packet, now)
        wanted += ingest.keyframe_wanted
        ingest.keyframe_wanted = False
    assert ingest.nacks.given_up == 1
    assert wanted == 3  # at about 0.5 s, 1.5 s and 2.5 s: once a second while broken


def test_heavy_loss_asks_for_a_keyframe_and_light_loss_does_not() -> None:
    def run(loss_every: int) -> int:
        """Every ``loss_every``th packet lost; each repaired 100 ms later (one RTT)."""
        ingest = TrackIngest(True, "H264", epoch=1)
        sender = VideoSender(ingest)
        wanted = 0
        count = 0
        lost: list[tuple[float, int]] = []
        for i in range(90):
            now = i / 30
            for packet in sender.frame_packets(key=i == 0):
                count += 1
                if count % loss_every == 0:
                    lost.append((now, packet[0]))
                    continue
                sender.deliver(packet, now)
                while lost and lost[0][0] + 0.1 <= now:
                    sender.resend(lost.pop(0)[1], now)
                wanted += ingest.keyframe_wanted
                ingest.keyframe_wanted = False
        assert ingest.nacks.given_up == 0
        return wanted

    assert run(20) == 0  # 5 %: retransmission keeps up
    assert run(4) >= 1  # 25 %: above the default 15 %


def test_audio_keeps_its_plain_loss_accounting() -> None:
    ingest = TrackIngest(False, "H264", epoch=1)
    ingest.receive(1, 0, False, b"a", 0.0)
    _, missing = ingest.receive(3, 1920, False, b"a", 0.02)
    assert missing == [2]
    assert ingest.nacks.pending == 0  # audio is not NACKed (no retries either)
    assert not ingest.keyframe_wanted


# -- a subscriber track sizes its writer's history from its receiver reports ---------------


class _Feed:
    def request_keyframe(self) -> None: ...


class _Owner:
    def __init__(self, maximum: int) -> None:
        self.feed = _Feed()
        self.tuning = RepairTuning(history_max_packets=maximum)
        self.started: list[object] = []

    def _blocked(self) -> None: ...

    def _track_started(self, track: object) -> None:
        self.started.append(track)


@pytest.mark.parametrize(("maximum", "expected"), [(16384, 8192), (4096, 4096), (1000, 512)])
def test_a_subscriber_track_sizes_its_history_from_rtt_and_packet_rate(
    maximum: int, expected: int
) -> None:
    owner = _Owner(maximum)
    track = _SubscriberTrack(owner, video=True)  # type: ignore[arg-type]
    track.on_send_started(FakeSink(), 0x1234, 96, 90000)  # type: ignore[arg-type]
    writer = track.writer
    assert writer is not None
    track.rtt = 0.6
    track._size_history(10.0, 0.0)  # the first report only marks the rate
    assert writer.history_size == HISTORY_SIZE
    writer.stats.packets_sent += 2000  # 2000 packets/s over 600 ms: 4800 wanted
    track._size_history(11.0, 0.0)
    assert writer.history_size == expected

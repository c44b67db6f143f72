"""Sans-I/O media cores: keyframes, header rewriting, rate limits, ingest loss tracking."""

from __future__ import annotations

import random

from streaming.ingest import TrackIngest
from streaming.keyframes import h264_is_keyframe, is_keyframe, vp8_is_keyframe
from streaming.packet import MediaPacket
from streaming.rate_limit import MinInterval
from streaming.rtp_rewrite import RtpRewriter, parse_rtp_header, rtp_header


def packet(seq: int, ts: int, epoch: int = 1, *, video: bool = True) -> MediaPacket:
    return MediaPacket(video, b"x", seq % 65536, ts % (1 << 32), False, epoch)


class Rewriter(RtpRewriter):
    """Marks every rewritten packet as sent, as the writer does after a send."""

    def rewrite(self, packet: MediaPacket, now: float) -> tuple[int, int]:
        sequence, timestamp = super().rewrite(packet, now)
        self.sent(sequence, timestamp, now)
        return sequence, timestamp


# -- keyframes -----------------------------------------------------------------------------


def test_vp8_keyframe_bit_with_and_without_extensions() -> None:
    assert vp8_is_keyframe(bytes([0x10, 0x00]))  # S=1, PID=0, P=0
    assert not vp8_is_keyframe(bytes([0x10, 0x01]))  # P=1: inter frame
    assert not vp8_is_keyframe(bytes([0x00, 0x00]))  # not the start of a partition
    # X=1, I=1 with a 15-bit picture id, then the payload header.
    assert vp8_is_keyframe(bytes([0x90, 0x80, 0x81, 0x23, 0x00]))
    assert not vp8_is_keyframe(bytes([0x90, 0x80, 0x81, 0x23, 0x01]))
    # X=1, I (7-bit), L and T/K bytes.
    assert vp8_is_keyframe(bytes([0x90, 0xF0, 0x05, 0x01, 0x40, 0x00]))
    assert not vp8_is_keyframe(b"")
    assert not vp8_is_keyframe(bytes([0x90]))


def test_h264_keyframes_single_stap_a_and_fu_a() -> None:
    assert h264_is_keyframe(bytes([0x65, 0x88]))  # IDR slice
    assert h264_is_keyframe(bytes([0x67, 0x42]))  # SPS
    assert not h264_is_keyframe(bytes([0x41, 0x9A]))  # non-IDR slice
    stap = bytes([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE])
    assert h264_is_keyframe(stap)
    assert not h264_is_keyframe(bytes([0x78, 0x00, 0x02, 0x41, 0x9A]))
    assert not h264_is_keyframe(bytes([0x78, 0x00, 0x09, 0x67]))  # truncated
    assert h264_is_keyframe(bytes([0x7C, 0x85, 0x88]))  # FU-A start of an IDR
    assert not h264_is_keyframe(bytes([0x7C, 0x05, 0x88]))  # FU-A middle
    assert not h264_is_keyframe(bytes([0x7C, 0x81, 0x88]))  # FU-A start, non-IDR
    assert is_keyframe("VP8", bytes([0x10, 0x00]))
    assert not is_keyframe("H264", b"")


# -- header rewriting ----------------------------------------------------------------------


def test_header_round_trip() -> None:
    header = rtp_header(96, True, 65535, (1 << 32) - 1, 0xDEADBEEF)
    assert parse_rtp_header(header) == (96, True, 65535, (1 << 32) - 1, 0xDEADBEEF)


def test_rewriter_keeps_gaps_from_the_source_and_wraps() -> None:
    rewriter = Rewriter(1, 96, 90000, random.Random(1))
    first_seq, first_ts = rewriter.rewrite(packet(65534, 1000), 0.0)
    second_seq, second_ts = rewriter.rewrite(packet(1, 4000), 0.03)  # 65535, 0 lost
    assert (second_seq - first_seq) % 65536 == 3
    assert (second_ts - first_ts) % (1 << 32) == 3000


def test_rewriter_closes_our_own_gaps() -> None:
    rewriter = Rewriter(1, 96, 90000, random.Random(2))
    seq, _ = rewriter.rewrite(packet(100, 0), 0.0)
    rewriter.after_gap()  # we dropped 101..199 on purpose
    next_seq, _ = rewriter.rewrite(packet(200, 9000), 0.1)
    assert (next_seq - seq) % 65536 == 1


def test_rewriter_stays_monotonic_across_a_new_epoch() -> None:
    rewriter = Rewriter(7, 96, 90000, random.Random(3))
    seq, ts = rewriter.rewrite(packet(10, 5_000_000, epoch=1), 10.0)
    # The new publisher starts with unrelated numbers, half a second later.
    new_seq, new_ts = rewriter.rewrite(packet(40000, 123, epoch=2), 10.5)
    assert (new_seq - seq) % 65536 == 1
    assert (new_ts - ts) % (1 << 32) == 45000
    after_seq, after_ts = rewriter.rewrite(packet(40001, 3123, epoch=2), 10.53)
    assert (after_seq - new_seq, after_ts - new_ts) == (1, 3000)


def test_late_packets_do_not_move_the_high_water_mark() -> None:
    rewriter = Rewriter(7, 96, 90000, random.Random(4))
    rewriter.rewrite(packet(10, 0), 0.0)
    high, _ = rewriter.rewrite(packet(12, 3000), 0.0)
    late, _ = rewriter.rewrite(packet(11, 0), 0.0)
    assert (high - late) % 65536 == 1
    assert rewriter.last_sequence == high


# -- rate limiting -------------------------------------------------------------------------


def test_min_interval_allows_two_per_second() -> None:
    limiter = MinInterval(0.5)
    allowed = [limiter.allow(t / 10) for t in range(20)]  # 2 s at 10 requests/s
    assert allowed.count(True) == 4
    assert limiter.refused == 16


# -- ingest ----------------------------------------------------------------------------------


def test_ingest_marks_frames_keyframes_and_losses() -> None:
    ingest = TrackIngest(True, "H264", epoch=5)
    key, missing = ingest.receive(100, 9000, False, bytes([0x67, 0x42]), 1.0)
    assert (key.frame_start, key.keyframe, key.epoch, missing) == (True, True, 5, [])
    same_frame, _ = ingest.receive(101, 9000, True, bytes([0x65, 0x88]), 1.0)
    assert not same_frame.frame_start
    delta, missing = ingest.receive(104, 12000, True, bytes([0x41, 0x9A]), 1.03)
    assert delta.frame_start
    assert not delta.keyframe
    assert missing == [102, 103]
    assert ingest.stats.lost == 2
    retransmitted, missing = ingest.receive(102, 9000, False, bytes([0x65]), 1.05)
    assert retransmitted.late
    assert not retransmitted.keyframe
    assert missing == []
    assert ingest.stats.lost == 1
    assert ingest.stats.keyframes == 1
    assert ingest.stats.frames == 2


def test_ingest_survives_sequence_wrap_and_huge_gaps() -> None:
    ingest = TrackIngest(False, "H264", epoch=1)
    ingest.receive(65535, 0, False, b"a", 0.0)
    _, missing = ingest.receive(0, 960, False, b"a", 0.02)
    assert missing == []
    assert ingest.extended_highest_sequence == 65536
    _, missing = ingest.receive(5000, 960, False, b"a", 0.04)
    assert missing == []  # too many to NACK; counted as lost
    assert ingest.stats.lost == 4999


def test_fraction_lost_per_report_interval() -> None:
    ingest = TrackIngest(False, "H264", epoch=1)
    for seq in (0, 1, 2, 3):
        ingest.receive(seq, seq * 960, False, b"a", 0.0)
    assert ingest.fraction_lost() == 0
    for seq in (5, 7):  # 4 and 6 lost: half of the interval
        ingest.receive(seq, seq * 960, False, b"a", 0.0)
    assert ingest.fraction_lost() == 128
    assert ingest.fraction_lost() == 0

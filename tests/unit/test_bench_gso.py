"""The GSO benchmarks' pure parts, and the one kernel behaviour they rest on.

``tests/bench/gso_send.py`` and ``gso_sizes.py`` are run by hand; these keep their
arithmetic honest and check that a ``UDP_SEGMENT`` send built the way the benchmark
builds it really arrives as separate datagrams (and as one with ``UDP_GRO``).
"""

from __future__ import annotations

import ctypes
import socket
import struct

from tests.bench.gso_send import SOL_UDP, UDP_GRO, UDP_SEGMENT, MultiSender, frame_packets
from tests.bench.gso_sizes import gso_sends


def test_frame_is_full_segments_then_a_short_last_one() -> None:
    sizes = [len(packet) for packet in frame_packets(10416, 1100)]
    assert sizes == [1100] * 9 + [516]
    assert [len(packet) for packet in frame_packets(2200, 1100)] == [1100, 1100]


def test_gso_sends_counts_equal_runs_closed_by_a_shorter_packet() -> None:
    assert gso_sends([1300] * 8 + [400]) == 1  # aiortc's VP8 shape
    assert gso_sends([1295, 1295, 1294, 1294]) == 2  # a balanced H.264 FU-A run
    assert gso_sends([1295, 1295, 1294, 1294], pad=True) == 1
    assert gso_sends([6, 1286, 1286, 990, 989]) == 3  # SEI, then two runs
    assert gso_sends([500, 1200, 1200]) == 2  # a larger packet cannot follow
    assert gso_sends([]) == 0


def _pair(gro: bool) -> tuple[socket.socket, socket.socket]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if gro:
        receiver.setsockopt(SOL_UDP, UDP_GRO, 1)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return sender, receiver


def test_segmented_send_arrives_as_separate_datagrams() -> None:
    sender, receiver = _pair(gro=False)
    with sender, receiver:
        frame = b"".join(frame_packets(2900, 1100))
        option = [(SOL_UDP, UDP_SEGMENT, struct.pack("H", 1100))]
        sender.sendmsg([frame], option, 0, receiver.getsockname())
        sizes = [len(receiver.recv(65536)) for _ in range(3)]
        assert sizes == [1100, 1100, 700]


def test_sendmmsg_with_segment_option_reaches_every_destination_whole_with_gro() -> None:
    sender, first = _pair(gro=True)
    spare, second = _pair(gro=True)
    spare.close()
    with sender, first, second:
        frame = b"".join(frame_packets(2900, 1100))
        multi = MultiSender(sender.fileno(), [first.getsockname(), second.getsockname()], 1100)
        buffer = ctypes.create_string_buffer(frame, len(frame))
        multi.send(ctypes.addressof(buffer), len(frame))
        assert first.recv(65536) == frame  # GRO hands the whole frame back at once
        assert second.recv(65536) == frame

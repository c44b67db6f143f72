"""A subscriber's packets of one video frame leave together (``FrameBatch``, UDP GSO).

Real libsrtp and real UDP sockets on loopback, as in ``test_native_send.py``: the frame
path must put on the wire exactly the datagrams the plain path does, in the same order,
whatever the frame sizes (GSO cuts equal segments, only the last may be shorter).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from pylibsrtp import Policy, Session

from config import load_event
from config.settings import SettingsError, load_settings
from streaming.native import load as load_native
from streaming.native_batch import FrameBatch, NativeBatch, new_sources
from streaming.packet import MediaPacket
from streaming.rtp_rewrite import RtpRewriter, parse_rtp_header
from streaming.send_batch import PlainBatch
from streaming.source import ChannelSource
from streaming.writer import TrackWriter
from tests.unit.test_native_send import (
    KEY,
    Path,
    TargetSink,
    needs_native,
    open_path,
    play,
)
from tests.unit.test_writer_and_feeds import Clock, FakePublisher

HOLD = 0.015


@pytest.fixture
async def paths() -> AsyncIterator[dict[str, Path]]:
    native = load_native()
    opened = {"plain": await open_path(PlainBatch())}
    if native is not None:
        batch = NativeBatch(native)
        opened["frames"] = await open_path(batch, batch.frame_batch(HOLD))
    yield opened
    for path in opened.values():
        path.transport.close()
        for subscriber in path.subscribers:
            subscriber.receiver.close()


def frame_batch(path: Path) -> FrameBatch:
    batch = path.source.video_batch
    assert isinstance(batch, FrameBatch)
    return batch


def sender(path: Path) -> NativeBatch:
    batch = path.source.batch
    assert isinstance(batch, NativeBatch)
    return batch


@needs_native
async def test_frames_go_out_as_the_plain_path_sends_them(paths: dict[str, Path]) -> None:
    plain, framed = await play(paths["plain"]), await play(paths["frames"])
    assert framed == plain  # same datagrams, same order, every subscriber
    assert min(len(datagrams) for datagrams in plain) > 40
    native = sender(paths["frames"])
    # Frames of several packets went as GSO messages, one native call per frame.
    assert native.gso_messages > 0
    assert frame_batch(paths["frames"]).frames == native.calls
    assert native.calls < native.packets // 4


def equal_frame(epoch: int, first: int, sizes: list[int], marker: bool = True) -> list[MediaPacket]:
    return [
        MediaPacket(
            True,
            bytes([index]) * size,
            first + index,
            9000,
            marker and index == len(sizes) - 1,
            epoch,
            frame_start=index == 0,
            keyframe=True,
        )
        for index, size in enumerate(sizes)
    ]


def started(path: Path) -> int:
    """A publisher whose first keyframe every subscriber has had (it goes out at once:
    a writer starting at a keyframe sends it the plain way); its epoch."""
    epoch = path.source.attach_publisher(FakePublisher())
    for packet in equal_frame(epoch, 1, [400]):
        path.source.push(packet)
    for subscriber in path.subscribers:
        assert len(path.received(subscriber)) == 1
        subscriber.writer.stats.packets_sent = 0
    return epoch


@needs_native
async def test_a_frame_waits_for_its_last_packet(paths: dict[str, Path]) -> None:
    path = paths["frames"]
    epoch = started(path)
    packets = equal_frame(epoch, 100, [1100] * 6 + [300])
    for packet in packets[:-1]:
        path.source.push(packet)
    assert frame_batch(path).held == 6 * len(path.subscribers)
    assert all(s.writer.stats.packets_sent == 0 for s in path.subscribers)
    path.source.push(packets[-1])
    assert frame_batch(path).held == 0
    # One GSO message per subscriber: seven datagrams each, equal but the last.
    assert sender(path).gso_messages == len(path.subscribers)
    for subscriber in path.subscribers:
        sizes = [len(datagram) for datagram in path.received(subscriber)]
        assert len(sizes) == 7
        assert len(set(sizes[:-1])) == 1
        assert sizes[-1] < sizes[0]


@needs_native
async def test_a_frame_without_its_last_packet_leaves_after_the_hold(
    paths: dict[str, Path],
) -> None:
    path = paths["frames"]
    epoch = started(path)
    for packet in equal_frame(epoch, 7, [900, 900, 900], marker=False):
        path.source.push(packet)
    assert all(s.writer.stats.packets_sent == 0 for s in path.subscribers)
    await asyncio.sleep(HOLD * 4)
    assert frame_batch(path).held == 0
    assert [s.writer.stats.packets_sent for s in path.subscribers] == [3] * len(path.subscribers)
    assert all(len(path.received(s)) == 3 for s in path.subscribers)


@needs_native
async def test_a_new_publisher_mid_frame_sends_the_old_frame_first(
    paths: dict[str, Path],
) -> None:
    sent: dict[str, list[list[bytes]]] = {}
    for name, path in paths.items():
        first = path.source.attach_publisher(FakePublisher())
        for packet in equal_frame(first, 40, [1000, 1000, 1000], marker=False):
            path.source.push(packet)
        second = path.source.attach_publisher(FakePublisher())
        for packet in equal_frame(second, 5000, [700, 700]):
            path.source.push(packet)
        sent[name] = [path.received(s) for s in path.subscribers]
    assert sent["frames"] == sent["plain"]
    assert all(len(datagrams) == 5 for datagrams in sent["frames"])


class RefusingLib:
    """The native library as a kernel without UDP GSO leaves it: GSO messages refused."""

    def __init__(self) -> None:
        self.segments: list[int] = []

    def vb_send_frame(
        self,
        protect: int,
        packets: Any,
        writers: Any,
        writer_count: int,
        entries: Any,
        entry_capacity: int,
        slots: Any,
        size: int,
        slot_count: int,
        segments: int,
        counts: Any,
    ) -> int:
        self.segments.append(segments)
        unsent = 0
        for index in range(writer_count):
            writer = writers[index]
            writer.sent = writer.failed = 0
            unsent += writer.end - writer.start
        counts[0], counts[1], counts[2] = 0, int(segments > 1), 0
        return unsent


@needs_native
async def test_a_kernel_refusing_gso_turns_it_off_and_loses_nothing() -> None:
    native = load_native()
    assert native is not None
    lib = RefusingLib()
    batch = NativeBatch(SimpleNamespace(ffi=native.ffi, lib=lib))
    source = ChannelSource("hall", Clock(), batch, batch.frame_batch(HOLD))
    sink = TargetSink()
    writer = TrackWriter(
        True,
        RtpRewriter(0x77, 96, 90000, random.Random(0)),
        sink,
        64,
        Clock(),
        lambda: None,
        lambda: None,
    )
    source.add_consumer(writer)
    epoch = source.attach_publisher(FakePublisher())
    for packet in equal_frame(epoch, 1, [500, 500, 500]) + equal_frame(epoch, 4, [500, 500]):
        source.push(packet)
    # The first frame's GSO message was refused: its packets went the plain way, in order,
    # and the next frame was sent one packet per message.
    assert lib.segments[0] > 1
    assert lib.segments[1:] == [1]
    assert batch.segments == 1
    assert writer.stats.packets_sent == 5
    sequences = [int.from_bytes(data[2:4], "big") for data in sink.sent]
    assert sequences == [(sequences[0] + n) & 0xFFFF for n in range(5)]


def test_frame_send_and_its_hold_are_settings() -> None:
    media = load_settings(None, {}).media
    assert media.frame_send is True
    assert media.frame_hold_ms == 15
    env = {"VENUEBRIDGE_MEDIA_FRAME_SEND": "false", "VENUEBRIDGE_MEDIA_FRAME_HOLD_MS": "30"}
    media = load_settings(None, env).media
    assert media.frame_send is False
    assert media.frame_hold_ms == 30
    for bad in ("0", "101"):
        with pytest.raises(SettingsError, match="frame_hold_ms"):
            load_settings(None, {"VENUEBRIDGE_MEDIA_FRAME_HOLD_MS": bad})


@needs_native
def test_sources_hold_frames_only_when_asked() -> None:
    event = load_event(None)
    media = load_settings(None, {}).media
    sources = new_sources(event, media)
    assert all(isinstance(s.video_batch, FrameBatch) for s in sources.values())
    assert len({id(s.batch) for s in sources.values()}) == 1  # one sender per process
    assert len({id(s.video_batch) for s in sources.values()}) == len(sources)
    off = load_settings(None, {"VENUEBRIDGE_MEDIA_FRAME_SEND": "false"}).media
    assert all(s.video_batch is s.batch for s in new_sources(event, off).values())


class NarrowSink(TargetSink):
    """A sink the native path cannot send on (TCP, TURN) that takes ``budget`` packets."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def batch_target(self) -> None:  # type: ignore[override]
        return None

    def send_rtp(
        self,
        payload_type: int,
        marker: bool,
        sequence: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
    ) -> bool:
        if self.budget <= 0:
            return False
        self.budget -= 1
        return super().send_rtp(payload_type, marker, sequence, timestamp, ssrc, payload)


@needs_native
async def test_a_frame_for_a_sink_that_must_wait_queues_in_order() -> None:
    native = load_native()
    assert native is not None
    batch = NativeBatch(native)
    source = ChannelSource("hall", Clock(), batch, batch.frame_batch(HOLD))
    sink = NarrowSink(budget=3)
    blocked: list[bool] = []
    writer = TrackWriter(
        True,
        RtpRewriter(0x99, 96, 90000, random.Random(0)),
        sink,
        64,
        Clock(),
        lambda: None,
        lambda: blocked.append(True),
    )
    source.add_consumer(writer)
    epoch = source.attach_publisher(FakePublisher())
    for packet in equal_frame(epoch, 1, [300]) + equal_frame(epoch, 2, [600, 600, 600, 200]):
        source.push(packet)
    # The keyframe and two of the frame's packets went; the other two wait, in order.
    assert len(sink.sent) == 3
    assert writer.queued == 2
    assert blocked
    sink.budget = 10
    writer.flush()
    sequences = [int.from_bytes(data[2:4], "big") for data in sink.sent]
    assert sequences == [(sequences[0] + n) & 0xFFFF for n in range(5)]
    assert [len(data) - 12 for data in sink.sent] == [300, 600, 600, 600, 200]


@needs_native
async def test_a_nack_after_frames_is_answered_from_history(paths: dict[str, Path]) -> None:
    path = paths["frames"]
    epoch = started(path)
    # 12 frames of 6 packets: a 32-slot history wraps in the middle of some frames.
    for subscriber in path.subscribers:
        subscriber.writer.resize_history(32)
    for number in range(12):
        for packet in equal_frame(epoch, 2 + 6 * number, [800] * 5 + [100]):
            path.source.push(packet)
    receiving = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND))
    for subscriber in path.subscribers:
        first = path.received(subscriber)
        assert len(first) == 72
        sequences = [parse_rtp_header(receiving.unprotect(d))[2] for d in first]
        # Two of the last 32 and two that aged out, or were never sent, are asked for.
        asked = [sequences[-1], sequences[-30], sequences[-40], (sequences[-1] + 9) & 0xFFFF]
        subscriber.writer.retransmit(asked)
        again = [subscriber.receiver.recv(2048) for _ in range(2)]
        assert again == [first[-1], first[-30]]
        assert subscriber.writer.stats.retransmitted == 2


@needs_native
async def test_writers_follow_a_frame_without_a_call_per_packet(paths: dict[str, Path]) -> None:
    path = paths["frames"]
    epoch = started(path)
    calls = []
    for subscriber in path.subscribers:
        writer = subscriber.writer
        original = writer.deliver

        def counted(*args: Any, original: Any = original) -> None:
            calls.append(1)
            original(*args)

        writer.deliver = counted  # type: ignore[method-assign]
    for packet in equal_frame(epoch, 2, [900] * 7 + [90]):
        path.source.push(packet)
    # Each writer was called for the frame's first packet only, and got all eight.
    assert len(calls) == len(path.subscribers)
    for subscriber in path.subscribers:
        assert len(path.received(subscriber)) == 8


@needs_native
async def test_consumers_joining_and_leaving_mid_frame_get_what_the_plain_path_sends(
    paths: dict[str, Path],
) -> None:
    sent: dict[str, list[list[bytes]]] = {}
    for name, path in paths.items():
        joining, leaving = path.subscribers[0].writer, path.subscribers[1].writer
        path.source.remove_consumer(joining)
        epoch = path.source.attach_publisher(FakePublisher())
        first = equal_frame(epoch, 10, [700] * 6)  # a keyframe: the joiner starts inside it
        second = equal_frame(epoch, 16, [500] * 4 + [50])
        for number, packet in enumerate(first + second):
            if number == 2:
                path.source.add_consumer(joining)
            if number == 4 or number == 8:
                path.source.remove_consumer(leaving)
            if number == 6:
                path.source.add_consumer(leaving)
            path.source.push(packet)
        sent[name] = [path.received(s) for s in path.subscribers]
    assert sent["frames"] == sent["plain"]
    assert [len(datagrams) for datagrams in sent["frames"]] == [11, 6, 11]

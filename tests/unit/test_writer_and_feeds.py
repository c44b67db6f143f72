"""The per-subscriber writer, the channel source and venue outputs, with plain fakes."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from streaming.packet import MediaPacket
from streaming.ports import SwitchEvent
from streaming.rtp_rewrite import RtpRewriter, parse_rtp_header, rtp_header
from streaming.send_batch import SendBatch
from streaming.source import ChannelSource
from streaming.venue_output import VenueOutput
from streaming.writer import TrackWriter


class FakeSink:
    """Collects what would go on the wire; can be made to stall."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.open = True

    def writable(self) -> bool:
        return self.open

    def send_rtp(
        self,
        payload_type: int,
        marker: bool,
        sequence: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
    ) -> bool:
        if not self.open:
            return False
        self.sent.append(rtp_header(payload_type, marker, sequence, timestamp, ssrc) + payload)
        return True

    def payloads(self) -> list[bytes]:
        return [data[12:] for data in self.sent]


class FakePublisher:
    def __init__(self) -> None:
        self.requests = 0

    def send_keyframe_request(self) -> None:
        self.requests += 1


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_writer(
    sink: FakeSink, *, video: bool = True, capacity: int = 8
) -> tuple[TrackWriter, list[str]]:
    events: list[str] = []
    writer = TrackWriter(
        video=video,
        rewriter=RtpRewriter(0x1234, 96, 90000, random.Random(0)),
        sink=sink,
        capacity=capacity,
        clock=Clock(),
        request_keyframe=lambda: events.append("keyframe"),
        on_blocked=lambda: events.append("blocked"),
    )
    return writer, events


class Stream:
    """Builds the packets a publisher would send: frames of ``per_frame`` packets."""

    def __init__(self, epoch: int = 1, per_frame: int = 2) -> None:
        self.epoch, self.per_frame = epoch, per_frame
        self.seq, self.ts = 1000, 0

    def frame(self, key: bool, tag: str) -> list[MediaPacket]:
        packets = []
        for i in range(self.per_frame):
            packets.append(
                MediaPacket(
                    True,
                    f"{tag}{i}".encode(),
                    self.seq,
                    self.ts,
                    i == self.per_frame - 1,
                    self.epoch,
                    frame_start=i == 0,
                    keyframe=key,
                )
            )
            self.seq += 1
        self.ts += 3000
        return packets


def feed(source: ChannelSource, packets: Sequence[MediaPacket]) -> None:
    for p in packets:
        source.push(p)


def test_writer_waits_for_a_keyframe_then_sends_the_whole_frame() -> None:
    sink = FakeSink()
    writer, _ = make_writer(sink)
    stream = Stream()
    source = ChannelSource("hall", Clock())
    source.attach_publisher(FakePublisher())
    stream.epoch = source.epoch
    source.add_consumer(writer)  # a TrackWriter is a consumer without start()
    feed(source, stream.frame(False, "d"))
    assert sink.sent == []
    feed(source, stream.frame(True, "k"))
    feed(source, stream.frame(False, "d"))
    assert sink.payloads() == [b"k0", b"k1", b"d0", b"d1"]
    seqs = [parse_rtp_header(d)[2] for d in sink.sent]
    assert [(b - a) % 65536 for a, b in itertools.pairwise(seqs)] == [1, 1, 1]
    assert {parse_rtp_header(d)[4] for d in sink.sent} == {0x1234}


def test_late_joiner_starts_from_the_cached_group_of_pictures() -> None:
    source = ChannelSource("hall", Clock())
    source.attach_publisher(FakePublisher())
    stream = Stream(epoch=source.epoch)
    feed(source, stream.frame(False, "x"))  # before any keyframe: nothing cached
    assert source.gop_snapshot() == []
    feed(source, stream.frame(True, "k") + stream.frame(False, "a") + stream.frame(False, "b"))
    sink = FakeSink()
    writer, _ = make_writer(sink, capacity=16)
    writer.start(source.gop_snapshot())
    assert sink.payloads() == [b"k0", b"k1", b"a0", b"a1", b"b0", b"b1"]
    source.add_consumer(writer)
    feed(source, stream.frame(False, "c"))
    assert sink.payloads()[-2:] == [b"c0", b"c1"]


def test_slow_video_drops_to_the_next_keyframe_and_asks_for_one() -> None:
    sink = FakeSink()
    writer, events = make_writer(sink, capacity=4)
    stream = Stream()
    key = stream.frame(True, "k")
    writer.deliver(key[0], key[:1])
    writer.deliver(key[1], key)
    sink.open = False
    for _ in range(3):
        frame = stream.frame(False, "d")
        for i, p in enumerate(frame):
            writer.deliver(p, frame[: i + 1])
    assert writer.stats.dropped == 5  # four queued + the one that overflowed
    assert "keyframe" in events
    assert "blocked" in events
    assert writer.waiting_for_keyframe
    sink.open = True
    frame = stream.frame(False, "late")
    writer.deliver(frame[0], frame[:1])
    assert sink.payloads() == [b"k0", b"k1"]  # deltas without their keyframe are useless
    frame = stream.frame(True, "k2")
    writer.deliver(frame[0], frame[:1])
    writer.deliver(frame[1], frame)
    assert sink.payloads()[-2:] == [b"k20", b"k21"]
    seqs = [parse_rtp_header(d)[2] for d in sink.sent]
    assert (seqs[2] - seqs[1]) % 65536 == 1  # no hole for what we dropped


def test_slow_audio_drops_oldest_first() -> None:
    sink = FakeSink()
    writer, _ = make_writer(sink, video=False, capacity=3)
    sink.open = False
    for i in range(5):
        writer.deliver(MediaPacket(False, bytes([i]), i, i * 960, False, 1), ())
    sink.open = True
    writer.flush()
    assert sink.payloads() == [b"\x02", b"\x03", b"\x04"]
    assert writer.stats.dropped == 2


def test_nack_is_answered_from_history() -> None:
    sink = FakeSink()
    writer, _ = make_writer(sink, video=False)
    for i in range(3):
        writer.deliver(MediaPacket(False, bytes([i]), i, i * 960, False, 1), ())
    lost = parse_rtp_header(sink.sent[1])[2]
    writer.retransmit([lost, (lost + 1000) % 65536])
    assert sink.sent[-1] == sink.sent[1]
    assert writer.stats.retransmitted == 1


def test_keyframe_requests_are_rate_limited_per_publisher() -> None:
    clock = Clock()
    publisher = FakePublisher()
    source = ChannelSource("hall", clock)
    source.attach_publisher(publisher)
    for _ in range(10):
        source.request_keyframe()
    clock.now += 0.5
    source.request_keyframe()
    assert publisher.requests == 2


def test_publisher_reconnect_moves_subscribers_at_the_new_keyframe() -> None:
    source = ChannelSource("hall", Clock())
    source.attach_publisher(FakePublisher())
    sink = FakeSink()
    writer, _ = make_writer(sink, capacity=16)
    source.add_consumer(writer)
    old = Stream(epoch=source.epoch)
    feed(source, old.frame(True, "o"))
    source.attach_publisher(FakePublisher())
    new = Stream(epoch=source.epoch)
    new.seq, new.ts = 7, 42
    feed(source, old.frame(False, "stale"))  # a straggler of the old publisher: ignored
    feed(source, new.frame(False, "n"))  # not decodable without its keyframe
    feed(source, new.frame(True, "K"))
    assert sink.payloads() == [b"o0", b"o1", b"K0", b"K1"]
    headers = [parse_rtp_header(d) for d in sink.sent]
    assert (headers[2][2] - headers[1][2]) % 65536 == 1
    assert 0 < (headers[2][3] - headers[1][3]) % (1 << 32) < 90000


class Consumer:
    """Like a writer: on a new source, takes the frame so far from its first packet."""

    kinds = (True, False)

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.started: list[bytes] = []
        self.epoch: int | None = None

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        if packet.epoch != self.epoch:
            self.epoch = packet.epoch
            self.packets.extend(p.payload for p in frame[:-1])
        self.packets.append(packet.payload)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        self.started.extend(p.payload for p in gop)
        self.epoch = gop[0].epoch if gop else None


def test_venue_output_switches_at_the_next_keyframe_and_reports_it() -> None:
    clock = Clock()
    sources = {name: ChannelSource(name, clock) for name in ("a", "b")}
    publishers = {name: FakePublisher() for name in sources}
    streams = {}
    for name, source in sources.items():
        source.attach_publisher(publishers[name])
        streams[name] = Stream(epoch=source.epoch)
    events: list[SwitchEvent] = []
    output = VenueOutput("jp", sources.__getitem__, events.append)
    viewer = Consumer()
    output.add_consumer(viewer)
    feed(sources["a"], streams["a"].frame(True, "a"))
    output.switch_to("a")  # nothing on air: starts from a's cache at once
    assert viewer.started == [b"a0", b"a1"]
    assert output.on_air_channel == "a"
    feed(sources["a"], streams["a"].frame(False, "a"))
    output.switch_to("b")
    assert publishers["b"].requests == 1  # asked for a keyframe
    feed(sources["b"], streams["b"].frame(False, "b"))  # b not yet on air
    feed(sources["a"], streams["a"].frame(False, "A"))  # still a
    feed(sources["b"], streams["b"].frame(True, "B"))  # the cut
    feed(sources["a"], streams["a"].frame(False, "gone"))
    assert viewer.packets == [b"a0", b"a1", b"A0", b"A1", b"B0", b"B1"]
    assert [(e.previous, e.channel) for e in events] == [(None, "a"), ("a", "b")]
    assert output.routed_channel == output.on_air_channel == "b"
    assert sources["a"].consumer_count == 0
    output.switch_to(None)
    assert output.on_air_channel is None
    assert sources["b"].consumer_count == 0

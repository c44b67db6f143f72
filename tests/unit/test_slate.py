"""The slate: what it says, its encoding, its pacing, and venue outputs cutting to it."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from config import Event
from streaming.keyframes import is_keyframe
from streaming.ports import SwitchEvent
from streaming.rtp_rewrite import parse_rtp_header
from streaming.slate import SlateFeed
from streaming.slate_picture import HEIGHT, WIDTH, SlateClip, SlateText, render
from streaming.slates import encode_slate, slate_text
from streaming.source import ChannelSource
from streaming.venue_output import VenueOutput
from tests.unit.test_writer_and_feeds import Clock, FakePublisher, FakeSink, Stream, make_writer

CLIP = SlateClip(((b"\x80\x80\x00\x00K1", b"\x80\x80\x00\x00K2"), (b"\x80\x80\x00\x00p",)), b"s", 2)


def test_slate_text_names_the_next_session_in_the_venues_time(reference_event: Event) -> None:
    tokyo = next(v for v in reference_event.venues if v.id == "jp")
    first = min((s for s in reference_event.sessions if "jp" in s.venues), key=lambda s: s.start)
    text = slate_text(reference_event, tokyo, first.start - timedelta(hours=1))
    local = first.start.astimezone(tokyo.time_zone)
    assert (text.event, text.venue, text.next_session) == (
        str(reference_event.name),
        str(tokyo.name),
        str(first.title),
    )
    assert text.starts is not None
    assert f"{local:%H:%M} JST (Asia/Tokyo)" in text.starts
    after_all = max(s.end for s in reference_event.sessions)
    assert slate_text(reference_event, tokyo, after_all).next_session is None


def test_the_slate_is_drawn_and_encoded_in_either_codec() -> None:
    text = SlateText("Event", "Venue 東京", "Roadshow", "Sat 22 Dec 2018, 10:00 JST (Asia/Tokyo)")
    assert render(text).size == (WIDTH, HEIGHT)
    for codec in ("H264", "VP8"):
        clip = encode_slate(text, codec)
        assert len(clip.video_frames) == clip.fps  # one second
        assert is_keyframe(codec, clip.video_frames[0][0])
        assert not any(is_keyframe(codec, p) for frame in clip.video_frames[1:] for p in frame)
        assert clip.audio_payload


def test_the_slate_loops_its_clip_paced_with_advancing_timestamps() -> None:
    feed = SlateFeed("jp", "VP8", random.Random(1))
    video, _ = make_writer(sink := FakeSink(), capacity=64)
    audio, _ = make_writer(audio_sink := FakeSink(), video=False, capacity=64)
    feed.tick(0.0)  # no clip, no consumers: nothing
    feed.load(CLIP)
    feed.add_consumer(video)
    feed.add_consumer(audio)
    now = 10.0
    while now < 11.5:  # 1.5 s: frames at 0, 0.5, 1.0 and 1.5 s; 20 ms audio
        feed.tick(now)
        now = round(now + 0.02, 2)
    headers = [parse_rtp_header(p) for p in sink.sent]
    assert [p[4:] for p in sink.payloads()] == [b"K1", b"K2", b"p", b"K1", b"K2"]
    assert [h[1] for h in headers] == [False, True, True, False, True]  # marker ends a frame
    sequences = [h[2] for h in headers]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequences))
    stamps = sorted({h[3] for h in headers})
    assert len(stamps) == 3
    assert all(44000 < b - a < 46000 for a, b in itertools.pairwise(stamps))
    # VP8 picture ids keep counting across the loop instead of repeating.
    ids = [int.from_bytes(p[2:4], "big") & 0x7FFF for p in sink.payloads()]
    assert [i - ids[0] for i in ids] == [0, 0, 1, 2, 2]
    assert len(audio_sink.sent) == 75
    feed.request_keyframe()  # back to the keyframe at once
    feed.tick(now)
    assert sink.payloads()[-2][4:] == b"K1"


class Viewer:
    """A venue output's viewer: one video writer."""

    def __init__(self) -> None:
        self.sink = FakeSink()
        self.writer, _ = make_writer(self.sink, capacity=64)


def test_venue_output_shows_the_slate_for_nothing_and_for_a_lost_source() -> None:
    clock = Clock()
    source = ChannelSource("a", clock)
    source.attach_publisher(FakePublisher())
    stream = Stream(epoch=source.epoch)
    live = {"a": True}
    slate = SlateFeed("jp", "H264", random.Random(2))
    events: list[SwitchEvent] = []
    output = VenueOutput("jp", {"a": source}.__getitem__, events.append, slate, live.__getitem__)
    viewer = Viewer()
    output.add_consumer(viewer.writer)
    output.refresh()  # the slate is not encoded yet: nothing, as before
    assert not output.on_slate
    slate.load(CLIP)
    output.refresh()
    assert output.on_slate
    assert output.on_air_channel is None
    assert events == []  # from nothing to the slate: still nothing on air
    slate.tick(1.0)
    assert viewer.sink.payloads()[0][4:] == b"K1"
    output.switch_to("a")
    for packet in stream.frame(True, "a"):
        source.push(packet)
    assert output.on_air_channel == "a"
    assert not output.on_slate
    live["a"] = False  # the watch found the source lost
    output.refresh()
    assert output.on_slate
    assert [(e.previous, e.channel) for e in events] == [(None, "a"), ("a", None)]
    slate.tick(2.0)
    assert viewer.sink.payloads()[-2][4:] == b"K1"
    for packet in stream.frame(False, "stale"):  # not a keyframe: stay on the slate
        source.push(packet)
    assert output.on_slate
    for packet in stream.frame(True, "b"):  # back at its first keyframe, no check needed
        source.push(packet)
    assert output.on_air_channel == "a"
    assert viewer.sink.payloads()[-2:] == [b"b0", b"b1"]
    live["a"] = True
    output.refresh()
    assert output.on_air_channel == "a"
    output.switch_to(None)  # to black: the slate
    assert output.on_slate
    assert source.consumer_count == 0
    assert [(e.previous, e.channel) for e in events][-1] == ("a", None)


def test_routing_a_channel_over_the_slate_starts_from_its_cached_pictures() -> None:
    source = ChannelSource("a", Clock())
    publisher = FakePublisher()
    source.attach_publisher(publisher)
    stream = Stream(epoch=source.epoch)
    for packet in stream.frame(True, "a"):
        source.push(packet)
    slate = SlateFeed("jp", "H264", random.Random(3))
    slate.load(CLIP)
    events: list[SwitchEvent] = []
    output = VenueOutput("jp", {"a": source}.__getitem__, events.append, slate)
    viewer = Viewer()
    output.add_consumer(viewer.writer)
    output.refresh()
    assert output.on_slate
    output.switch_to("a")  # like an OBS publisher: no keyframe on request
    assert output.on_air_channel == "a"
    assert viewer.sink.payloads() == [b"a0", b"a1"]
    assert publisher.requests == 0

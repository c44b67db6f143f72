"""Recording and HLS on one depacketizing pass per channel (``FrameSources``).

Real channel sources fed aiortc-made RTP, the real recorder writing real files and the
real HLS packager and audio renditions filling real windows. The count that matters is
``FrameSources.depacketized`` (also on /metrics): every packet the feeds delivered,
depacketized once whether one or both consumers are on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import av
import pytest

from config.hls_settings import HlsSettings
from signaling.records.recordings import RecordingIndex
from streaming.feed import Feed
from streaming.hls.channels import HlsChannels
from streaming.hls.packager import HlsPackager
from streaming.hls.renditions import AudioRenditions
from streaming.packet import MediaPacket
from streaming.recorder.recorder import Recorder
from streaming.remux import FrameSources, MediaFrame
from streaming.remux.metrics import FrameSourcesCollector
from streaming.send_batch import SendBatch
from tests.remux_media import tone
from tests.unit.test_recorder import Channel, Clock, _settle, recorder_for

NAME = "gz-hall-1"


class Delivered:
    """A plain consumer of a feed that counts what the feed delivers (the expected
    number of packets to depacketize)."""

    kinds = (True, False)

    def __init__(self, *feeds: Feed) -> None:
        self.packets = 0
        for feed in feeds:
            feed.add_consumer(self)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Joined before any packet: nothing to count."""

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self.packets += 1


class Hls:
    """The HLS side as ``web/hls_wiring.py`` builds it: video and floor, and ``ja``."""

    def __init__(self, channel: Channel, frames: FrameSources) -> None:
        self.channels = HlsChannels(HlsSettings())
        self.audio = AudioRenditions(
            self.channels, [NAME], lambda _, language: channel.booths[language], frames
        )
        self.packager = HlsPackager(
            self.channels,
            [NAME],
            lambda _: channel.source,
            "H264",
            self.audio.video_restarted,
            frames,
        )

    def start(self, languages: Sequence[str] = ("ja",)) -> None:
        self.packager.start()
        for language in languages:
            self.audio.package(NAME, language)

    async def aclose(self) -> None:
        await self.audio.aclose()
        await self.packager.aclose()

    def segments(self) -> int:
        window = self.channels.window(NAME)
        return len(window.closed_segments()) if window is not None else 0

    def audio_segments(self) -> int:
        window = self.channels.audio(NAME, "ja")
        return len(window.closed_segments()) if window is not None else 0


def shared_recorder(
    channel: Channel, directory: Path, frames: FrameSources
) -> tuple[Recorder, RecordingIndex]:
    recorder, index = recorder_for(channel, directory, [None])
    recorder._media = dataclasses.replace(channel.media(), frames=frames)
    return recorder, index


def push_frames(channel: Channel, count: int) -> None:
    """``count`` video frames (30 fps, a keyframe each second) with the floor's audio
    (no language tracks)."""
    for _ in range(count // 30):
        channel.second()
    rest = count % 30
    if rest:
        # Channel.second's loop, cut short: a part of a second.
        for _ in range(rest):
            for packet in channel.video.video_packets(channel.frames):
                packet.arrival = channel.clock.now
                channel.source.push(packet)
            for step in range(channel.frames * 5 // 3, (channel.frames + 1) * 5 // 3):
                for packet in channel.audio.packets(tone(step, 440), channel.clock.now):
                    channel.source.push(packet)
            channel.frames += 1
            channel.clock.now += 1 / 30


def video_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


async def test_recording_and_hls_depacketize_each_packet_once(tmp_path: Path) -> None:
    channel = Channel(NAME, Clock(), languages=("ja",))
    frames = FrameSources()
    delivered = Delivered(channel.source, channel.booths["ja"])
    hls = Hls(channel, frames)
    recorder, index = shared_recorder(channel, tmp_path / "rec", frames)
    hls.start()
    await recorder.tick()
    # The channel and its ja track: two feeds, each read once for both consumers: one
    # frame source on each (next to the counter), not one per consumer.
    assert frames.active == 2
    assert channel.source.consumer_count == 2
    assert channel.booths["ja"].consumer_count == 2
    for _ in range(5):
        channel.second()
        await _settle()
    await recorder.aclose()
    await hls.aclose()
    assert delivered.packets > 0
    assert frames.depacketized == delivered.packets  # once each, not twice
    assert frames.active == 0
    assert channel.source.consumer_count == 1  # only the counter is left attached
    # Both made what they make from the same frames.
    [entry] = index.files(NAME)
    assert entry.languages == ("", "ja")
    assert len(video_frames(entry.path)) == 150
    assert hls.segments() >= 2
    assert hls.audio_segments() >= 1
    [metric] = [m for m in FrameSourcesCollector(frames).collect() if "depacketized" in m.name]
    assert metric.samples[0].value == delivered.packets


@pytest.mark.parametrize("on", ["recording", "hls", "neither"])
async def test_either_alone_works_and_neither_depacketizes_nothing(tmp_path: Path, on: str) -> None:
    channel = Channel(NAME, Clock(), languages=("ja",))
    frames = FrameSources()
    delivered = Delivered(channel.source, channel.booths["ja"])
    hls = Hls(channel, frames) if on == "hls" else None
    recorder, index = shared_recorder(channel, tmp_path / "rec", frames)
    if hls is not None:
        hls.start()
    if on == "recording":
        await recorder.tick()
    for _ in range(5):
        channel.second()
        await _settle()
    if on == "recording":
        await recorder.aclose()
    if hls is not None:
        await hls.aclose()
    if on == "neither":
        assert frames.depacketized == 0
        assert channel.source.consumer_count == 1
        return
    assert frames.depacketized == delivered.packets
    if on == "recording":
        [entry] = index.files(NAME)
        assert len(video_frames(entry.path)) == 150
    else:
        assert index.files(NAME) == []
        assert hls is not None
        assert hls.segments() >= 2
        assert hls.audio_segments() >= 1


async def test_a_pulled_channel_stops_recording_and_hls_carries_on(tmp_path: Path) -> None:
    channel = Channel(NAME, Clock(), languages=("ja",))
    frames = FrameSources()
    delivered = Delivered(channel.source, channel.booths["ja"])
    hls = Hls(channel, frames)
    recorder, index = shared_recorder(channel, tmp_path / "rec", frames)
    hls.start()
    await recorder.tick()
    for _ in range(2):
        channel.second()
        await _settle()
    channel.pulled = True  # the floor now comes over a relay link: its origin records
    await recorder.tick()
    before = hls.segments()
    for _ in range(4):
        channel.second()
        await _settle()
    assert hls.segments() > before  # HLS goes on from the same frame source
    await hls.aclose()
    await recorder.aclose()
    [entry] = index.files(NAME)
    assert entry.end_reason == "relayed"
    assert frames.depacketized == delivered.packets


async def test_a_recording_joining_late_starts_at_the_last_keyframe(tmp_path: Path) -> None:
    """HLS already reads the channel when the recorder begins: the new file gets the
    frames since the last keyframe at once, as a new consumer of the feed would."""
    channel = Channel(NAME, Clock())
    frames = FrameSources()
    hls = Hls(channel, frames)
    recorder, index = shared_recorder(channel, tmp_path / "rec", frames)
    hls.start(languages=())
    push_frames(channel, 75)  # the last keyframe was frame 60
    await _settle()
    await recorder.tick()
    push_frames(channel, 60)
    await _settle()
    await recorder.aclose()
    await hls.aclose()
    [entry] = index.files(NAME)
    pictures = video_frames(entry.path)
    assert len(pictures) == 15 + 60
    assert pictures[0].key_frame


class Broken:
    """A listener that fails on every frame."""

    def __init__(self) -> None:
        self.calls = 0

    def on_frame(self, frame: MediaFrame) -> None:
        self.calls += 1
        raise RuntimeError("this listener is broken")


async def test_a_failing_listener_leaves_the_others_and_shutdown_ends_what_is_left(
    tmp_path: Path,
) -> None:
    channel = Channel(NAME, Clock())
    frames = FrameSources()
    recorder, index = shared_recorder(channel, tmp_path / "rec", frames)
    broken = Broken()
    frames.join(NAME, channel.source, "H264", broken)
    await recorder.tick()
    for _ in range(2):
        channel.second()
        await _settle()
    await recorder.aclose()
    assert broken.calls > 0
    [entry] = index.files(NAME)
    assert len(video_frames(entry.path)) == 60  # the recording did not notice
    assert frames.active == 1  # the broken listener still reads: shutdown ends it
    await frames.aclose()
    assert frames.active == 0
    assert channel.source.consumer_count == 0

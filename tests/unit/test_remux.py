"""The remux layer on real RTP from aiortc's packetizers: H.264, VP8 and Opus frames out,
timestamps re-based, fragmented MP4 that PyAV decodes."""

from __future__ import annotations

import asyncio
import fractions
import io

import av
import pytest
from aiortc.codecs.h264 import H264Encoder

from streaming.packet import MediaPacket
from streaming.remux.boxes import BoxSplitter
from streaming.remux.channel import ChannelRemux, ContainerStart
from streaming.remux.frames import MediaFrame, VideoFormat
from streaming.remux.h264 import FU_A, STAP_A, H264Depacketizer
from streaming.remux.h264_sps import sps_dimensions
from streaming.remux.opus import opus_frame
from streaming.remux.timeline import MediaTimeline
from streaming.remux.vp8 import Vp8Depacketizer
from streaming.remux.writer import ContainerWriter
from streaming.source import ChannelSource
from tests.remux_media import RtpMaker, picture, tone


class Collect:
    """A FragmentSink keeping everything."""

    def __init__(self) -> None:
        self.init = b""
        self.fragments: list[tuple[bytes, float, float, bool]] = []
        self.closed = False

    def on_init(self, data: bytes) -> None:
        self.init += data

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        self.fragments.append((data, start, duration, keyframe))

    def on_close(self) -> None:
        self.closed = True

    def file(self) -> io.BytesIO:
        return io.BytesIO(self.init + b"".join(f[0] for f in self.fragments))


def h264_frames(count: int, noisy_every: int = 2) -> tuple[list[MediaFrame], list[MediaPacket]]:
    maker, depacketizer = RtpMaker("video/H264"), H264Depacketizer()
    packets, frames = [], []
    for index in range(count):
        made = maker.video_packets(index, noisy=index % noisy_every == 1)
        packets += made
        for packet in made:
            frames += depacketizer.push(packet)
    return frames, packets


def test_h264_access_units_from_stap_a_and_fu_a() -> None:
    frames, packets = h264_frames(40)
    kinds = {p.payload[0] & 0x1F for p in packets}
    assert STAP_A in kinds
    assert FU_A in kinds
    assert len(frames) == 40
    assert frames[0].keyframe
    assert frames[30].keyframe
    assert frames[0].format == frames[30].format
    assert frames[0].format is not None
    assert frames[0].format.codec == "H264"
    assert (frames[0].format.width, frames[0].format.height) == (640, 360)
    # The frames decode to the pictures: a flat frame's luma is the shade it was made with.
    codec = av.CodecContext.create("h264", "r")
    decoded = []
    for frame in frames:
        decoded += codec.decode(av.Packet(frame.data))
    decoded += codec.decode(None)
    assert len(decoded) == 40
    luma = bytes(decoded[2].planes[0])
    assert abs(luma[1000] - ((2 * 7) % 220 + 16)) <= 3


def test_h264_loss_waits_for_the_next_keyframe() -> None:
    maker, depacketizer = RtpMaker("video/H264"), H264Depacketizer()
    frames = []
    for index in range(35):
        made = maker.video_packets(index, noisy=True)
        if index == 5:
            assert len(made) >= 2
            made = made[:1] + made[2:]  # a piece of the picture lost
        for packet in made:
            frames += depacketizer.push(packet)
    timestamps = [f.timestamp for f in frames]
    step = 3000
    indexes = [((t - frames[0].timestamp) & 0xFFFFFFFF) // step for t in timestamps]
    # 0..4, then nothing until a keyframe (x264 may cut one in early on noise), then on.
    resumed = indexes[5]
    assert indexes == [0, 1, 2, 3, 4, *range(resumed, 35)]
    assert frames[5].keyframe
    assert resumed > 5
    assert not any(f.keyframe for f in frames[1:5])
    assert depacketizer.lost_frames == resumed - 5


def test_h264_keyframe_without_parameter_sets_gets_them() -> None:
    frames, _ = h264_frames(2)
    depacketizer = H264Depacketizer()
    sps = frames[0].format.extradata if frames[0].format else b""
    assert sps.count(b"\x00\x00\x00\x01") == 2
    # A keyframe whose SPS/PPS came in an earlier packet still carries them once out.
    assert frames[0].data.count(b"\x00\x00\x00\x01\x67") == 1
    assert depacketizer.push(MediaPacket(True, b"\x65\x88", 1, 0, True, 1)) == []


def test_sps_of_a_high_profile_cropped_picture() -> None:
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 1920, 1080, "yuv420p"
    codec.profile = "High"
    codec.time_base = __import__("fractions").Fraction(1, 30)
    picture = av.VideoFrame(1920, 1080, "yuv420p")
    stream = b"".join(bytes(p) for p in codec.encode(picture)) + b"".join(
        bytes(p) for p in codec.encode(None)
    )
    sps = next(
        unit for unit in stream.split(b"\x00\x00\x01") if unit and unit[0] & 0x1F == 7
    ).rstrip(b"\x00")
    assert sps[1] == 100  # High
    assert sps_dimensions(sps) == (1920, 1080)
    with pytest.raises(ValueError, match="ends early"):
        sps_dimensions(b"\x67\x42")


def test_vp8_frames_and_size() -> None:
    maker, depacketizer = RtpMaker("video/VP8"), Vp8Depacketizer()
    frames = []
    for index in range(31):
        for packet in maker.video_packets(index, width=320, height=240, noisy=index % 2 == 1):
            frames += depacketizer.push(packet)
    assert len(frames) == 31
    assert frames[0].keyframe
    assert frames[0].format == VideoFormat("VP8", 320, 240)
    codec = av.CodecContext.create("vp8", "r")
    decoded = [d for f in frames for d in codec.decode(av.Packet(f.data))]
    assert len(decoded) == 31
    assert decoded[0].width == 320


def test_opus_frames_pass_through() -> None:
    maker = RtpMaker("audio/opus", 48000)
    frames = [
        opus_frame(packet, track=1)
        for index in range(5)
        for packet in maker.packets(tone(index, 440), index * 0.02)
    ]
    assert all(f is not None and not f.video and f.track == 1 for f in frames)
    codec = av.CodecContext.create("opus", "r")
    decoded = [d for f in frames if f is not None for d in codec.decode(av.Packet(f.data))]
    assert sum(d.samples for d in decoded) == 5 * 960


def test_timeline_unwraps_and_rebases_each_epoch() -> None:
    timeline = MediaTimeline(origin=100.0)
    near_wrap = 0xFFFFFFFF - 44999
    assert timeline.seconds("v", 1, near_wrap, 90000, 100.0) == 0.0
    assert timeline.seconds("v", 1, 45000, 90000, 101.0) == pytest.approx(1.0)
    assert timeline.seconds("v", 1, 0, 90000, 101.0) == -1.0  # older than written: dropped
    # A reconnect 4 s later: its own random base, anchored at its arrival.
    assert timeline.seconds("v", 2, 12345, 90000, 105.0) == pytest.approx(5.0)
    assert timeline.seconds("v", 2, 12345 + 9000, 90000, 105.1) == pytest.approx(5.1)
    # A reconnect whose arrival claims an earlier time never goes back.
    assert timeline.seconds("v", 3, 7, 90000, 101.0) >= 5.1


def test_fragmented_mp4_with_h264_and_opus_decodes() -> None:
    frames, _ = h264_frames(90)  # 3 s at 30 fps, keyframes each second
    audio = RtpMaker("audio/opus", 48000)
    audio_frames = [
        opus_frame(packet)
        for index in range(150)
        for packet in audio.packets(tone(index, 440), index * 0.02)
    ]
    sink = Collect()
    first = frames[0]
    writer = ContainerWriter(sink, first.format, audio_tracks=1, fragment_seconds=2.0)
    pending = sorted(
        [(f.arrival, f) for f in frames] + [(f.arrival, f) for f in audio_frames if f],
        key=lambda pair: pair[0],
    )
    video_base = first.timestamp
    audio_base = audio_frames[0].timestamp if audio_frames[0] else 0
    for _, frame in pending:
        if frame.video:
            writer.write(frame, ((frame.timestamp - video_base) & 0xFFFFFFFF) / 90000)
        else:
            writer.write(frame, ((frame.timestamp - audio_base) & 0xFFFFFFFF) / 48000)
    writer.close()
    assert sink.closed
    assert sink.init.startswith(b"\x00\x00\x00")
    assert b"ftyp" in sink.init[:8]
    assert len(sink.fragments) >= 3
    assert all(keyframe for _, _, _, keyframe in sink.fragments)
    starts = [start for _, start, _, _ in sink.fragments]
    keyframes = [(f.timestamp - video_base) / 90000 for f in frames if f.keyframe]
    assert starts == pytest.approx(keyframes)  # one fragment per keyframe (all < 2 s apart)
    with av.open(sink.file()) as container:
        assert container.streams.video[0].width == 640
        assert len(container.streams.audio) == 1
        video = sum(1 for _ in container.decode(video=0))
    with av.open(sink.file()) as container:
        audio_samples = sum(f.samples for f in container.decode(audio=0))
    assert video == 90
    assert audio_samples == pytest.approx(150 * 960, rel=0.02)


def test_box_splitter_takes_bytes_in_any_pieces() -> None:
    frames, _ = h264_frames(61)
    whole = Collect()
    writer = ContainerWriter(whole, frames[0].format, audio_tracks=0)
    for frame in frames:
        writer.write(frame, ((frame.timestamp - frames[0].timestamp) & 0xFFFFFFFF) / 90000)
    writer.close()
    data = whole.file().getvalue()
    splitter = BoxSplitter()
    out = []
    for offset in range(0, len(data), 777):
        out += splitter.feed(data[offset : offset + 777])
    assert [timing is None for _, timing in out] == [True] + [False] * len(whole.fragments)
    assert b"".join(chunk for chunk, _ in out) == whole.init + b"".join(
        f[0] for f in whole.fragments
    )
    assert len(out) - 1 == len(whole.fragments)


class Publisher:
    def __init__(self) -> None:
        self.keyframe_requests = 0

    def send_keyframe_request(self) -> None:
        self.keyframe_requests += 1


async def test_channel_remux_follows_a_reconnect_in_one_container() -> None:
    source = ChannelSource("hall-a", lambda: 0.0)
    starts: list[ContainerStart] = []
    sink = Collect()

    def open_sink(start: ContainerStart) -> Collect:
        starts.append(start)
        return sink

    remux = ChannelRemux("hall-a", source, "H264", open_sink)
    remux.begin()
    for epoch, offset in ((source.attach_publisher(Publisher()), 0.0), (0, 3.0)):
        if epoch == 0:  # the reconnect: a new publisher session, its own RTP numbers
            epoch = source.attach_publisher(Publisher())
        video, audio = RtpMaker("video/H264", epoch=epoch), RtpMaker("audio/opus", 48000, epoch)
        for index in range(60):  # 2 s of video and audio
            for packet in video.video_packets(index):
                packet.arrival += offset
                source.push(packet)
            for step in range(index * 5 // 3, (index + 1) * 5 // 3):
                for packet in audio.packets(tone(step, 440), offset + step * 0.02):
                    source.push(packet)
        await asyncio.sleep(0)
    await remux.aclose()
    assert len(starts) == 1
    assert starts[0].kind == "mp4"
    assert starts[0].languages == ("",)
    assert sink.closed
    with av.open(sink.file()) as container:
        times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
    assert len(times) == 120
    assert times[59] == pytest.approx(59 / 30, abs=0.01)
    assert times[60] == pytest.approx(3.0, abs=0.01)  # the gap while the publisher was away


def test_vp8_goes_into_webm_that_decodes() -> None:
    maker, depacketizer = RtpMaker("video/VP8"), Vp8Depacketizer()
    audio = RtpMaker("audio/opus", 48000)
    frames = []
    for index in range(60):
        for packet in maker.video_packets(index, width=320, height=240):
            frames += depacketizer.push(packet)
    sounds = [
        frame
        for step in range(100)
        for packet in audio.packets(tone(step, 440), 0)
        if (frame := opus_frame(packet)) is not None
    ]
    sink = Collect()
    writer = ContainerWriter(sink, frames[0].format, audio_tracks=1, fragment_seconds=1.0)
    assert writer.kind == "webm"
    video_base, audio_base = frames[0].timestamp, sounds[0].timestamp
    for index, frame in enumerate(frames):
        writer.write(frame, ((frame.timestamp - video_base) & 0xFFFFFFFF) / 90000)
        for sound in sounds[index * 5 // 3 : (index + 1) * 5 // 3]:
            writer.write(sound, ((sound.timestamp - audio_base) & 0xFFFFFFFF) / 48000)
    writer.close()
    assert sink.closed
    assert sink.init.startswith(b"\x1a\x45\xdf\xa3")  # the EBML header
    with av.open(sink.file()) as container:
        assert container.streams.video[0].codec_context.name == "vp8"
        video = [float(f.time or 0) for f in container.decode(video=0)]
    assert len(video) == 60
    assert video[-1] == pytest.approx(59 / 30, abs=0.002)


def test_long_gops_are_cut_every_fragment_seconds_and_say_so() -> None:
    # x264 with a keyframe every 3 s (no scene cuts), packetized by aiortc's H.264 packetizer.
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 320, 240, "yuv420p"
    codec.time_base = fractions.Fraction(1, 30)
    codec.options = {"tune": "zerolatency", "x264-params": "scenecut=0:keyint=90:min-keyint=90"}
    depacketizer, frames, sequence = H264Depacketizer(), [], 0
    for index in range(180):
        frame = picture(320, 240, (index * 3) % 200 + 20)
        frame.pts, frame.time_base = index, codec.time_base
        data = b"".join(bytes(packet) for packet in codec.encode(frame))
        payloads = H264Encoder._packetize(H264Encoder._split_bitstream(data))
        for number, payload in enumerate(payloads):
            sequence += 1
            last = number == len(payloads) - 1
            frames += depacketizer.push(MediaPacket(True, payload, sequence, index * 3000, last, 1))
    assert [i for i, f in enumerate(frames) if f.keyframe] == [0, 90]
    sink = Collect()
    writer = ContainerWriter(sink, frames[0].format, audio_tracks=0, fragment_seconds=1.0)
    for frame in frames:
        writer.write(frame, frame.timestamp / 90000)
    writer.close()
    timing = [(round(start, 3), keyframe) for _, start, _, keyframe in sink.fragments]
    assert timing == [
        (0.0, True), (1.0, False), (2.0, False), (3.0, True), (4.0, False), (5.0, False)
    ]  # fmt: skip

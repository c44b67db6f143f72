"""Short fragmented-MP4 clips (H.264 + Opus) shaped like the recorder's files, for the
join and cut tests: a known length and keyframe interval, made by PyAV in the test."""

from __future__ import annotations

import math
import struct
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av

from signaling.records.recordings import RecordingFile, RecordingIndex

FPS = 25
RATE = 48000


def write_clip(path: Path, seconds: float, keyframe_every: float = 1.0, shade: int = 0) -> Path:
    """``seconds`` of a moving test picture and a tone, a keyframe every ``keyframe_every`` s."""
    out = av.open(
        str(path),
        "w",
        format="mp4",
        options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    )
    video = out.add_stream("libx264", rate=FPS)
    video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
    video.codec_context.gop_size = int(FPS * keyframe_every)
    video.codec_context.options = {"bf": "0", "sc_threshold": "0", "preset": "ultrafast"}
    audio = out.add_stream("libopus", rate=RATE)
    audio.layout = "mono"
    frames = int(seconds * FPS)
    width, height = 320, 240
    for n in range(frames):
        bar = (n * 4) % (width - 16)
        row = bytes([shade] * 3 * bar + [255] * 3 * 16 + [shade] * 3 * (width - bar - 16))
        frame = av.VideoFrame(width, height, "rgb24")
        plane = frame.planes[0]
        stride = plane.line_size
        plane.update((row + bytes(stride - len(row))) * height)
        frame.pts = n
        frame.time_base = Fraction(1, FPS)
        for packet in video.encode(frame):
            out.mux(packet)
    samples_per_frame = 960
    total = int(seconds * RATE)
    for start in range(0, total - samples_per_frame + 1, samples_per_frame):
        tone = (
            int(6000 * math.sin(2 * math.pi * 440 * (start + i) / RATE))
            for i in range(samples_per_frame)
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples_per_frame)
        frame.planes[0].update(struct.pack(f"<{samples_per_frame}h", *tone))
        frame.sample_rate = RATE
        frame.pts = start
        frame.time_base = Fraction(1, RATE)
        for packet in audio.encode(frame):
            out.mux(packet)
    for stream in (video, audio):
        for packet in stream.encode(None):
            out.mux(packet)
    out.close()
    return path


def duration(path: Path) -> tuple[float, float]:
    """(video seconds, audio seconds) by decoding every frame: proves the file plays."""
    ends = {"video": 0.0, "audio": 0.0}
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams.video, *container.streams.audio):
            if frame.pts is None or frame.time_base is None:
                continue
            kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
            length = (
                frame.samples / frame.sample_rate if isinstance(frame, av.AudioFrame) else 1 / FPS
            )
            ends[kind] = max(ends[kind], float(frame.pts * frame.time_base) + length)
    return ends["video"], ends["audio"]


def record_clip(
    index: RecordingIndex,
    channel: str,
    started_at: datetime,
    seconds: float,
    *,
    shade: int = 0,
    still_open: bool = False,
) -> RecordingFile:
    """A clip put where the recorder puts its files, and told to the index as the
    recorder tells it (opened, then closed at its end unless ``still_open``)."""
    folder = index.directory / channel
    folder.mkdir(parents=True, exist_ok=True)
    path = write_clip(folder / f"{channel}-{started_at:%Y%m%dT%H%M%S}.mp4", seconds, shade=shade)
    index.file_opened(channel, path, "mp4", ("",), started_at)
    ended = started_at + timedelta(seconds=seconds)
    if still_open:
        index.file_progress(path, seconds, ended)
    else:
        index.file_closed(path, seconds, ended, "rotation")
    name = path.relative_to(index.directory).as_posix()
    return next(f for f in index.files(channel) if f.name == name)

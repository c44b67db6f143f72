"""A publisher whose picture and tone step together once a second, and the reader that
finds those steps again in a recording, so duration and audio/video sync can be checked.

Second ``k`` of the stream shows luma ``luma_of(k)`` and sounds ``hz_of(k)``; both tracks
count media time from their own first frame, as a camera and a microphone would.
"""

from __future__ import annotations

import array
import asyncio
import time
from dataclasses import dataclass

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCPeerConnection

from tests.media_peers import Publisher, Stallable, client_configuration, flat_frame, whip_offer
from tests.tone_peers import goertzel_power, sine_frame

FPS, RATE, SAMPLES = 30, 48000, 960
STEPS = 6  # the pattern repeats every 6 s; far enough apart to read back exactly


def luma_of(second: int, base: int = 40) -> int:
    return base + 30 * (second % STEPS)


def hz_of(second: int) -> int:
    return 400 + 200 * (second % STEPS)


class PatternVideo(MediaStreamTrack, Stallable):
    kind = "video"

    def __init__(self, base: int = 40) -> None:
        MediaStreamTrack.__init__(self)
        Stallable.__init__(self)
        self.base = base

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = flat_frame(self._count, luma_of(self._count // FPS, self.base))
        self._count += 1
        return frame


class PatternTone(MediaStreamTrack, Stallable):
    kind = "audio"

    def __init__(self) -> None:
        MediaStreamTrack.__init__(self)
        Stallable.__init__(self)

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count * SAMPLES / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = sine_frame(self._count, hz_of(self._count * SAMPLES // RATE))
        self._count += 1
        return frame


async def publish_pattern(
    http: aiohttp.ClientSession, url: str, token: str, base: int = 40
) -> Publisher:
    """An aiortc WHIP publisher of the pattern."""
    pc = RTCPeerConnection(client_configuration())
    tracks = (PatternVideo(base), PatternTone())
    for track in tracks:
        pc.addTransceiver(track, direction="sendonly")
    return await whip_offer(http, url, token, pc, tracks)


@dataclass(frozen=True)
class Steps:
    """Where the pattern changes in a recording (media seconds), per track."""

    video: list[tuple[float, int]]  # (time, luma level index) at each change
    audio: list[tuple[float, int]]  # (time, pitch index) at each change
    video_span: tuple[float, float]
    audio_span: tuple[float, float]
    frames: int


def read_steps(path: str, base: int = 40) -> Steps:
    """Decode a recording and find its pattern's steps (the test's only decoding)."""
    video: list[tuple[float, int]] = []
    audio: list[tuple[float, int]] = []
    with av.open(path) as container:
        times = []
        for frame in container.decode(video=0):
            luma = bytes(frame.planes[0])[frame.planes[0].line_size * 120 + 160]
            level = round((luma - base) / 30)
            when = float(frame.time or 0.0)
            times.append(when)
            if not video or video[-1][1] != level:
                video.append((when, level))
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    audio_times = []
    with av.open(path) as container:
        for frame in container.decode(audio=0):
            when = float(frame.time or 0.0)
            for out in resampler.resample(frame):
                pcm = array.array("h", bytes(out.planes[0])[: out.samples * 2])
                powers = [goertzel_power(pcm, hz_of(k)) for k in range(STEPS)]
                level = max(range(STEPS), key=lambda k: powers[k])
                audio_times.append(when)
                if max(powers) > 1e9 and (not audio or audio[-1][1] != level):
                    audio.append((when, level))
    return Steps(
        video,
        audio,
        (min(times), max(times)) if times else (0.0, 0.0),
        (min(audio_times), max(audio_times)) if audio_times else (0.0, 0.0),
        len(times),
    )


def sync_offsets(steps: Steps) -> list[float]:
    """Audio step time minus video step time, for each video step (its nearest audio
    step to the same level within 1.5 s)."""
    offsets = []
    for v_time, v_level in steps.video[1:]:
        near = [a_time - v_time for a_time, a_level in steps.audio[1:] if a_level == v_level]
        near = [offset for offset in near if abs(offset) < 1.5]
        if near:
            offsets.append(min(near, key=abs))
    return offsets

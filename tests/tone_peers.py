"""Tones for language-track tests: publishers of a sine, and listeners that name the tone.

The floor sends 440 Hz and each interpreter another pitch; a listener decodes the Opus it
receives and asks, frame by frame, which of the expected pitches dominates (Goertzel:
no numpy needed). Times are monotonic seconds at decode, so a test can measure how soon a
switch is heard and the longest silence around it.
"""

from __future__ import annotations

import array
import asyncio
import fractions
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.media_peers import FlatVideoTrack, Publisher, Stallable, client_configuration

RATE = 48000
SAMPLES = 960  # 20 ms
FLOOR_HZ, JA_HZ, JA2_HZ, RU_HZ = 440, 880, 1320, 660
PITCHES = (FLOOR_HZ, RU_HZ, JA_HZ, JA2_HZ)


def sine_frame(count: int, hz: float) -> av.AudioFrame:
    """The ``count``-th 20 ms frame of a sine at ``hz`` (mono, 48 kHz, s16)."""
    first = count * SAMPLES
    step = 2 * math.pi * hz / RATE
    samples = array.array("h", (int(12000 * math.sin(step * (first + i))) for i in range(SAMPLES)))
    frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
    frame.planes[0].update(samples.tobytes())
    frame.sample_rate = RATE
    frame.pts = first
    frame.time_base = fractions.Fraction(1, RATE)
    return frame


class ToneTrack(MediaStreamTrack, Stallable):
    """20 ms frames of a sine at ``hz`` (mono, 48 kHz), paced in real time."""

    kind = "audio"

    def __init__(self, hz: int) -> None:
        MediaStreamTrack.__init__(self)
        Stallable.__init__(self)
        self.hz = hz

    async def recv(self) -> av.AudioFrame:
        await self._wait_while_stalled(SAMPLES / RATE)
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count * SAMPLES / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = sine_frame(self._count, self.hz)
        self._count += 1
        return frame


async def publish_tone(
    http: aiohttp.ClientSession, url: str, token: str, hz: int, *, video_luma: int | None = None
) -> Publisher:
    """WHIP a tone (and, with ``video_luma``, flat video): the floor or an interpreter."""
    pc = RTCPeerConnection(client_configuration())
    tracks: tuple[Stallable, ...] = (ToneTrack(hz),)
    if video_luma is not None:
        tracks = (FlatVideoTrack(video_luma), *tracks)
    for track in tracks:
        assert isinstance(track, MediaStreamTrack)
        pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
    async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        if response.status != 201:
            await pc.close()
            raise AssertionError(f"WHIP {url}: {response.status} {body}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        return Publisher(pc, response.headers["Location"], response.headers, tracks)


def goertzel_power(samples: Sequence[int], hz: float, rate: int = RATE) -> float:
    """The power of ``hz`` in ``samples`` (one Goertzel filter)."""
    coefficient = 2 * math.cos(2 * math.pi * hz / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return previous * previous + before * before - coefficient * previous * before


def dominant_pitch(samples: Sequence[int], pitches: Sequence[int] = PITCHES) -> int | None:
    """The one of ``pitches`` that clearly dominates (10x the next), else None."""
    powers = sorted(((goertzel_power(samples, hz), hz) for hz in pitches), reverse=True)
    best, runner_up = powers[0], powers[1]
    if best[0] < 1e9 or best[0] < 10 * runner_up[0]:
        return None  # silence, or a mix (the frame straddles a switch)
    return best[1]


@dataclass
class Heard:
    """One decoded audio frame: when (monotonic) and which pitch dominated."""

    at: float
    pitch: int | None


@dataclass
class Listener:
    """A WHEP player that records the pitch of every decoded audio frame."""

    pc: RTCPeerConnection
    location: str
    heard: list[Heard] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def pitch_now(self) -> int | None:
        return self.heard[-1].pitch if self.heard else None

    def hears(self, hz: int, frames: int = 5) -> bool:
        """The last ``frames`` frames were all ``hz``."""
        tail = self.heard[-frames:]
        return len(tail) == frames and all(h.pitch == hz for h in tail)

    def first_since(self, since: float, hz: int) -> float | None:
        """When ``hz`` was first heard after ``since``."""
        return next((h.at for h in self.heard if h.at >= since and h.pitch == hz), None)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest wait between two decoded frames in [start, end]."""
        times = [h.at for h in self.heard if start <= h.at <= end]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pc.close()


def _mono(frame: av.AudioFrame) -> list[int]:
    samples = array.array("h", bytes(frame.planes[0]))
    channels = len(frame.layout.channels)
    return list(samples[::channels]) if channels > 1 else list(samples)


async def _record(listener: Listener, track: MediaStreamTrack) -> None:
    try:
        while True:
            frame = await track.recv()
            assert isinstance(frame, av.AudioFrame)
            listener.heard.append(Heard(time.monotonic(), dominant_pitch(_mono(frame))))
    except MediaStreamError:
        return


async def _drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        return


async def listen(
    http: aiohttp.ClientSession, url: str, *, video: bool = False, token: str | None = None
) -> Listener:
    """WHEP ``url`` (audio, and video when asked) and record the pitch heard."""
    pc = RTCPeerConnection(client_configuration())
    if video:
        pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        if response.status != 201:
            await pc.close()
            raise AssertionError(f"WHEP {url}: {response.status} {body}")
        listener = Listener(pc, response.headers["Location"])
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    loop = asyncio.get_running_loop()
    for transceiver in pc.getTransceivers():
        track = transceiver.receiver.track
        work = _record(listener, track) if track.kind == "audio" else _drain(track)
        listener.tasks.append(loop.create_task(work))
    return listener

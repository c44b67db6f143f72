"""Real aiortc peers for media tests: a synthetic publisher and counting subscribers."""

from __future__ import annotations

import asyncio
import fractions
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

VIDEO_CLOCK = 90000
FPS = 30


def non_loopback_ipv4() -> str | None:
    """An IPv4 address aioice would offer as host candidate, if the machine has one."""
    import ifaddr

    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                return ip.ip
    return None


# Skips outside the namespace, fails there with CI=true (tests/requirements.py).
needs_network = pytest.mark.requires("network")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stallable:
    """A synthetic track that can stop producing media (an encoder hang, a pulled cable)."""

    def __init__(self) -> None:
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._start: float | None = None
        self._count = 0

    async def _wait_while_stalled(self, interval: float) -> None:
        if not self.flowing.is_set():
            await self.flowing.wait()
            # Resume at the current time instead of catching up with a burst.
            self._start = time.monotonic() - self._count * interval


def flat_frame(count: int, luma: int, width: int = 320, height: int = 240) -> av.VideoFrame:
    """The ``count``-th frame (at ``FPS``) of one flat luma level, grey chroma."""
    frame = av.VideoFrame(width, height, "yuv420p")
    frame.planes[0].update(bytes([luma]) * frame.planes[0].buffer_size)
    for plane in frame.planes[1:]:
        plane.update(bytes([128]) * plane.buffer_size)
    frame.pts = count * (VIDEO_CLOCK // FPS)
    frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
    return frame


class FlatVideoTrack(MediaStreamTrack, Stallable):
    """Frames of one flat luma level, so a subscriber can tell publishers apart."""

    kind = "video"

    def __init__(self, luma: int, width: int = 320, height: int = 240) -> None:
        MediaStreamTrack.__init__(self)
        Stallable.__init__(self)
        self.luma = luma
        self.width, self.height = width, height

    async def recv(self) -> av.VideoFrame:
        await self._wait_while_stalled(1 / FPS)
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = flat_frame(self._count, self.luma, self.width, self.height)
        self._count += 1
        return frame


class SilenceTrack(MediaStreamTrack, Stallable):
    """20 ms of 48 kHz silence at a time."""

    kind = "audio"

    def __init__(self) -> None:
        MediaStreamTrack.__init__(self)
        Stallable.__init__(self)

    async def recv(self) -> av.AudioFrame:
        await self._wait_while_stalled(0.02)
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count * 0.02
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.sample_rate = 48000
        frame.pts = self._count * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self._count += 1
        return frame


def client_configuration(relay: RTCIceServer | None = None) -> RTCConfiguration:
    if relay is None:
        return RTCConfiguration(iceServers=[])
    from aiortc import RTCIceTransportPolicy

    return RTCConfiguration(iceServers=[relay], iceTransportPolicy=RTCIceTransportPolicy.RELAY)


@dataclass
class Publisher:
    pc: RTCPeerConnection
    location: str
    response_headers: Any
    tracks: tuple[Stallable, ...] = ()

    def stall(self) -> None:
        """Stop sending media without a goodbye: the connection stays, packets stop."""
        for track in self.tracks:
            track.flowing.clear()

    def resume(self) -> None:
        """Send media again."""
        for track in self.tracks:
            track.flowing.set()


async def publish(
    http: aiohttp.ClientSession,
    url: str,
    token: str,
    luma: int,
    *,
    ignore_keyframe_requests: bool = False,
    relay: RTCIceServer | None = None,
    size: tuple[int, int] = (320, 240),
) -> Publisher:
    """An aiortc publisher of flat frames + silence via WHIP."""
    pc = RTCPeerConnection(client_configuration(relay))
    tracks = (FlatVideoTrack(luma, *size), SilenceTrack())
    for track in tracks:
        pc.addTransceiver(track, direction="sendonly")
    if ignore_keyframe_requests:
        # Like OBS: picture loss indications are not honoured.
        for transceiver in pc.getTransceivers():
            transceiver.sender._send_keyframe = lambda: None
    return await whip_offer(http, url, token, pc, tracks)


async def whip_offer(
    http: aiohttp.ClientSession,
    url: str,
    token: str,
    pc: RTCPeerConnection,
    tracks: tuple[Stallable, ...],
) -> Publisher:
    """POST ``pc``'s offer (its ``tracks`` added) to the WHIP ``url`` and take the answer."""
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
    async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        assert response.status == 201, body
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        return Publisher(pc, response.headers["Location"], response.headers, tracks)


@dataclass
class Subscriber:
    pc: RTCPeerConnection
    location: str
    started: float
    frames: int = 0
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    # The longest wait between two decoded video frames (reset it to measure a window).
    longest_gap: float = 0.0
    last_luma: int | None = None
    last_size: tuple[int, int] | None = None
    pts: list[int] = field(default_factory=list)
    audio_frames: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def first_frame_after(self) -> float | None:
        return None if self.first_frame_at is None else self.first_frame_at - self.started

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pc.close()


def _mean_luma(frame: av.VideoFrame) -> int:
    plane = frame.planes[0]
    data = bytes(plane)
    rows = range(0, frame.height, max(1, frame.height // 16))
    sample = b"".join(data[r * plane.line_size : r * plane.line_size + frame.width] for r in rows)
    return sum(sample) // len(sample)


async def _count_video(subscriber: Subscriber, track: MediaStreamTrack) -> None:
    try:
        while True:
            frame = await track.recv()
            now = time.monotonic()
            if subscriber.first_frame_at is None:
                subscriber.first_frame_at = now
            if subscriber.last_frame_at is not None:
                gap = now - subscriber.last_frame_at
                subscriber.longest_gap = max(subscriber.longest_gap, gap)
            subscriber.last_frame_at = now
            subscriber.frames += 1
            subscriber.last_luma = _mean_luma(frame)
            subscriber.last_size = (frame.width, frame.height)
            subscriber.pts.append(int(frame.pts))
            del subscriber.pts[:-600]
    except MediaStreamError:
        return


async def _count_audio(subscriber: Subscriber, track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
            subscriber.audio_frames += 1
    except MediaStreamError:
        return


async def subscribe(
    http: aiohttp.ClientSession,
    url: str,
    relay: RTCIceServer | None = None,
    token: str | None = None,
) -> Subscriber:
    """An aiortc WHEP player that decodes and counts what it gets."""
    pc = RTCPeerConnection(client_configuration(relay))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    started = time.monotonic()
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        assert response.status == 201, body
        subscriber = Subscriber(pc, response.headers["Location"], started)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    for transceiver in pc.getTransceivers():
        track = transceiver.receiver.track
        counter: Callable[[Subscriber, MediaStreamTrack], Any] = (
            _count_video if track.kind == "video" else _count_audio
        )
        subscriber.tasks.append(asyncio.get_running_loop().create_task(counter(subscriber, track)))
    return subscriber

"""A light WHEP viewer for topology tests and benchmarks: RTP in, nothing decoded.

Many of these fit in one test process. Each counts video frames (RTP marker bits), the
longest wait between two of them, and can report each frame's arrival (its payload's
hash: forwarding never changes a payload, so the same frame is recognised at every hop).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription

from streaming.aiortc_glue import SrtpSink, take_over_receiver
from tests.media_peers import client_configuration

OnFrame = Callable[[bytes, float], None]


@dataclass
class FrameCount:
    """What one track's RTP looked like at this viewer."""

    started: float
    kind: str
    on_frame: OnFrame | None = None
    frames: int = 0
    packets: int = 0
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    longest_gap: float = 0.0
    highest_sequence: int | None = None
    missing: set[int] = field(default_factory=set)  # skipped sequence numbers not yet seen
    late: int = 0  # packets that came after a later one (a retransmission, as a rule)

    def on_receive_started(self, payload_types: dict[int, str], sink: SrtpSink) -> None:
        """Nothing to set up: we only read."""

    def on_sender_report(self, ssrc: int, ntp: int) -> None:
        """Not needed."""

    def on_rtp(
        self,
        ssrc: int,
        payload_type: int,
        sequence: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
    ) -> None:
        now = time.monotonic()
        self.packets += 1
        if self.highest_sequence is None:
            self.highest_sequence = sequence
        else:
            ahead = (sequence - self.highest_sequence) % 65536
            if 0 < ahead < 32768:
                self.missing.update((self.highest_sequence + n) % 65536 for n in range(1, ahead))
                self.highest_sequence = sequence
            elif sequence in self.missing:
                self.missing.discard(sequence)
                self.late += 1
        if not marker:
            return
        if self.first_frame_at is None:
            self.first_frame_at = now
        if self.last_frame_at is not None:
            self.longest_gap = max(self.longest_gap, now - self.last_frame_at)
        self.last_frame_at = now
        self.frames += 1
        if self.on_frame is not None:
            self.on_frame(hashlib.blake2b(payload, digest_size=8).digest(), now)

    def gap_now(self) -> float:
        """The longest wait for a frame so far, counting the one going on now."""
        if self.last_frame_at is None:
            return time.monotonic() - self.started
        return max(self.longest_gap, time.monotonic() - self.last_frame_at)


@dataclass
class RtpViewer:
    pc: RTCPeerConnection
    location: str
    video: FrameCount
    audio: FrameCount
    undo: list[Callable[[], None]] = field(default_factory=list)

    @property
    def first_frame_after(self) -> float | None:
        video = self.video
        return None if video.first_frame_at is None else video.first_frame_at - video.started

    async def close(self) -> None:
        await self.pc.close()


async def watch(
    http: aiohttp.ClientSession,
    url: str,
    token: str | None = None,
    on_frame: OnFrame | None = None,
) -> RtpViewer:
    """POST a WHEP offer to ``url`` and count what arrives."""
    pc = RTCPeerConnection(client_configuration())
    started = time.monotonic()
    video = FrameCount(started, "video", on_frame)
    audio = FrameCount(started, "audio")
    try:
        undo = [
            take_over_receiver(pc.addTransceiver("video", direction="recvonly"), video),
            take_over_receiver(pc.addTransceiver("audio", direction="recvonly"), audio),
        ]
        await pc.setLocalDescription(await pc.createOffer())
        headers = {"Content-Type": "application/sdp"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
            body = await response.text()
            if response.status != 201:
                raise AssertionError(f"WHEP {url}: {response.status} {body}")
            location = response.headers["Location"]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    except BaseException:
        await pc.close()
        raise
    return RtpViewer(pc, location, video, audio, undo)


def frames_grow(viewers: list[RtpViewer], by: int) -> Callable[[], bool]:
    """A predicate: every viewer got ``by`` more video frames than now."""
    marks = [v.video.frames for v in viewers]
    return lambda: all(v.video.frames >= m + by for v, m in zip(viewers, marks, strict=True))


def reset_gaps(viewers: list[RtpViewer]) -> None:
    for viewer in viewers:
        viewer.video.longest_gap = 0.0

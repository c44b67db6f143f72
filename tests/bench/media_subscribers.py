"""The benchmark's subscribers: aiortc connections that count frames, for either server.

Every subscriber is a full aiortc peer (ICE, DTLS-SRTP, its own UDP socket); only the
receive pipeline is replaced by a counter so that one process can hold dozens of them.
The counter decrypts until the first keyframe arrives (first-frame time is the first
frame a decoder could show), then reads only the clear RTP header: frames are counted by
marker bit. Like a browser (and aiortc's own receiver) each subscriber
sends an RTCP receiver report about the video about once a second, so the servers do
their per-subscriber RTCP work. The same counter serves venuebridge (WHEP) and Janus
(streaming plugin over its HTTP API), so the two servers are measured by identical
receivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from streaming.aiortc_glue import receiver_report
from streaming.keyframes import is_keyframe
from tests.bench.media_publishers import post_sdp

REPORT_INTERVAL = 1.0  # seconds between one subscriber's receiver reports


class FrameCounter:
    """Counts one connection's video frames; notes when the first keyframe completed."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first_frame: float | None = None
        self.frames = 0
        self.packets = 0
        self._codecs: dict[int, str] = {}
        self._keyed = False
        self._stop_decrypting: Callable[[], None] = lambda: None
        self._sink: Any = None
        self.ssrc = random.getrandbits(32)
        self.media_ssrc: int | None = None
        self._highest: int | None = None  # extended sequence number
        self._last_sr: tuple[int, float] | None = None  # middle 32 bits of NTP, arrival

    def on_receive_started(self, payload_types: dict[int, str], sink: Any) -> None:
        self._sink = sink
        self._codecs = {pt: mime.split("/")[-1].upper() for pt, mime in payload_types.items()}
        srtp = getattr(getattr(sink, "_dtls", None), "_rx_srtp", None)

        def stop_decrypting() -> None:
            # SRTP leaves the RTP header in clear: after the first keyframe the counter
            # needs nothing else, and skipping decryption keeps the load generator light.
            if srtp is not None:
                srtp.unprotect = lambda data: data

        self._stop_decrypting = stop_decrypting

    def on_rtp(self, ssrc: int, pt: int, seq: int, ts: int, marker: bool, payload: bytes) -> None:
        self.packets += 1
        self._note_sequence(ssrc, seq)
        if not self._keyed:
            codec = self._codecs.get(pt)
            if codec not in ("H264", "VP8") or not is_keyframe(codec, payload):
                return
            self._keyed = True
        if marker:
            self.frames += 1
            if self.first_frame is None:
                self.first_frame = time.monotonic()
                self._stop_decrypting()

    def _note_sequence(self, ssrc: int, seq: int) -> None:
        if ssrc != self.media_ssrc or self._highest is None:
            self.media_ssrc, self._highest = ssrc, seq
            return
        low = self._highest & 0xFFFF
        if (seq - low) & 0xFFFF < 0x8000:  # newer, possibly wrapped
            cycles = self._highest - low + (0x10000 if seq < low else 0)
            self._highest = cycles + seq

    def on_sender_report(self, ssrc: int, ntp: int) -> None:
        if ssrc == self.media_ssrc:
            self._last_sr = ((ntp >> 16) & 0xFFFFFFFF, time.monotonic())

    def receiver_report(self) -> bytes | None:
        """An RTCP RR about the video (no loss counted), or None before any packet."""
        if self.media_ssrc is None or self._highest is None:
            return None
        lsr, dlsr = 0, 0
        if self._last_sr is not None:
            lsr = self._last_sr[0]
            dlsr = int((time.monotonic() - self._last_sr[1]) * 65536) & 0xFFFFFFFF
        highest = self._highest & 0xFFFFFFFF
        return receiver_report(self.ssrc, self.media_ssrc, 0, 0, highest, lsr, dlsr)

    def send_receiver_report(self) -> None:
        report = self.receiver_report()
        if report is not None and self._sink is not None:
            self._sink.send_rtcp(report)


async def send_receiver_reports(counters: list[FrameCounter]) -> None:
    """Each counter's RR once per ``REPORT_INTERVAL``, spread evenly over it."""
    while True:
        pause = REPORT_INTERVAL / max(1, len(counters))
        for counter in list(counters):
            counter.send_receiver_report()
            await asyncio.sleep(pause)
        if not counters:
            await asyncio.sleep(REPORT_INTERVAL)


class IgnoringCounter(FrameCounter):
    """For the audio track: received, not counted."""

    def on_receive_started(self, payload_types: dict[int, str], sink: Any) -> None:
        pass

    def on_rtp(self, ssrc: int, pt: int, seq: int, ts: int, marker: bool, payload: bytes) -> None:
        pass


def _take_over(pc: Any, counter: FrameCounter) -> None:
    from streaming.aiortc_glue import take_over_receiver

    for transceiver in pc.getTransceivers():
        handler = counter if transceiver.kind == "video" else IgnoringCounter(counter.started)
        take_over_receiver(transceiver, handler)


async def whep_subscriber(url: str) -> tuple[Any, FrameCounter, Callable[[], Awaitable[None]]]:
    """A WHEP subscriber of venuebridge: we offer, the server answers."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    counter = FrameCounter(time.monotonic())
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    _take_over(pc, counter)
    await pc.setLocalDescription(await pc.createOffer())
    answer = await post_sdp(url, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc, counter, pc.close


async def janus_subscriber(
    http: Any, url: str, mountpoint: int
) -> tuple[Any, FrameCounter, Callable[[], Awaitable[None]]]:
    """A viewer of a Janus mountpoint: Janus offers, we answer."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from tests.bench.janus_anchor import JanusViewer

    counter = FrameCounter(time.monotonic())
    viewer = JanusViewer(http, url)
    offer = await viewer.watch(mountpoint)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    _take_over(pc, counter)
    await pc.setLocalDescription(await pc.createAnswer())
    await viewer.start(pc.localDescription.sdp)

    async def close() -> None:
        with contextlib.suppress(Exception):
            await viewer.hang_up()
        await pc.close()

    return pc, counter, close


async def run_subscribers(
    target: str,
    count: int,
    warmup: float,
    window: float,
    mountpoint: int | None,
    reports: bool = True,
) -> None:
    """Connect ``count`` subscribers, let them settle, print each one's fps over a window.

    ``target`` is a WHEP URL, or Janus's HTTP API URL when ``mountpoint`` is given. Prints
    ``window_start`` when connected and settled, then a ``result`` line.
    """
    import aiohttp

    async with aiohttp.ClientSession() as http:
        closers: list[Callable[[], Awaitable[None]]] = []
        counters: list[FrameCounter] = []
        failures: list[str] = []
        reporter = asyncio.create_task(send_receiver_reports(counters)) if reports else None
        for _ in range(count):
            try:
                if mountpoint is None:
                    _, counter, close = await whep_subscriber(target)
                else:
                    _, counter, close = await janus_subscriber(http, target, mountpoint)
            except Exception as error:  # one failed set-up is reported, not fatal
                failures.append(repr(error)[:200])
                continue
            closers.append(close)
            counters.append(counter)
        await asyncio.sleep(warmup)
        marks = [c.frames for c in counters]
        print(json.dumps({"event": "window_start"}), flush=True)
        await asyncio.sleep(window)
        fps = [(c.frames - m) / window for c, m in zip(counters, marks, strict=True)]
        ttff = [c.first_frame - c.started for c in counters if c.first_frame is not None]
        result = {
            "event": "result",
            "fps": fps,
            "ttff": ttff,
            "no_frames": sum(1 for c in counters if c.first_frame is None),
            "failed": failures,
        }
        print(json.dumps(result), flush=True)
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
        await asyncio.gather(*(close() for close in closers), return_exceptions=True)


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """fps and first-frame figures over all subscriber processes of one run."""
    fps = sorted(f for r in results for f in r["fps"])
    ttff = sorted(t for r in results for t in r["ttff"])
    failed = [f for r in results for f in r["failed"]]

    def quantile(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    return {
        "fps_min": round(fps[0], 1) if fps else 0.0,
        "fps_median": round(statistics.median(fps), 1) if fps else 0.0,
        "below_29_fps": sum(1 for f in fps if f < 29),
        "no_frames": sum(r["no_frames"] for r in results),
        "failed_setups": len(failed),
        "first_failure": failed[0] if failed else None,
        "first_frame_p50_ms": round(1000 * quantile(ttff, 0.5)) if ttff else None,
        "first_frame_p95_ms": round(1000 * quantile(ttff, 0.95)) if ttff else None,
    }

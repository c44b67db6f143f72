"""The benchmark's publishers: one clip, sent over WHIP (venuebridge) or plain RTP (Janus).

Both pace frames at 30 fps and turn each frame into RTP payloads with aiortc's packetiser,
so the two servers receive the same packets; only the transport differs (SRTP over an
aiortc connection, or plain UDP on loopback into a Janus mountpoint). Audio is 20 ms of
Opus silence every 20 ms in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import itertools
import random
import signal
import socket
import time

from tests.bench.media_clip import FPS, RESOLUTIONS, clip_packet, make_clip, packetiser


async def run_whip_publisher(url: str, token: str, codec: str, resolution: str) -> None:
    """Publish the clip to ``url`` (WHIP) until killed."""
    import av
    from aiortc import (
        MediaStreamTrack,
        RTCConfiguration,
        RTCPeerConnection,
        RTCRtpSender,
        RTCSessionDescription,
    )

    from tests.media_peers import SilenceTrack

    clip = make_clip(codec, RESOLUTIONS[resolution])

    class ClipTrack(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.index = 0
            self.start = time.monotonic()

        async def recv(self) -> av.Packet:
            due = self.start + self.index / FPS
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            packet = clip_packet(clip, self.index)
            self.index += 1
            return packet

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video = pc.addTransceiver(ClipTrack(), direction="sendonly")
    video.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == f"video/{codec}"]
    )
    pc.addTransceiver(SilenceTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await post_sdp(url, pc.localDescription.sdp, token)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await until_terminated()
    await pc.close()


async def until_terminated() -> None:
    """Wait for SIGTERM (the harness stopping us), to shut down without a traceback."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


async def post_sdp(url: str, sdp: str, token: str | None = None) -> str:
    """POST an SDP offer (WHIP/WHEP); the answer, or an error naming the status."""
    import aiohttp

    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as http, http.post(url, data=sdp, headers=headers) as r:
        body = await r.text()
        if r.status != 201:
            raise RuntimeError(f"{url}: {r.status} {body}")
        return body


def _silence_payload() -> bytes:
    """One 20 ms Opus packet of silence, from aiortc's own encoder."""
    import av
    from aiortc.codecs.opus import OpusEncoder

    frame = av.AudioFrame(format="s16", layout="mono", samples=960)
    frame.planes[0].update(bytes(frame.planes[0].buffer_size))
    frame.sample_rate = 48000
    frame.pts = 0
    frame.time_base = fractions.Fraction(1, 48000)
    payloads, _ = OpusEncoder().encode(frame)
    return bytes(payloads[0])


async def run_rtp_publisher(
    video_port: int, audio_port: int, codec: str, resolution: str, video_pt: int, audio_pt: int
) -> None:
    """Send the clip as plain RTP to 127.0.0.1 (a Janus mountpoint) until killed."""
    from aiortc.rtp import RtpPacket

    clip = make_clip(codec, RESOLUTIONS[resolution])
    pack = packetiser(codec).pack
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    rng = random.Random()
    video_ssrc, audio_ssrc = rng.getrandbits(32), rng.getrandbits(32)

    async def video() -> None:
        sequence = rng.getrandbits(16)
        start = time.monotonic()
        for index in itertools.count():
            await asyncio.sleep(max(0.0, start + index / FPS - time.monotonic()))
            payloads, timestamp = pack(clip_packet(clip, index))
            for number, payload in enumerate(payloads):
                packet = RtpPacket(
                    payload_type=video_pt,
                    marker=int(number == len(payloads) - 1),
                    sequence_number=sequence,
                    timestamp=timestamp,
                    ssrc=video_ssrc,
                    payload=payload,
                )
                sequence = (sequence + 1) & 0xFFFF
                _send(sock, packet.serialize(), video_port)

    async def audio() -> None:
        payload = _silence_payload()
        sequence, start = rng.getrandbits(16), time.monotonic()
        for index in itertools.count():
            await asyncio.sleep(max(0.0, start + index * 0.02 - time.monotonic()))
            packet = RtpPacket(
                payload_type=audio_pt,
                sequence_number=(sequence + index) & 0xFFFF,
                timestamp=(index * 960) & 0xFFFFFFFF,
                ssrc=audio_ssrc,
                payload=payload,
            )
            _send(sock, packet.serialize(), audio_port)

    senders = asyncio.gather(video(), audio())
    await until_terminated()
    senders.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await senders


def _send(sock: socket.socket, data: bytes, port: int) -> None:
    # Loopback is not expected to fill; a dropped packet would show as lower fps.
    with contextlib.suppress(BlockingIOError):
        sock.sendto(data, ("127.0.0.1", port))

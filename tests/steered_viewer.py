"""An aiortc WHEP player that follows 307s and reconnects the way our pages do.

Like web/static/webrtc-http.js and venue/link.js: POST the offer to the ENTRY endpoint
and let the HTTP client follow a redirect (aiohttp, like a browser, drops
``Authorization`` when the redirect leaves the origin); the session URL is resolved
against the FINAL response URL, so DELETE goes to the node holding the session; when
the session fails or its media stops, start again at the entry endpoint (which steers
to a node that is up) with a backoff of 0.5 s doubling to 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.media_peers import client_configuration

FIRST_DELAY, MAX_DELAY = 0.5, 5.0


@dataclass
class Steered:
    """One session: where the 201 came from and its session URL there."""

    pc: RTCPeerConnection
    final_url: str
    location: str
    redirected: bool


async def steered_offer(
    http: aiohttp.ClientSession,
    entry: str,
    pc: RTCPeerConnection,
    token: str | None = None,
    extra: dict[str, str] | None = None,
) -> Steered:
    """POST ``pc``'s offer at ``entry``, following redirects; AssertionError unless 201."""
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", **(extra or {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(entry, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        if response.status != 201:
            raise AssertionError(f"{response.status}: {body.strip()}")
        final = str(response.url)
        location = urljoin(final, response.headers["Location"])
        redirected = bool(response.history)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return Steered(pc, final, location, redirected)


def origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


@dataclass
class SteeredViewer:
    """Keeps a WHEP session to whichever node ``entry`` steers it to; counts frames."""

    http: aiohttp.ClientSession
    entry: str
    token: str | None = None
    # Sent with every POST (a test poses as clients behind a trusted proxy with these).
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 2.0
    frames: int = 0
    last_frame_at: float | None = None
    # Every node (origin) a session was opened on, in order; and failed attempts.
    served_by: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    current: Steered | None = None
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = FIRST_DELAY
        while True:
            pc = RTCPeerConnection(client_configuration())
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")
            try:
                session = await steered_offer(self.http, self.entry, pc, self.token, self.headers)
            except (AssertionError, aiohttp.ClientError, OSError) as error:
                self.failures.append(repr(error))
                await pc.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
                continue
            self.current = session
            self.served_by.append(origin_of(session.final_url))
            delay = FIRST_DELAY
            try:
                await self._play(pc)
            finally:
                self.current = None
                await pc.close()
                with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self.http.delete(session.location)
            self.failures.append("session lost")
            await asyncio.sleep(delay)

    async def _play(self, pc: RTCPeerConnection) -> None:
        """Count frames until the connection fails or media stops for ``stall`` seconds."""
        video = next(t.receiver.track for t in pc.getTransceivers() if t.kind == "video")
        started = time.monotonic()
        while pc.connectionState not in ("failed", "closed"):
            try:
                async with asyncio.timeout(self.stall):
                    await video.recv()
            except MediaStreamError:
                return  # the track ended: the connection is gone
            except TimeoutError:
                if self.last_frame_at is not None and self.last_frame_at > started:
                    return  # media flowed on this session and stopped
                if time.monotonic() - started > 3 * self.stall:
                    return  # never got going
                continue
            self.frames += 1
            self.last_frame_at = time.monotonic()

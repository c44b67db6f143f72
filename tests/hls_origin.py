"""A running venuebridge whose programme channel is packaged live from a paced fMP4 source,
with a count of the HTTP requests it answers under /hls/ (by kind), for cache and
browser tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from aiohttp.test_utils import TestServer

from config import Event, Settings
from tests.hls_source import FPS, FragmentSource
from web.app import create_app
from web.hls_http import HLS


@dataclass(slots=True)
class LiveOrigin:
    port: int
    channel: str
    # Requests the origin answered: "playlist", "init", "segment", "part".
    requests: Counter[str] = field(default_factory=Counter)
    # Media time (s) -> wall time the frame was made, for latency.
    frames: int = 0
    # The running app (its hub, for tests that type captions).
    app: web.Application | None = None

    @property
    def playlist_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hls/{self.channel}/index.m3u8"


def _kind(path: str) -> str | None:
    if not path.startswith("/hls/"):
        return None
    name = path.rsplit("/", 1)[-1]
    for prefix, kind in (("index", "playlist"), ("init-", "init"), ("seg-", "segment")):
        if name.startswith(prefix):
            return kind
    return "part" if name.startswith("part-") else "other"


@contextlib.asynccontextmanager
async def live_origin(
    settings: Settings,
    event: Event,
    channel: str,
    keyframe_seconds: float = 1.0,
    fragment_seconds: float = 0.5,
) -> AsyncIterator[LiveOrigin]:
    """Fragments as long as the keyframe interval are no parts: segments only."""
    app = create_app(settings, event)
    origin = LiveOrigin(0, channel, app=app)

    async def count(request: web.Request, response: web.StreamResponse) -> None:
        kind = _kind(request.path)
        if kind is not None:
            origin.requests[kind] += 1

    app.on_response_prepare.append(count)
    async with TestServer(app, host="127.0.0.1", port=0) as server:
        assert server.port is not None
        origin.port = server.port
        channels = app[HLS]
        window = channels.open(channel)

        def on_fragment(
            data: bytes, start: float, duration: float, keyframe: bool, wall: datetime
        ) -> None:
            window.on_fragment(data, start, duration, keyframe, wall)
            channels.changed(channel)

        source = FragmentSource(
            window.on_init,
            on_fragment,
            keyframe_seconds=keyframe_seconds,
            fragment_seconds=fragment_seconds,
        )

        async def paced() -> None:
            loop = asyncio.get_running_loop()
            began = loop.time()
            while True:
                source.frame()
                origin.frames += 1
                await asyncio.sleep(max(0.0, began + origin.frames / FPS - loop.time()))

        task = asyncio.create_task(paced())
        try:
            yield origin
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

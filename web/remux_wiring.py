"""The frame sources recording and HLS share (``_planes`` enters ``shared_frames`` before
both start, so it ends after them): a channel both record and package is depacketized
once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from streaming.remux import FrameSources
from streaming.remux.metrics import FrameSourcesCollector
from web.keys import METRICS

FRAME_SOURCES = web.AppKey("frame_sources", FrameSources)


@contextlib.asynccontextmanager
async def shared_frames(app: web.Application) -> AsyncIterator[FrameSources]:
    """The process's ``FrameSources``, under ``app[FRAME_SOURCES]``, on /metrics."""
    frames = app[FRAME_SOURCES] = FrameSources()
    app[METRICS].register(FrameSourcesCollector(frames))
    try:
        yield frames
    finally:
        await frames.aclose()

"""The frame sources recording and HLS share (``_planes`` calls ``share_frames`` before
both start): a channel both record and package is depacketized once."""

from __future__ import annotations

from aiohttp import web

from streaming.remux import FrameSources
from streaming.remux.metrics import FrameSourcesCollector
from web.keys import METRICS

FRAME_SOURCES = web.AppKey("frame_sources", FrameSources)


def share_frames(app: web.Application) -> FrameSources:
    """The process's ``FrameSources``, under ``app[FRAME_SOURCES]``, on /metrics."""
    frames = app[FRAME_SOURCES] = FrameSources()
    app[METRICS].register(FrameSourcesCollector(frames))
    return frames

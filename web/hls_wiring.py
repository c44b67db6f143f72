"""HLS packaging wired to the media plane while the app runs (``_planes`` enters this)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from config import ChannelKind
from streaming.hls.packager import HlsPackager
from streaming.hub import MediaHub
from web.hls_http import HLS
from web.keys import EVENT

HLS_PACKAGER = web.AppKey("hls_packager", HlsPackager)


@contextlib.asynccontextmanager
async def hls_packaging(app: web.Application, media: MediaHub) -> AsyncIterator[None]:
    """Every programme channel into its HLS window (when ``hls.enabled``)."""
    channels = app[HLS]
    if not channels.settings.enabled:
        yield
        return
    programme = [c.id for c in app[EVENT].channels if c.kind is ChannelKind.PROGRAMME]
    packager = app[HLS_PACKAGER] = HlsPackager(
        channels, programme, media.channel_feed, media.video_codec
    )
    packager.start()
    try:
        yield
    finally:
        await packager.aclose()

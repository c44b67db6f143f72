"""HLS packaging wired to the media plane while the app runs (``_planes`` enters this)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from config import ChannelKind
from streaming.hls.packager import HlsPackager
from streaming.hls.renditions import AudioRenditions
from streaming.hub import MediaHub
from web.hls_http import HLS
from web.keys import EVENT
from web.remux_wiring import FRAME_SOURCES

HLS_PACKAGER = web.AppKey("hls_packager", HlsPackager)
HLS_AUDIO = web.AppKey("hls_audio", AudioRenditions)


@contextlib.asynccontextmanager
async def hls_packaging(app: web.Application, media: MediaHub) -> AsyncIterator[None]:
    """Every programme channel into its HLS window, and its live languages into audio
    windows (when ``hls.enabled``)."""
    channels = app[HLS]
    if not channels.settings.enabled:
        yield
        return
    programme = [c.id for c in app[EVENT].channels if c.kind is ChannelKind.PROGRAMME]
    # Each language an interpreter goes on air in becomes an audio rendition, on the
    # video's timeline (a new video container starts a new audio one).
    frames = app.get(FRAME_SOURCES)  # shared with the recorder: one depacketizing pass
    audio = app[HLS_AUDIO] = AudioRenditions(channels, programme, media.language_feed, frames)
    packager = app[HLS_PACKAGER] = HlsPackager(
        channels, programme, media.channel_feed, media.video_codec, audio.video_restarted, frames
    )
    packager.start()
    media.add_language_listener(audio)
    for channel in programme:
        for language in media.live_languages(channel):
            audio.package(channel, language)
    try:
        yield
    finally:
        await audio.aclose()
        await packager.aclose()

"""HLS master playlist and WebVTT subtitles: ``/hls/{channel}/master.m3u8``,
``subs-{lang}.m3u8`` and ``{stream}/subs-{lang}-{msn}.vtt``.

The caption lines are the control plane's (``CaptionService``); ``SessionCaptions`` is
the ``CaptionLines`` port of streaming/hls/subtitles.py over it: the session a channel
shows now (as ``/watch/{channel}`` chooses it) and its lines per language. Public and
cacheable like the rest of /hls/: a subtitle file names a closed segment, and its cues
begin within that segment's past, so it is immutable too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from config import Event
from config.hls_settings import HlsSettings
from config.schedule import session_on_channel
from signaling.captions.service import CaptionService
from streaming.hls.subtitles import (
    CaptionLines,
    Cue,
    Rendition,
    master_playlist,
    subtitle_playlist,
    subtitle_segment,
)
from web.hls_http import HLS, PLAYLIST_TYPE, cache_headers, programme_window, reply

SUBTITLES = web.AppKey("hls_subtitles", CaptionLines)
VTT_TYPE = "text/vtt"
_VTT = re.compile(r"^subs-([A-Za-z0-9-]{2,35})-(\d{1,12})\.vtt$")


class SessionCaptions:
    """Caption lines of the session a channel shows at ``now`` (the ``CaptionLines`` port)."""

    def __init__(self, event: Event, captions: CaptionService, now: Callable[[], datetime]) -> None:
        self._event = event
        self._captions = captions
        self._now = now
        self.max_cue_seconds = captions.limits.max_cue_seconds

    def _session(self, channel: str) -> str | None:
        session = session_on_channel(self._event, channel, self._now()).session
        return session.id if session is not None else None

    def languages(self, channel: str) -> list[Rendition]:
        session = session_on_channel(self._event, channel, self._now()).session
        if session is None:
            return []
        return [Rendition(language, language) for language in session.languages]

    async def cues(self, channel: str, language: str) -> list[Cue]:
        session = self._session(channel)
        if session is None:
            return []
        lines = await self._captions.log.lines(session, language)
        # Lines are stamped on the event clock (shifted in a rehearsal); segments on the
        # system clock: move the lines onto the segments' clock.
        shift = self._now().timestamp() - time.time()
        return [Cue(line.at - shift, line.text) for line in lines]


def _subtitles(request: web.Request) -> CaptionLines | None:
    return request.app.get(SUBTITLES)


def _language(request: web.Request, language: str) -> str:
    found = _subtitles(request)
    channel = request.match_info["channel"]
    spoken = [r.language for r in found.languages(channel)] if found is not None else []
    if language not in spoken:
        raise web.HTTPNotFound(
            text=f"channel '{channel}' has no '{language}' captions now; "
            f"its languages: {', '.join(spoken) or 'none'}",
            headers={"Cache-Control": "public, max-age=2"},
        )
    return language


async def get_master(request: web.Request) -> web.Response:
    window = programme_window(request)
    found = _subtitles(request)
    channel = request.match_info["channel"]
    renditions = found.languages(channel) if found is not None else []
    audio = request.app[HLS].audio_languages(channel)
    body = master_playlist(renditions, audio).encode()
    settings = request.app[HLS].settings
    tags = "-".join([r.language for r in renditions] + ["audio", *audio])
    headers = cache_headers(settings, False, f'"{window.stream}-master-{tags}"')
    return reply(request, body, PLAYLIST_TYPE, headers)


async def get_subtitle_playlist(request: web.Request) -> web.Response:
    window = programme_window(request)
    language = _language(request, request.match_info["language"])
    if not window.ready:
        raise web.HTTPNotFound(
            text="no segment yet", headers={"Cache-Control": "public, max-age=1"}
        )
    body = subtitle_playlist(window, language).encode()
    settings = request.app[HLS].settings
    headers = cache_headers(settings, False, f'"{window.stream}-{language}-{window.version}"')
    return reply(request, body, PLAYLIST_TYPE, headers)


async def get_subtitle_file(request: web.Request) -> web.Response:
    window = programme_window(request)
    found = _VTT.match(request.match_info["name"])
    if request.match_info["stream"] != window.stream or found is None:
        raise web.HTTPNotFound(text="no such subtitle file")
    language = _language(request, found.group(1))
    msn = int(found.group(2))
    segment = next((s for s in window.closed_segments() if s.msn == msn), None)
    subtitles = _subtitles(request)
    if segment is None or subtitles is None:
        raise web.HTTPNotFound(
            text="no such subtitle file", headers={"Cache-Control": "public, max-age=2"}
        )
    cues = await subtitles.cues(request.match_info["channel"], language)
    settings: HlsSettings = request.app[HLS].settings
    body = subtitle_segment(
        cues, segment.wall, segment.start, segment.duration, subtitles.max_cue_seconds
    )
    headers = cache_headers(settings, True, f'"{window.stream}-{language}-{msn}"')
    return reply(request, body.encode(), VTT_TYPE, headers)


def setup(app: web.Application, settings: HlsSettings) -> None:
    """The routes (before ``hls_http.setup``: its file route would take ``.vtt`` names)."""
    if not settings.enabled:
        return
    app.router.add_get("/hls/{channel}/master.m3u8", get_master)
    app.router.add_get(
        "/hls/{channel}/subs-{language:[A-Za-z0-9-]{2,35}}.m3u8", get_subtitle_playlist
    )
    app.router.add_get("/hls/{channel}/{stream}/{name:subs-[^/]+\\.vtt}", get_subtitle_file)

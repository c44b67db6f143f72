"""HLS over HTTP: ``/hls/{channel}/index.m3u8`` and its init, segment and part files;
``audio-{lang}.m3u8`` and ``audio-{lang}/...``: the same for a language's audio rendition.

Public like a programme channel's WHEP (no token: an HTTP cache must be able to share
every response), and shaped for a cache: segment, part and init names are unique for
the life of the stream, so they are ``immutable``; the playlist lives ``playlist_max_age``
seconds. A blocking reload (``_HLS_msn``, ``_HLS_part``) is held until that part exists,
so a cache in front with request collapsing sends the origin one request per part.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.utils import formatdate

from aiohttp import web

from config import ChannelKind
from config.hls_settings import HlsSettings
from streaming.hls.channels import HlsChannels, audio_key
from streaming.hls.window import HlsWindow
from web.keys import EVENT

HLS = web.AppKey("hls", HlsChannels)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
MEDIA_TYPE = "video/mp4"
# A blocking reload more than this many segments ahead is a 400 (RFC 8216bis 6.2.5.2).
MAX_MSN_AHEAD = 2
_FILE = re.compile(r"^(?:init-(\d{1,9})\.mp4|seg-(\d{1,12})\.m4s|part-(\d{1,12})\.(\d{1,4})\.m4s)$")


def programme_window(request: web.Request) -> HlsWindow:
    """The channel's window, or 404 (unknown, a return feed, or not packaged)."""
    channel = request.match_info["channel"]
    found = request.app[EVENT].channel(channel)
    if found is None or found.kind is not ChannelKind.PROGRAMME:
        raise web.HTTPNotFound(text=f"no programme channel '{channel}'")
    window = request.app[HLS].window(channel)
    if window is None:
        raise web.HTTPNotFound(text=f"channel '{channel}' has not been live on this node")
    return window


def _query_int(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    if text is None:
        return None
    if not text.isdigit() or len(text) > 12:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number")
    return int(text)


def cache_headers(settings: HlsSettings, immutable: bool, etag: str) -> dict[str, str]:
    age = settings.segment_max_age if immutable else settings.playlist_max_age
    control = f"public, max-age={age}" + (", immutable" if immutable else "")
    return {
        "Cache-Control": control,
        "ETag": etag,
        "Last-Modified": formatdate(usegmt=True),
        "Access-Control-Allow-Origin": "*",
    }


def reply(
    request: web.Request, body: bytes, content_type: str, headers: dict[str, str]
) -> web.Response:
    # A cache revalidating (If-None-Match) gets a 304 with no body.
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


async def get_playlist(request: web.Request) -> web.Response:
    channel = request.match_info["channel"]
    return await _playlist(request, lambda: programme_window(request), channel)


async def get_audio_playlist(request: web.Request) -> web.Response:
    """A language's audio-only playlist (live-language audio renditions)."""
    channel, language = request.match_info["channel"], request.match_info["language"]
    return await _playlist(request, lambda: _audio_window(request), audio_key(channel, language))


def _audio_window(request: web.Request) -> HlsWindow:
    programme_window(request)  # the channel is a programme channel, packaged here
    channel, language = request.match_info["channel"], request.match_info["language"]
    window = request.app[HLS].audio(channel, language)
    if window is None:
        raise web.HTTPNotFound(
            text=f"channel '{channel}' has no '{language}' audio on this node "
            "(an interpreter has not been on air)",
            headers={"Cache-Control": "public, max-age=2"},
        )
    return window


async def _playlist(request: web.Request, find: Callable[[], HlsWindow], key: str) -> web.Response:
    channels = request.app[HLS]
    settings = channels.settings
    window = find()
    msn = _query_int(request, "_HLS_msn")
    part = _query_int(request, "_HLS_part")
    if part is not None and msn is None:
        raise web.HTTPBadRequest(text="_HLS_part needs _HLS_msn")
    if msn is not None:
        if msn > window.last_msn + MAX_MSN_AHEAD:
            raise web.HTTPBadRequest(text="_HLS_msn is too far ahead of the live edge")
        if not await channels.wait_for(key, msn, part, settings.block_seconds):
            raise web.HTTPServiceUnavailable(
                text="that part did not appear in time", headers={"Retry-After": "1"}
            )
        window = find()
    if not window.ready:
        raise web.HTTPNotFound(
            text="no segment yet", headers={"Cache-Control": "public, max-age=1"}
        )
    body = window.playlist().encode()
    headers = cache_headers(settings, False, f'"{window.stream}-{window.version}"')
    return reply(request, body, PLAYLIST_TYPE, headers)


async def get_file(request: web.Request) -> web.Response:
    return _file(request, programme_window(request))


async def get_audio_file(request: web.Request) -> web.Response:
    return _file(request, _audio_window(request))


def _file(request: web.Request, window: HlsWindow) -> web.Response:
    name = request.match_info["name"]
    found = _FILE.match(name)
    if request.match_info["stream"] != window.stream or found is None:
        raise web.HTTPNotFound(
            text="no such HLS file", headers={"Cache-Control": "public, max-age=2"}
        )
    init, msn, part_msn, part = found.groups()
    if init is not None:
        data = window.init(int(init))
    elif msn is not None:
        data = window.segment(int(msn))
    else:
        data = window.part(int(part_msn), int(part))
    if data is None:
        raise web.HTTPNotFound(
            text="no such HLS file", headers={"Cache-Control": "public, max-age=2"}
        )
    settings = request.app[HLS].settings
    headers = cache_headers(settings, True, f'"{window.stream}-{name}"')
    return reply(request, data, MEDIA_TYPE, headers)


def setup(app: web.Application, channels: HlsChannels) -> None:
    """The routes, when ``hls.enabled``; ``channels`` is what the packagers fill."""
    app[HLS] = channels
    if not channels.settings.enabled:
        return
    app.router.add_get("/hls/{channel}/index.m3u8", get_playlist)
    language = "{language:[A-Za-z0-9-]{2,35}}"
    app.router.add_get(f"/hls/{{channel}}/audio-{language}.m3u8", get_audio_playlist)
    app.router.add_get(f"/hls/{{channel}}/audio-{language}/{{stream}}/{{name}}", get_audio_file)
    app.router.add_get("/hls/{channel}/{stream}/{name}", get_file)

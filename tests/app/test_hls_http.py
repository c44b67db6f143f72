"""/hls/ over HTTP: public programme channels, cache headers, 304s, blocking reloads."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import m3u8
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from config.hls_settings import HlsSettings
from tests.hls_source import FPS, FragmentSource
from web.app import create_app
from web.hls_http import HLS

Client = TestClient[web.Request, web.Application]
CHANNEL = "gz-hall-1"


def _feed(client: Client, channel: str = CHANNEL) -> FragmentSource:
    channels = client.app[HLS]
    window = channels.open(channel)

    def on_fragment(*fragment) -> None:  # type: ignore[no-untyped-def]
        window.on_fragment(*fragment)
        channels.changed(channel)

    return FragmentSource(window.on_init, on_fragment)


def _frames(source: FragmentSource, seconds: float) -> None:
    for _ in range(round(seconds * FPS)):
        source.frame()


async def test_playlist_and_segments_carry_cache_headers(client: Client) -> None:
    _frames(_feed(client), 7)
    response = await client.get(f"/hls/{CHANNEL}/index.m3u8")
    assert response.status == 200
    assert response.content_type == "application/vnd.apple.mpegurl"
    assert response.headers["Cache-Control"] == "public, max-age=1"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    playlist = m3u8.loads(await response.text())
    segment = next(s for s in playlist.segments if s.uri)
    for uri in (segment.init_section.uri, segment.uri, playlist.segments[-1].parts[0].uri):
        file = await client.get(f"/hls/{CHANNEL}/{uri}")
        assert file.status == 200, uri
        assert file.headers["Cache-Control"] == "public, max-age=86400, immutable"
        assert len(await file.read()) > 100
        again = await client.get(
            f"/hls/{CHANNEL}/{uri}", headers={"If-None-Match": file.headers["ETag"]}
        )
        assert again.status == 304


async def test_hls_needs_no_token_but_only_programme_channels_have_it(client: Client) -> None:
    _frames(_feed(client, "us-return"), 5)
    assert (await client.get("/hls/us-return/index.m3u8")).status == 404
    assert (await client.get("/hls/no-such/index.m3u8")).status == 404
    # A programme channel not live on this node yet.
    assert (await client.get("/hls/gz-hall-2/index.m3u8")).status == 404


async def test_unknown_files_and_other_streams_are_404(client: Client) -> None:
    _frames(_feed(client), 5)
    stream = client.app[HLS].window(CHANNEL).stream  # type: ignore[union-attr]
    for name in (f"{stream}/seg-99.m4s", "abcdef/seg-0.m4s", f"{stream}/../../etc", f"{stream}/x"):
        assert (await client.get(f"/hls/{CHANNEL}/{name}")).status == 404, name


async def test_a_blocking_reload_waits_for_its_part(client: Client) -> None:
    source = _feed(client)
    _frames(source, 5)
    window = client.app[HLS].window(CHANNEL)
    assert window is not None
    msn = window.last_msn
    wanted = f"/hls/{CHANNEL}/index.m3u8?_HLS_msn={msn + 1}&_HLS_part=0"
    request = asyncio.ensure_future(client.get(wanted))
    await asyncio.sleep(0.2)
    assert not request.done(), "answered before the part existed"
    _frames(source, 2.5)  # the next segment and its first part appear
    response = await asyncio.wait_for(request, 5)
    assert response.status == 200
    assert f"part-{msn + 1}.0.m4s" in await response.text()


async def test_blocking_reload_refuses_junk_and_the_far_future(client: Client) -> None:
    _frames(_feed(client), 5)
    base = f"/hls/{CHANNEL}/index.m3u8"
    assert (await client.get(f"{base}?_HLS_msn=999")).status == 400
    assert (await client.get(f"{base}?_HLS_msn=-1")).status == 400
    assert (await client.get(f"{base}?_HLS_part=1")).status == 400


async def test_a_blocking_reload_gives_up_after_block_seconds(
    settings: Settings, reference_event: Event
) -> None:
    settings = dataclasses.replace(settings, hls=HlsSettings(block_seconds=0.5))
    async with TestClient(TestServer(create_app(settings, reference_event))) as client:
        _frames(_feed(client), 5)
        window = client.app[HLS].window(CHANNEL)
        assert window is not None
        started = time.monotonic()
        url = f"/hls/{CHANNEL}/index.m3u8?_HLS_msn={window.last_msn + 1}&_HLS_part=0"
        response = await client.get(url)
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        assert 0.5 <= time.monotonic() - started < 3


async def test_hls_enabled_false_has_no_routes(settings: Settings, reference_event: Event) -> None:
    settings = dataclasses.replace(settings, hls=HlsSettings(enabled=False))
    async with TestClient(TestServer(create_app(settings, reference_event))) as client:
        assert (await client.get(f"/hls/{CHANNEL}/index.m3u8")).status == 404

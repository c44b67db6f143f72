"""HLS made from a live aiortc publisher's packets (WHIP in, the remux layer, the window):
the playlist parses, every segment decodes, and segments follow the 2 s target."""

from __future__ import annotations

import io

import aiohttp
import av
import m3u8
import pytest

from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, publish

pytestmark = [pytest.mark.network, needs_network]
CHANNEL = "gz-hall-1"


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with http.get(url) as response:
        return response.status, await response.read()


@pytest.mark.timeout(90)
async def test_a_live_publisher_becomes_hls(media_server: MediaServer) -> None:
    url, http = media_server.url, media_server.http
    playlist_url = f"{url}/hls/{CHANNEL}/index.m3u8"
    publisher = await publish(http, f"{url}/whip/{CHANNEL}", PRODUCER_SECRET, 200)
    try:

        async def segments_ready() -> bool:
            status, body = await _get(http, playlist_url)
            return status == 200 and body.count(b"#EXTINF") >= 4

        await eventually(segments_ready, "four HLS segments", within=40, interval=0.5)
        status, body = await _get(http, playlist_url)
        playlist = m3u8.loads(body.decode(), uri=playlist_url)
    finally:
        await publisher.pc.close()
    segments = [s for s in playlist.segments if s.uri]
    durations = [s.duration for s in segments]
    print({"hls_live_segment_seconds": durations})
    # aiortc honours keyframe requests: the packager asks at each 2 s, so segments are
    # about 2 s (a keyframe arrives a round trip or so after it is asked for).
    assert all(1.5 <= d <= 3.5 for d in durations[1:]), durations
    status, init = await _get(http, f"{url}/hls/{CHANNEL}/{segments[0].init_section.uri}")
    assert status == 200
    for segment in segments:
        status, data = await _get(http, f"{url}/hls/{CHANNEL}/{segment.uri}")
        assert status == 200
        with av.open(io.BytesIO(init + data)) as container:
            kinds = {stream.type for stream in container.streams}
            frames = list(container.decode(video=0))
        assert kinds == {"video", "audio"}
        assert frames[0].key_frame
        # Every frame decodes: about 30 fps for the segment's duration.
        assert len(frames) >= 0.8 * 30 * segment.duration, (len(frames), segment.duration)
    # Parts: the remux layer cuts fragments every 0.5 s, so the playlist lists them.
    assert playlist.part_inf is not None
    assert any(s.parts for s in playlist.segments)

"""The slate decodes in a real aiortc player in either event codec and keeps looping."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from config import Event, Settings
from streaming.slate_picture import FPS, HEIGHT, WIDTH
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, subscribe
from web.app import create_app

pytestmark = [pytest.mark.network, needs_network]


@pytest.fixture(params=["H264", "VP8"])
async def codec_server(
    request: pytest.FixtureRequest, media_settings: Settings, reference_event: Event
) -> AsyncIterator[MediaServer]:
    settings = dataclasses.replace(media_settings, video_codec=request.param)
    server = TestServer(create_app(settings, reference_event), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield MediaServer(str(server.make_url("")).rstrip("/"), server.app, http)
    finally:
        await server.close()


async def test_a_venue_output_with_nothing_routed_plays_the_slate(
    codec_server: MediaServer,
) -> None:
    url = f"{codec_server.url}/whep/venue/us"
    viewer = await subscribe(codec_server.http, url, token=PRODUCER_SECRET)
    try:
        await eventually(lambda: viewer.last_size == (WIDTH, HEIGHT), "the slate's pictures")
        # Two more seconds of pictures: the looped clip keeps decoding (at the slate's rate).
        await eventually(lambda: viewer.frames >= 2 * FPS + 1, "the slate to keep looping")
        await eventually(lambda: viewer.audio_frames >= 50, "the slate's silence")
        assert codec_server.hub.venue_output("us").on_slate
        assert codec_server.hub.venue_output("us").on_air_channel is None
    finally:
        await viewer.close()

"""Chromium publishes through /publish/{channel}; another Chromium page plays via WHEP."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from config import Settings
from tests.chromium import FRAMES_DECODED
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]


@pytest.fixture(params=["H264", "VP8"])
def media_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        video_codec=request.param,
    )


async def test_chromium_publishes_and_another_page_plays(
    media_server: MediaServer, browser: Browser
) -> None:
    hub, url = media_server.hub, media_server.url
    publisher = await browser.new_page()
    await publisher.goto(f"{url}/publish/gz-hall-5?token={PRODUCER_SECRET}&autostart=1")
    await eventually(lambda: hub.channel("gz-hall-5").live, "Chromium to publish", within=20)
    await publisher.locator("#status[data-state=live]").wait_for(timeout=5000)

    viewer = await browser.new_page()
    await viewer.goto(f"{url}/watch/gz-hall-5")

    async def decoded() -> bool:
        return int(await viewer.evaluate(FRAMES_DECODED)) >= 30

    await eventually(decoded, "30 frames decoded in the watch page", within=20)
    playing = await viewer.evaluate(
        "() => { const v = document.getElementById('player'); return v.videoWidth > 0; }"
    )
    assert playing
    publishers = [p for p in hub.publishers() if p.channel == "gz-hall-5"]
    assert publishers
    video = next(t for t in publishers[0].tracks if t.video)
    assert video.keyframes >= 1

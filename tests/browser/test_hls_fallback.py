"""The viewer page falls back to HLS when the node is full: a real aiortc publisher, the
channel's one WebRTC seat taken, Chromium refused 503 and playing the HLS the packager
made from the same packets; the latency is printed."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from playwright.async_api import Browser

from config import MediaSettings, Settings
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, publish, subscribe

pytestmark = [pytest.mark.requires("chromium"), needs_network]
CHANNEL = "gz-hall-1"


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    """One WebRTC viewer per channel: the second is refused (admission control)."""
    return local_settings(
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        media=MediaSettings(max_sessions_per_channel=1),
    )


@pytest.mark.timeout(120)
async def test_a_full_node_sends_the_page_to_hls(
    media_server: MediaServer, browser: Browser
) -> None:
    url, http = media_server.url, media_server.http
    publisher = await publish(http, f"{url}/whip/{CHANNEL}", PRODUCER_SECRET, 200)
    hub = media_server.hub
    await eventually(lambda: hub.channel(CHANNEL).live, "the publisher to go live")
    seated = await subscribe(http, f"{url}/whip/{CHANNEL}".replace("whip", "whep"))
    page = await browser.new_page()
    try:
        await page.goto(f"{url}/watch/{CHANNEL}")
        playback = page.locator("#playback")

        async def on_hls() -> bool:
            return await playback.get_attribute("data-mode") == "hls"

        await eventually(on_hls, "the page switching to HLS", within=30)
        assert await playback.get_attribute("data-because") == "full"
        assert "full" in (await playback.text_content() or "")

        async def advancing() -> bool:
            return bool(await page.evaluate("document.getElementById('player').currentTime > 2"))

        await eventually(advancing, "HLS playing past 2 s", within=40)
        assert await page.locator("#status").get_attribute("data-state") == "live"
        await page.wait_for_timeout(4000)
        latencies = []
        for _ in range(12):
            value = await page.evaluate("window.vbHls.latency()")
            if value is not None:
                latencies.append(float(value))
            await page.wait_for_timeout(500)
    finally:
        await page.close()
        await seated.close()
        await publisher.pc.close()
    assert latencies
    # Publisher frame arrival (the program date time) to the frame the page shows now.
    print(
        json.dumps(
            {
                "hls_fallback_latency_seconds": {
                    "median": round(statistics.median(latencies), 2),
                    "max": round(max(latencies), 2),
                }
            }
        )
    )

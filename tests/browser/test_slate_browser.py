"""The slate in Chromium: the Japan operator's projector plays the venue output over WHEP
with nothing routed, then a routed channel whose publisher stalls."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from streaming.slate_picture import HEIGHT, WIDTH
from tests.browser.console_pages import PROJECTOR, decoding, open_console, route
from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, publish

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

VIDEO_SIZE = """() => {
  const video = document.getElementById("projector");
  return [video.videoWidth, video.videoHeight];
}"""


async def projector_size(page: Page) -> tuple[int, int]:
    width, height = await page.evaluate(VIDEO_SIZE)
    return int(width), int(height)


async def test_the_projector_shows_the_slate_for_nothing_routed_and_for_a_lost_source(
    browser: Browser, media_server: MediaServer, shots: Path
) -> None:
    operator = mint(media_server.app, "operator", "jp-operator", venue="jp")
    console = await open_console(browser, media_server.url, operator)
    peers: list[Any] = []
    try:
        await decoding(console, PROJECTOR, "the slate in the projector", at_least=5)

        async def slate_size() -> bool:
            return await projector_size(console) == (WIDTH, HEIGHT)

        await eventually(slate_size, "the projector at the slate's size")
        await console.screenshot(path=shots / "projector-slate-nothing-routed.png", full_page=True)

        publisher = await publish(media_server.http, f"{media_server.url}/whip/gz-hall-1",
                                  PRODUCER_SECRET, 200)  # fmt: skip
        peers.append(publisher)
        await eventually(lambda: media_server.hub.channel("gz-hall-1").live, "hall 1 live")
        await route(media_server, "jp", "gz-hall-1", PRODUCER_SECRET)

        async def hall_size() -> bool:
            return await projector_size(console) == (320, 240)

        await eventually(hall_size, "hall 1 in the projector")
        publisher.stall()
        stalled = time.monotonic()
        await eventually(slate_size, "the slate after the source was lost", interval=0.01)
        slate_after = time.monotonic() - stalled
        print(json.dumps({"fault": "chromium_source_lost", "slate_after_s": round(slate_after, 3)}))
        assert slate_after <= 2.0
        await console.screenshot(path=shots / "projector-slate-source-lost.png", full_page=True)
        video = console.locator("#projector")
        await video.screenshot(path=shots / "slate.png")
    finally:
        for peer in peers:
            await peer.pc.close()
        await console.context.close()

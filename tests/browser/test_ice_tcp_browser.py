"""Chromium on a network that drops UDP: media over ICE-TCP on the media port's number."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from config import IceSettings, Settings
from streaming.udp_mux import UdpMux
from tests.browser.test_single_port_browser import FRAMES_DECODED, selected_pair
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network
from web.keys import ICE_PORTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
    pytest.mark.requires("nftables"),
]

CHANNEL = "gz-hall-3"
TABLE = "vb_ice_tcp_test"


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    return local_settings(
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        ice=IceSettings(tcp_mux=True),
    )


def nft(*args: str) -> None:
    subprocess.run(["nft", *args], check=True, capture_output=True)


async def test_chromium_publishes_and_plays_over_ice_tcp_when_udp_is_dropped(
    media_server: MediaServer, browser: Browser
) -> None:
    hub, url = media_server.hub, media_server.url
    mux = media_server.app[ICE_PORTS]
    assert isinstance(mux, UdpMux)
    port = mux.port
    nft("add", "table", "inet", TABLE)
    try:
        nft("add", "chain", "inet", TABLE, "input", "{ type filter hook input priority 0; }")
        nft("add", "rule", "inet", TABLE, "input", "udp", "dport", str(port), "drop")
        nft("add", "rule", "inet", TABLE, "input", "udp", "sport", str(port), "drop")

        publisher = await browser.new_page()
        await publisher.goto(f"{url}/publish/{CHANNEL}?token={PRODUCER_SECRET}&autostart=1")
        await eventually(lambda: hub.channel(CHANNEL).live, "Chromium to publish", within=30)
        viewer = await browser.new_page()
        await viewer.goto(f"{url}/watch/{CHANNEL}")

        async def decoded(page: Page = viewer) -> bool:
            return int(await page.evaluate(FRAMES_DECODED)) >= 60

        await eventually(decoded, "60 frames decoded over ICE-TCP", within=30)
        for page in (publisher, viewer):
            assert await selected_pair(page) == ["tcp", port]
    finally:
        nft("delete", "table", "inet", TABLE)

"""Chromium publishes and several Chromium pages play, all through the server's one media UDP
port: ``ss`` sees one UDP socket in the server's process, and every browser's selected
ICE pair ends on that port."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Browser, Page

from streaming.udp_mux import UdpMux
from tests.chromium import FRAMES_DECODED
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.integration.test_single_port import udp_sockets
from tests.media_peers import needs_network
from web.keys import ICE_PORTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

CHANNEL = "gz-hall-2"
VIEWERS = 3

# The remote end of the pair the browser's ICE agent selected: [protocol, port], or null.
SELECTED_PAIR = """async () => {
  if (!window.vbPc) return null;
  const stats = await window.vbPc.getStats();
  let found = null;
  stats.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) {
      const pair = stats.get(r.selectedCandidatePairId);
      const remote = stats.get(pair.remoteCandidateId);
      found = [remote.protocol, remote.port];
    }
  });
  return found;
}"""


async def selected_pair(page: Page) -> list[object] | None:
    found: list[object] | None = await page.evaluate(SELECTED_PAIR)
    return found


async def test_chromium_publisher_and_viewers_through_one_udp_port(
    media_server: MediaServer, browser: Browser
) -> None:
    hub, url = media_server.hub, media_server.url
    mux = media_server.app[ICE_PORTS]
    assert isinstance(mux, UdpMux)
    # This process is the server (Chromium runs apart): its UDP sockets are the server's.
    # One: the namespace has one address besides loopback (a socket per address).
    media_sockets = [(s.address, mux.port) for s in mux.sockets]
    assert len(media_sockets) == 1
    assert udp_sockets(os.getpid()) == media_sockets

    publisher = await browser.new_page()
    await publisher.goto(f"{url}/publish/{CHANNEL}?token={PRODUCER_SECRET}&autostart=1")
    await eventually(lambda: hub.channel(CHANNEL).live, "Chromium to publish", within=20)

    viewers = [await browser.new_page() for _ in range(VIEWERS)]
    for viewer in viewers:
        await viewer.goto(f"{url}/watch/{CHANNEL}")
    for index, viewer in enumerate(viewers):

        async def decoded(page: Page = viewer) -> bool:
            return int(await page.evaluate(FRAMES_DECODED)) >= 30

        await eventually(decoded, f"30 frames decoded at viewer {index}", within=20)

    # ICE-TCP is offered too (same port number); over an open network UDP wins.
    for page in (publisher, *viewers):
        assert await selected_pair(page) == ["udp", mux.port]
    assert udp_sockets(os.getpid()) == media_sockets
    assert mux.stats().connections == 1 + VIEWERS
    assert sum(mux.stats().dropped.values()) == 0

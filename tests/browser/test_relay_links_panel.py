"""The director page of an edge shows its relay link's health, the long link under loss."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser

from config import Event
from tests.helpers import eventually
from tests.integration.test_relay_links import CHANNEL, Cluster, close_peer, frames_grow
from tests.integration.test_relay_loss import ONE_WAY, PullSpy, publish_offering_fec, relay_of
from tests.lossy_link import LossyLink
from tests.media_peers import needs_network, subscribe

pytestmark = [pytest.mark.browser, pytest.mark.network, needs_network]


@pytest.fixture
async def cluster(tmp_path: Path, reference_event: Event) -> AsyncIterator[Cluster]:
    async with aiohttp.ClientSession() as http:
        nodes = Cluster(tmp_path, reference_event, http)
        try:
            yield nodes
        finally:
            await nodes.aclose()


async def test_the_edge_director_page_shows_the_relay_link(
    cluster: Cluster, browser: Browser, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    PullSpy(LossyLink(seed=7, loss=0.05, delay=ONE_WAY), monkeypatch)
    http = cluster.http
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin)
    peers: list[Any] = []
    try:
        publisher, _ = await publish_offering_fec(http, f"{origin.url}/whip/{CHANNEL}")
        peers.append(publisher)
        viewer = await subscribe(http, f"{edge.url}/whep/{CHANNEL}")
        peers.append(viewer)
        await eventually(frames_grow([viewer], 30), "frames at the edge viewer", within=20)

        async def repaired() -> bool:
            return bool((await relay_of(cluster, edge))["retransmissions"] >= 3)

        await eventually(repaired, "repaired losses on the pull", within=30)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{edge.url}/join?token={cluster.relay_token}")
        await page.goto(f"{edge.url}/director")
        row = page.locator(f'#relay-links tr[data-channel="{CHANNEL}"]')
        await row.wait_for(timeout=10000)
        cells = await row.locator("td").all_inner_texts()
        assert cells[0] == origin.url
        assert cells[1] == "live"
        assert cells[2].endswith(" ms")
        assert int(cells[2].removesuffix(" ms")) >= 1000 * 2 * ONE_WAY
        nacks, repairs = (int(n) for n in cells[4].split(" / "))
        assert nacks >= 1
        assert repairs >= 3
        await page.locator("#relay-links").scroll_into_view_if_needed()
        await page.screenshot(path=str(shots / "director-relay-links.png"), full_page=True)
        assert errors == []
        await context.close()
    finally:
        for peer in peers:
            await close_peer(peer)

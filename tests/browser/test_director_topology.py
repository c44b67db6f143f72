"""The director's page shows the topology: each venue's home node (up or down) and the
nodes panel. Two real ``venuebridge serve`` processes on one real redis-server: "origin"
runs the routing and serves the page; "edge-jp" is home to venue jp by its settings.
Screenshots: test-output/<test>/topology-up.png and topology-home-down.png.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.helpers import eventually
from tests.integration.server_process import ServerProcess, serve
from tests.integration.test_home_venue_processes import HEARTBEAT, HOME, TTL, VENUE, _edge_env
from tests.integration.test_redis_restart_nodes import Redis, cli_token, redis_folder
from tests.media_peers import needs_network

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[Redis]:
    with redis_folder(tmp_path) as folder:
        server = Redis(folder)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


async def _text(page: Page, selector: str) -> str:
    return str(await page.locator(selector).inner_text())


async def test_the_director_page_shows_homes_and_nodes(
    tmp_path: Path, redis: Redis, browser: Browser, shots: Path
) -> None:
    env = {
        "VENUEBRIDGE_REDIS_URL": redis.url,
        "VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "VENUEBRIDGE_NODE_TTL_SECONDS": str(TTL),
        "VENUEBRIDGE_NODE_ID": "origin",
        "VENUEBRIDGE_NODE_REGION": "cn",
        "VENUEBRIDGE_NODE_URL": "https://gz.example.org",
    }
    async with AsyncExitStack() as stack:
        origin: ServerProcess = await stack.enter_async_context(serve(tmp_path / "a", env))
        edge = await stack.enter_async_context(serve(tmp_path / "b", _edge_env(redis.url, origin)))
        director = await cli_token(tmp_path / "a", redis.url, "--role", "director")
        page = await browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            await page.goto(f"{origin.url}/join?token={director}")
            await page.goto(f"{origin.url}/director")
            jp = f'[data-home="{VENUE}"]'
            await eventually(
                lambda: _has_text(page, jp, f"home {HOME} · up"), "jp's home shown up", 15
            )
            assert await _text(page, '[data-home="gz"]') == "home: routing node"
            await eventually(lambda: _rows(page, 2), "both nodes in the nodes panel", 10)
            edge_row = await _text(page, f'#nodes tr[data-node="{HOME}"]')
            assert "jp" in edge_row  # region jp, home to jp
            assert edge_row.split("\t")[-1].strip() == VENUE
            origin_row = await _text(page, '#nodes tr[data-node="origin"]')
            assert "this node" in origin_row
            assert "https://gz.example.org" in origin_row
            await page.locator("#nodes").scroll_into_view_if_needed()
            await page.screenshot(path=str(shots / "topology-up.png"), full_page=True)

            # The home dies: the row says DOWN, the panel lists it as down.
            edge.process.send_signal(signal.SIGKILL)
            await edge.process.wait()
            await eventually(
                lambda: _has_text(page, jp, f"home {HOME} · DOWN"), "jp's home shown down", 15
            )
            await eventually(
                lambda: _has_text(page, f'#nodes tr[data-node="{HOME}"]', "no heartbeat"),
                "the nodes panel listing edge-jp as down",
                10,
            )
            await page.screenshot(path=str(shots / "topology-home-down.png"), full_page=True)
        finally:
            await page.close()


async def _has_text(page: Page, selector: str, text: str) -> bool:
    locator = page.locator(selector)
    return await locator.count() == 1 and text in await locator.inner_text()


async def _rows(page: Page, count: int) -> bool:
    return bool(await page.locator("#nodes tbody tr").count() == count)

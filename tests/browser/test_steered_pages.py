"""Chromium's watch page follows a 307 to another node and plays from there.

Two real nodes on a real redis-server (tests/integration/test_steering.py builds them):
"gz" (region cn, where an aiortc producer publishes) and "edge-us" (region us). The page
is opened at gz with ``?region=us``: its OPTIONS and its POST are redirected to edge-us
(the browser drops the cookie and ``Authorization`` there; the POST's redirect carries a
pass), it plays from edge-us (which pulls from gz), and the session's PATCH and DELETE
go to edge-us, where the session lives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Request, Response
from playwright.async_api import Error as PlaywrightError

from config import Event
from tests.chromium import FRAMES_DECODED
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET
from tests.integration.test_forwarding import BRIGHT
from tests.integration.test_steering import VENUE, Nodes, up, with_home
from tests.media_peers import needs_network, publish
from tests.redis_server import running_redis
from web.keys import PEERS
from web.peers import PeerOrigins

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

CHANNEL = "gz-hall-1"


@pytest.fixture
async def nodes(tmp_path: Path, reference_event: Event) -> AsyncIterator[Nodes]:
    (tmp_path / "redis-data").mkdir()
    with running_redis(tmp_path / "redis-data") as url:
        cluster = Nodes(tmp_path, with_home(reference_event, VENUE, "edge-us"), url)
        try:
            yield cluster
        finally:
            await cluster.aclose()


async def test_the_watch_page_follows_a_307_and_its_session_lives_on_the_other_node(
    nodes: Nodes, browser: Browser
) -> None:
    gz = await nodes.start("gz", "cn", routing=True)
    edge = await nodes.start("edge-us", "us")
    await eventually(lambda: up(gz, "gz", "edge-us"), "both nodes in the directory")
    # gz's pages may connect to edge-us once gz has read its origin from the directory.
    await eventually(lambda: edge.url in gz.app[PEERS].origins, "edge-us in gz's peer origins")
    async with aiohttp.ClientSession() as http:
        publisher = await publish(http, f"{gz.url}/whip/{CHANNEL}", PRODUCER_SECRET, BRIGHT)
        try:
            await eventually(lambda: gz.hub.channel(CHANNEL).live, "the channel live at gz")
            page = await browser.new_page()
            errors: list[str] = []
            sent: list[tuple[str, str]] = []
            answered: list[tuple[str, str, int]] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            def on_request(request: Request) -> None:
                sent.append((request.method, request.url))

            def on_response(response: Response) -> None:
                answered.append((response.request.method, response.url, response.status))

            page.on("request", on_request)
            page.on("response", on_response)
            await page.goto(f"{gz.url}/watch/{CHANNEL}?region=us&lang=en")

            async def decoded() -> bool:
                return int(await page.evaluate(FRAMES_DECODED)) >= 30

            await eventually(decoded, "30 frames decoded from the other node", within=30)
            session = await page.evaluate("window.vbPlayer.url")
            assert session.startswith(f"{edge.url}/whep/{CHANNEL}/")
            assert edge.hub.audience().per_channel == {CHANNEL: 1}
            # gz serves only the edge's pull, never the page itself.
            assert gz.hub.audience().per_channel == {CHANNEL: 1}
            [relay] = edge.hub.snapshot().relays
            assert relay.upstream == gz.url
            # The POST was redirected (307 at gz), then answered 201 at edge-us.
            posts = [(u, s) for m, u, s in answered if m == "POST"]
            assert posts[0][0].startswith(f"{gz.url}/whep/{CHANNEL}?region=us")
            assert posts[0][1] == 307
            assert posts[-1][0].startswith(f"{edge.url}/whep/{CHANNEL}?region=us&via=gz")
            assert posts[-1][1] == 201
            # The ICE servers were read from the node that serves (its OPTIONS, redirected).
            options = [(u, s) for m, u, s in answered if m == "OPTIONS"]
            assert any(u.startswith(f"{edge.url}/whep/{CHANNEL}?") and s == 204 for u, s in options)

            # The page's liveness PATCH goes to the session's own node.
            await eventually(
                lambda: ("PATCH", session, 204) in answered, "a PATCH answered by edge-us"
            )
            await page.evaluate("window.vbPlayer.stop()")
            await eventually(
                lambda: ("DELETE", session, 200) in answered, "the DELETE answered by edge-us"
            )
            await eventually(
                lambda: not edge.hub.audience().per_channel.get(CHANNEL),
                "the session gone at edge-us",
            )
            assert not any(m in ("PATCH", "DELETE") and u.startswith(gz.url) for m, u in sent), (
                "a session request went to the entry node"
            )
            assert errors == []
            await page.close()
        finally:
            await publisher.pc.close()


async def test_a_page_loaded_before_a_node_joined_reloads_and_plays_there(
    nodes: Nodes, browser: Browser
) -> None:
    """The page's policy lists the nodes up when it loaded; steered to a newer one, the
    browser blocks the request, and the page reloads itself to get a policy naming it."""
    gz = await nodes.start("gz", "cn", routing=True)
    edge = await nodes.start("edge-us", "us")
    await eventually(lambda: up(gz, "gz", "edge-us"), "both nodes in the directory")
    # gz has not yet read edge-us's origin: as if edge-us had joined after the page loaded.
    peers: PeerOrigins = gz.app[PEERS]
    learn = peers.update
    allowed = False
    peers.update = lambda found: learn(found) if allowed else None  # type: ignore[method-assign]
    peers.origins = ()
    async with aiohttp.ClientSession() as http:
        publisher = await publish(http, f"{gz.url}/whip/{CHANNEL}", PRODUCER_SECRET, BRIGHT)
        try:
            await eventually(lambda: gz.hub.channel(CHANNEL).live, "the channel live at gz")
            page = await browser.new_page()
            loads: list[str] = []
            refused: list[str] = []
            page.on(
                "console",
                lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.on("load", lambda p: loads.append(p.url))
            await page.goto(f"{gz.url}/watch/{CHANNEL}?region=us&lang=en")
            await eventually(lambda: bool(refused), "the browser to refuse the unknown node")
            allowed = True  # the next heartbeat names edge-us in gz's pages
            await eventually(lambda: edge.url in peers.origins, "edge-us in gz's peer origins")

            async def decoded() -> bool:
                try:
                    return int(await page.evaluate(FRAMES_DECODED)) >= 30
                except PlaywrightError:  # asked while the page was reloading
                    return False

            await eventually(decoded, "30 frames decoded after the reload", within=30)
            assert len(loads) == 2  # the first load, and the one reload
            assert (await page.evaluate("window.vbPlayer.url")).startswith(edge.url)
            await page.close()
        finally:
            await publisher.pc.close()

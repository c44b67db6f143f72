"""A page on a second origin (same host, another port) tries to act with the director's
cookie in Chromium: a websocket to /ws and a form POST to the routing API. Both refused.

Cookies are not scoped by port and ``SameSite=Lax`` treats another port of the same host
as the same site, so Chromium does attach the director's cookie; only the ``Origin``
check stands between this page and the routing matrix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from playwright.async_api import Browser

from tests.browser.conftest import browser, live_url
from tests.control.support import mint
from web.keys import HUB, MEDIA

pytestmark = [pytest.mark.browser]
__all__ = ["browser", "live_url"]

# The attacker's page. The form's text/plain body reads as JSON:
# {"channel": "gz-hall-2", "pad": "="}
ATTACK_PAGE = """<!doctype html>
<title>Win a prize</title>
<form id="route" method="post" enctype="text/plain" action="{target}/api/venues/jp/route">
  <input type="hidden" name='{{"channel": "gz-hall-2", "pad": "' value='"}}'>
</form>
<script>
window.socketResult = new Promise((resolve) => {{
  const socket = new WebSocket("{ws_target}/ws");
  socket.onopen = () => resolve("open");
  socket.onerror = () => resolve("refused");
}});
</script>
"""

SAME_ORIGIN_SOCKET = """() => new Promise((resolve) => {
  const socket = new WebSocket(location.origin.replace("http", "ws") + "/ws");
  socket.onopen = () => { resolve("open"); socket.close(); };
  socket.onerror = () => resolve("refused");
})"""

SAME_ORIGIN_ROUTE = """async () => (await fetch("/api/venues/jp/route", {
  method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({channel: "gz-hall-3"}),
})).status"""


@pytest.fixture
async def attacker_url(live_url: str) -> AsyncIterator[str]:
    """Another origin on 127.0.0.1 serving the attack page against ``live_url``."""
    page = ATTACK_PAGE.format(target=live_url, ws_target=live_url.replace("http", "ws"))

    async def attack(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", attack)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_another_origin_cannot_use_the_directors_cookie(
    browser: Browser, live_url: str, attacker_url: str, app: web.Application
) -> None:
    assert attacker_url != live_url
    context = await browser.new_context()
    page = await context.new_page()
    director = mint(app, "director", "Director Wang")
    await page.goto(f"{live_url}/join?token={director}&next=/healthz")
    cookies = await context.cookies(live_url)
    assert [c["name"] for c in cookies] == ["vb_token"]

    await page.goto(attacker_url)
    assert await page.evaluate("window.socketResult") == "refused"
    assert len(app[HUB].clients.everyone()) == 0

    async with page.expect_navigation() as navigation:
        await page.evaluate("document.getElementById('route').submit()")
    response = await navigation.value
    assert response is not None
    assert response.status == 403
    assert "another site" in await page.content()
    assert app[MEDIA].venue_output("jp").routed_channel != "gz-hall-2"

    # The same cookie from our own origin works: the refusals above were the Origin check.
    await page.goto(f"{live_url}/healthz")
    assert await page.evaluate(SAME_ORIGIN_SOCKET) == "open"
    assert await page.evaluate(SAME_ORIGIN_ROUTE) == 202
    assert app[MEDIA].venue_output("jp").routed_channel == "gz-hall-3"
    await context.close()

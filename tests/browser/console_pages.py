"""The venue console's pages in Chromium, for the tests that drive them: which peer
connection of a page to count frames on, how to open the console and route hall 2 to
Japan, and small predicates on locators for ``eventually``.

Shared by ``test_venue_console.py``, ``test_console_recovery.py``,
``test_viewer_phone.py`` and ``test_slate_browser.py``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from playwright.async_api import Browser, Page

from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer

# A moment when the Japan sub-venue's forum (with Q&A) is on air.
DURING_JP_FORUM = "2018-12-21T02:30:00Z"
JP_ROOM = "gba-new-materials"

# Video frames decoded by the peer connection that `expr` names, 0 without one.
FRAMES = """async (expr) => {
  const pc = eval(expr);
  if (!pc) return 0;
  let frames = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") frames = r.framesDecoded || 0;
  });
  return frames;
}"""
PROJECTOR = "window.vbConsole && window.vbConsole.projector.pc"
WALL_JP = "window.vbWall && window.vbWall.links['jp-return'].pc"
VIEWER = "window.vbPlayer && window.vbPlayer.pc"
RETURN = "window.vbConsole && window.vbConsole.returnFeed.pc"


async def frames(page: Page, expr: str) -> int:
    return int(await page.evaluate(FRAMES, expr))


async def decoding(
    page: Page, expr: str, what: str, at_least: int = 30, within: float = 20
) -> None:
    async def enough() -> bool:
        return await frames(page, expr) >= at_least

    await eventually(enough, what, within=within)


async def mark_connections(page: Page, expr: str) -> None:
    """Tag the page's current peer connection, so a recovered one can be told apart."""
    await page.evaluate(f"() => {{ ({expr}).vbOld = true; }}")


async def recovered(page: Page, expr: str) -> bool:
    """A new peer connection (not the tagged one) has decoded 10 frames."""
    fresh = await page.evaluate(f"() => Boolean({expr}) && !({expr}).vbOld")
    return bool(fresh) and await frames(page, expr) >= 10


async def publish_hall(browser: Browser, url: str, channel: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{url}/publish/{channel}?token={PRODUCER_SECRET}&autostart=1")
    return page


async def route(server: MediaServer, venue: str, channel: str, token: str) -> None:
    async with server.http.post(
        f"{server.url}/api/venues/{venue}/route",
        data=json.dumps({"channel": channel}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ) as response:
        assert response.status == 202, await response.text()


async def open_console(browser: Browser, url: str, token: str) -> Page:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    # Through the invite link: the page's scripts authenticate with the cookie it sets.
    target = quote(f"/venue/jp?at={DURING_JP_FORUM}", safe="")
    await page.goto(f"{url}/join?token={token}&next={target}")
    return page


def tokens(server: MediaServer) -> dict[str, str]:
    return {
        "operator": mint(server.app, "operator", "jp-operator", venue="jp"),
        "director": mint(server.app, "director", "director-1"),
        "moderator": mint(server.app, "moderator", "mod-1", sessions=[JP_ROOM]),
    }


async def hall_2_on_jp(server: MediaServer, browser: Browser, director: str) -> Page:
    """Hall 2 published from a Chromium page, live, and routed to Japan by ``director``."""
    hall = await publish_hall(browser, server.url, "gz-hall-2")
    await eventually(lambda: server.hub.channel("gz-hall-2").live, "hall 2 to be live", within=20)
    await route(server, "jp", "gz-hall-2", director)
    return hall


async def attr_is(locator: Any, name: str, value: str) -> bool:
    """The element's attribute ``name`` is ``value`` now."""
    return await locator.get_attribute(name) == value


async def value_is(locator: Any, value: str) -> bool:
    """The input's value is ``value`` now."""
    return await locator.input_value() == value


async def level_in(locator: Any, levels: tuple[str, ...]) -> bool:
    """The element's ``data-level`` (a health light) is one of ``levels``."""
    return await locator.get_attribute("data-level") in levels


async def text_is(locator: Any, value: str) -> bool:
    """The element's text, trimmed, is ``value``."""
    return (await locator.text_content() or "").strip() == value


async def text_contains(locator: Any, value: str) -> bool:
    """The element's text contains ``value``."""
    return value in (await locator.text_content() or "")

"""Issue 6 end to end in Chromium: the operator's console (projector, health, going
live), the director's return-feed wall, talkback both ways and a question relayed from
the room to the moderator.

The links recovering after the server drops them are ``test_console_recovery.py``; the
viewer's page on a phone, ``test_viewer_phone.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser.console_pages import (
    JP_ROOM,
    PROJECTOR,
    WALL_JP,
    attr_is,
    decoding,
    hall_2_on_jp,
    level_in,
    open_console,
    route,
    tokens,
)
from tests.helpers import eventually
from tests.integration.conftest import MediaServer
from tests.media_peers import needs_network

# Other tests imported these from here before the helpers had a module of their own.
__all__ = ["PROJECTOR", "decoding", "open_console", "route"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]


async def test_operator_console_end_to_end(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server, hub = media_server, media_server.hub
    keys = tokens(server)
    hall = await hall_2_on_jp(server, browser, keys["director"])

    # The operator's projector shows what the director routed to Japan.
    console = await open_console(browser, server.url, keys["operator"])
    await decoding(console, PROJECTOR, "the projector to play hall 2")
    assert await console.evaluate("document.getElementById('projector').videoWidth") > 0
    await eventually(
        lambda: hub.venue_output("jp").routed_channel == "gz-hall-2", "jp to carry hall 2"
    )
    # The console says what is on air here, from the director's matrix.
    routed = console.locator("#projector-routed")
    await console.locator('#projector-routed[data-channel="gz-hall-2"]').wait_for()
    assert "Hall 2 - Forum Hall" in (await routed.text_content() or "")

    # Going live sends the room back; the wall in Guangzhou plays it.
    await console.click("#go-live")
    await eventually(lambda: hub.channel("jp-return").live, "the jp return feed", within=20)
    wall_context = await browser.new_context(viewport={"width": 1400, "height": 1100})
    wall = await wall_context.new_page()
    await wall.goto(f"{server.url}/join?token={keys['director']}&next=/returns")
    await decoding(wall, WALL_JP, "the wall to play the jp return feed", within=25)
    jp_tile = wall.locator("[data-venue=jp]")
    await eventually(
        lambda: attr_is(jp_tile.locator("[data-operator]"), "data-state", "online"),
        "the wall to show the jp operator online",
    )
    assert await wall.locator("[data-venue=us] [data-operator]").get_attribute("data-state") == (
        "offline"
    )
    # Health panels on both sides read real numbers and light up.
    for page, panel in (
        (console, "#health-in"),
        (console, "#health-out"),
        (wall, "[data-venue=jp] [data-health]"),
    ):
        await eventually(
            lambda p=page, s=panel: level_in(p.locator(s), ("green", "amber")),
            f"a lit health light at {panel}",
        )
    assert "kbit/s" in (
        await console.locator("#health-in [data-stat=bitrate]").text_content() or ""
    )

    # Talkback both ways.
    await console.fill("#talkback input[name=text]", "Projector <b>ready</b> in Tokyo")
    await console.click("#talkback button[type=submit]")
    line = wall.locator("#talkback .talkback-line").filter(has_text="Projector <b>ready</b>")
    await line.wait_for(timeout=5000)
    await wall.select_option("#talkback select[name=venue]", "jp")
    await wall.fill("#talkback input[name=text]", "Cutting to the summit in 2 minutes")
    await wall.click("#talkback button[type=submit]")
    await (
        console.locator("#talkback .talkback-line.from-director")
        .filter(has_text="Cutting to the summit")
        .wait_for(timeout=5000)
    )

    # A question relayed from the room reaches the moderator, marked with its venue.
    moderator = await browser.new_page()
    await moderator.goto(f"{server.url}/join?token={keys['moderator']}&next=/moderate/{JP_ROOM}")
    assert await console.input_value("#relay-session") == JP_ROOM  # the on-air session
    await console.fill("#relay-text", "How do Tokyo labs join the materials programme?")
    await console.fill("#relay-name", "Dr. Sato")
    await console.click("#relay button[type=submit]")
    await console.locator("#relay-message[data-state=ok]").wait_for(timeout=5000)
    relayed = moderator.locator("li", has_text="How do Tokyo labs join")
    await relayed.first.wait_for(timeout=5000)
    meta = await relayed.first.text_content() or ""
    # Marked with the venue's name, not the raw origin label and id.
    assert "relayed from Japan sub-venue (Tokyo)" in meta
    assert "sub_venue" not in meta

    await console.screenshot(path=shots / "operator-console.png", full_page=True)
    await wall.screenshot(path=shots / "return-wall.png", full_page=True)
    await moderator.screenshot(path=shots / "moderator-relayed.png", full_page=True)
    await hall.close()

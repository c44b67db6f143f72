"""What the operator console and the viewer pages say while a source is lost or a venue
shows the slate: never "playing" or "not started"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator

from tests.browser.fake_health import FakeHealth
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

# The Japan forum on Hall 2 (with Q&A) is on air at this moment.
DURING_JP_FORUM = "2018-12-21T02:30:00Z"
JP_ROOM = "gba-new-materials"
INTERRUPTED_EN = "Signal interrupted, reconnecting…"
INTERRUPTED_ZH = "信号中断，正在重连…"


async def _says(locator: Locator, text: str) -> bool:
    return (await locator.text_content() or "").strip() == text


async def _route(server: MediaServer, venue: str, channel: str | None) -> None:
    async with server.http.post(
        f"{server.url}/api/venues/{venue}/route",
        data=json.dumps({"channel": channel}),
        headers={"Authorization": f"Bearer {PRODUCER_SECRET}"},
    ) as response:
        assert response.status == 202, await response.text()


async def test_console_and_viewers_say_the_signal_is_interrupted(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server, hub = media_server, media_server.hub
    health = FakeHealth()
    errors: list[str] = []

    # Before any publisher: the schedule says the forum is on, so a phone does not say
    # "not started" but that the signal is interrupted.
    early = await (await browser.new_context(locale="en-GB")).new_page()
    await early.goto(f"{server.url}/watch/gz-hall-2?at={DURING_JP_FORUM}&lang=en")
    await eventually(lambda: _says(early.locator("#status"), INTERRUPTED_EN), "interrupted (early)")
    await early.close()

    peer = await publish(server.http, f"{server.url}/whip/gz-hall-2", PRODUCER_SECRET, luma=140)
    try:
        await eventually(lambda: hub.channel("gz-hall-2").live, "hall 2 live")
        await _route(server, "jp", "gz-hall-2")
        operator = mint(server.app, "operator", "jp-operator", venue="jp")
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        console = await context.new_page()
        console.on("pageerror", lambda e: errors.append(str(e)))
        await health.attach(console)
        # The invite link signs the console in (cookie); then the page at the pinned time.
        await console.goto(f"{server.url}/join?token={operator}")
        await console.goto(f"{server.url}/venue/jp?at={DURING_JP_FORUM}")
        viewers: list[tuple[Any, str]] = []
        for query, words in (
            (f"session={JP_ROOM}&lang=en", INTERRUPTED_EN),  # the Q&A page's socket
            ("lang=zh", INTERRUPTED_ZH),  # the plain player's socket
        ):
            page = await (await browser.new_context()).new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            await health.attach(page)
            await page.goto(f"{server.url}/watch/gz-hall-2?{query}")
            viewers.append((page, words))

        pill = console.locator("#projector-state")
        await eventually(lambda: _says(pill, "playing"), "the projector playing")
        for page, _ in viewers:
            await page.locator("#status[data-state=live]").wait_for()

        health.set("gz-hall-2", "lost")
        await eventually(lambda: _says(pill, INTERRUPTED_EN), "the console to say interrupted")
        assert await pill.get_attribute("data-state") == "lost"
        routed = await console.locator("#projector-routed").text_content() or ""
        assert routed.startswith(INTERRUPTED_EN)
        for page, words in viewers:
            await eventually(lambda p=page, w=words: _says(p.locator("#status"), w), words)
        await console.screenshot(path=shots / "console-source-lost.png", full_page=True)
        await viewers[1][0].screenshot(path=shots / "viewer-source-lost-zh.png")

        health.set("gz-hall-2", "live")
        await eventually(lambda: _says(pill, "playing"), "the console playing again")
        for page, _ in viewers:
            await page.locator("#status[data-state=live]").wait_for()

        # Routed to black: the slate, in words.
        await _route(server, "jp", None)
        await eventually(
            lambda: _says(pill, "Nothing is routed here (slate)"), "the console to say slate"
        )
        assert (
            await console.locator("#projector-routed").text_content() or ""
        ) == "Nothing is routed here (slate)"
        await console.screenshot(path=shots / "console-slate.png", full_page=True)
        assert errors == []
    finally:
        await peer.pc.close()

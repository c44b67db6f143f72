"""The director's page in Chromium: preset-then-take with a confirmation before an on-air
venue is cut away, the alarm for a lost source, and the monitors with their tallies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.browser.fake_health import FakeHealth
from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, publish
from web.keys import ROUTING

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

FRAMES = """async (key) => {
  const link = window.vbDirector && window.vbDirector.monitors.get(key);
  if (!link || !link.pc) return 0;
  let frames = 0;
  (await link.pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") frames = r.framesDecoded || 0;
  });
  return frames;
}"""


def xpt(page: Page, venue: str, channel: str) -> Any:
    return page.locator(f'button.xpt[data-venue="{venue}"][data-channel="{channel}"]')


def requested(server: MediaServer, venue: str) -> str | None:
    row = next(r for r in server.app[ROUTING].matrix()["venues"] if r["venue"] == venue)
    return (row["requested"] or {}).get("channel")


async def monitor_frames(page: Page, key: str) -> int:
    return int(await page.evaluate(FRAMES, key))


async def test_preset_then_take_confirmation_alarm_and_monitors(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server, hub = media_server, media_server.hub
    peers = [
        await publish(server.http, f"{server.url}/whip/gz-hall-1", PRODUCER_SECRET, luma=200),
        await publish(server.http, f"{server.url}/whip/gz-hall-2", PRODUCER_SECRET, luma=40),
    ]
    try:
        await eventually(lambda: hub.channel("gz-hall-1").live, "hall 1 live")
        await eventually(lambda: hub.channel("gz-hall-2").live, "hall 2 live")
        async with server.http.post(
            f"{server.url}/api/venues/jp/route",
            data=json.dumps({"channel": "gz-hall-1"}),
            headers={"Authorization": f"Bearer {PRODUCER_SECRET}"},
        ) as response:
            assert response.status == 202

        health = FakeHealth()
        token = mint(server.app, "director", "Director Li")
        # The monitors' WHEP requests carry the invite cookie; until WHEP reads it (the
        # security work, issue 10), the director's token rides along as a header too.
        context = await browser.new_context(
            viewport={"width": 1400, "height": 1100},
            extra_http_headers={"Authorization": f"Bearer {token}"},
        )
        director = await context.new_page()
        errors: list[str] = []
        director.on("pageerror", lambda e: errors.append(str(e)))
        await health.attach(director)
        await director.goto(f"{server.url}/join?token={token}")
        assert director.url.endswith("/director")
        await xpt(director, "jp", "gz-hall-1").and_(director.locator(".on-air")).wait_for()

        # A click only presets: highlighted, nothing sent yet.
        await xpt(director, "jp", "gz-hall-2").click()
        await xpt(director, "jp", "gz-hall-2").and_(director.locator(".preset")).wait_for()
        assert await director.locator("#take").is_enabled()
        assert requested(server, "jp") == "gz-hall-1"

        # Enter takes; Japan is on air, so the page asks first. Cancel keeps everything.
        await director.keyboard.press("Enter")
        dialog = director.locator("#confirm-take")
        await dialog.wait_for(state="visible")
        listed = await dialog.locator("#confirm-list").text_content() or ""
        assert (
            "Japan sub-venue (Tokyo): Hall 1 - Summit Hall (on air) → Hall 2 - Forum Hall" in listed
        )
        await dialog.locator("button[value=cancel]").click()
        await dialog.wait_for(state="hidden")
        assert requested(server, "jp") == "gz-hall-1"
        assert await xpt(director, "jp", "gz-hall-2").get_attribute("class") == "xpt preset"

        # A venue with nothing on air needs no confirmation; one TAKE sends both presets.
        await xpt(director, "us", "gz-hall-1").click()
        await director.click("#take")
        await dialog.wait_for(state="visible")
        await director.screenshot(path=shots / "director-confirm.png")
        await dialog.locator("button[value=take]").click()
        await xpt(director, "jp", "gz-hall-2").and_(director.locator(".on-air")).wait_for()
        await xpt(director, "us", "gz-hall-1").and_(director.locator(".on-air")).wait_for()
        assert await director.locator("button.xpt.preset").count() == 0
        assert await director.locator("#take").is_disabled()

        # Monitors: both live sources and both routed outputs play, with their tallies.
        for key in ("channel:gz-hall-1", "channel:gz-hall-2", "venue:jp", "venue:us"):
            await eventually(
                lambda k=key: _at_least(monitor_frames(director, k), 10),
                f"{key} monitor frames",
                20,
            )
        hall1 = director.locator('[data-monitor=channel][data-channel="gz-hall-1"]')
        assert "on air at United States sub-venue (Silicon Valley)" in (
            await hall1.locator("[data-tally]").text_content() or ""
        )
        assert await director.locator(
            '[data-monitor=channel][data-channel="gz-hall-3"]'
        ).is_hidden()

        # Hall 1's source is lost: the alarm names it and the venue it leaves dark.
        await director.check("#alarm-sound")
        health.set("gz-hall-1", "lost")
        alarm = director.locator("#alarm")
        await alarm.wait_for(state="visible")
        text = await alarm.text_content() or ""
        assert "SIGNAL LOST: Hall 1 - Summit Hall" in text
        assert "off air at United States sub-venue (Silicon Valley)" in text
        assert "Japan" not in text
        assert await hall1.get_attribute("data-state") == "lost"
        us_output = director.locator('[data-monitor=venue][data-venue="us"] [data-health]')
        assert await us_output.text_content() == "SIGNAL LOST"
        await director.screenshot(path=shots / "director-alarm.png", full_page=True)

        health.set("gz-hall-1", "live")
        await alarm.wait_for(state="hidden")
        assert errors == []
    finally:
        for peer in peers:
            await peer.pc.close()


async def _at_least(value: Any, least: int) -> bool:
    return int(await value) >= least

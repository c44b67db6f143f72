"""Issue 6 end to end in Chromium: operator console, return-feed wall, talkback, relay,
and both the operator's and a viewer's links recovering after the server drops them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from config import Event, Settings
from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import Publisher, free_port, needs_network, publish
from web.app import create_app
from web.keys import HUB, MEDIA
from web.server import start_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

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


async def test_operator_console_end_to_end(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server, hub = media_server, media_server.hub
    keys = tokens(server)
    hall = await publish_hall(browser, server.url, "gz-hall-2")
    await eventually(lambda: hub.channel("gz-hall-2").live, "hall 2 to be live", within=20)
    await route(server, "jp", "gz-hall-2", keys["director"])

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
        lambda: _attr(jp_tile.locator("[data-operator]"), "data-state", "online"),
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
            lambda p=page, s=panel: _level_in(p.locator(s), ("green", "amber")),
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


async def test_viewer_and_operator_recover_after_the_server_drops_them(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server, hub = media_server, media_server.hub
    keys = tokens(server)
    hall = await publish_hall(browser, server.url, "gz-hall-2")
    await eventually(lambda: hub.channel("gz-hall-2").live, "hall 2 to be live", within=20)
    await route(server, "jp", "gz-hall-2", keys["director"])
    console = await open_console(browser, server.url, keys["operator"])
    await console.click("#go-live")
    viewer = await (await browser.new_context()).new_page()
    await viewer.goto(f"{server.url}/watch/gz-hall-2?session={JP_ROOM}&lang=en")
    await decoding(console, PROJECTOR, "the projector to play")
    await decoding(viewer, VIEWER, "the viewer to play")
    await eventually(lambda: hub.channel("jp-return").live, "the return feed", within=20)
    hall_publishers = {p.id for p in hub.publishers() if p.channel == "gz-hall-2"}
    assert await console.locator("#ws-status").get_attribute("data-state") == "online"

    # The server drops every session but the hall's camera, and every websocket.
    await mark_connections(console, PROJECTOR)
    await mark_connections(viewer, VIEWER)
    sessions = [*hub.subscribers(), *hub.publishers()]
    dropped = [s.id for s in sessions if s.id not in hall_publishers]
    assert len(dropped) >= 3  # projector, viewer, return feed
    started = time.monotonic()
    for session_id in dropped:
        await hub.end(session_id)
    server.app[HUB].drop_all("test: the server drops everyone")
    assert not hub.channel("jp-return").live

    await eventually(lambda: recovered(console, PROJECTOR), "the projector back", within=5)
    await eventually(lambda: recovered(viewer, VIEWER), "the viewer back", within=5)
    await eventually(lambda: hub.channel("jp-return").live, "the return feed back", within=5)
    await eventually(
        lambda: _attr(console.locator("#ws-status"), "data-state", "online"),
        "the websocket back",
        within=5,
    )
    assert time.monotonic() - started < 5.5
    assert await console.locator("#return-state").get_attribute("data-state") == "live"
    assert await console.evaluate("window.vbConsole.returnFeed.reconnects") >= 1
    for panel in ("#health-in", "#health-out"):
        await eventually(
            lambda s=panel: _level_in(console.locator(s), ("green", "amber")),
            f"the {panel} light lit again",
        )
    await console.screenshot(path=shots / "operator-console-recovered.png", full_page=True)
    await viewer.screenshot(path=shots / "viewer-recovered.png", full_page=True)
    await hall.close()


async def test_viewer_page_in_both_languages_and_on_a_phone(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server = media_server
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Berlin",
        locale="zh-CN",
    )
    page = await phone.new_page()
    await page.goto(f"{server.url}/session/{JP_ROOM}?at={DURING_JP_FORUM}")
    # A Chinese browser gets Chinese; the schedule shows the viewer's own zone first.
    await eventually(lambda: _text(page.locator("#qa-panel h2"), "互动提问"), "Chinese UI")
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    await eventually(lambda: _text(page.locator("#zone-name"), "Europe/Berlin"), "viewer zone")
    on_air = page.locator("#schedule li[data-state=on-air]")
    await on_air.wait_for(timeout=5000)
    assert (await on_air.locator(".when").text_content() or "").find("03:00") >= 0  # 10:00 CST
    await page.click("#zone-event")
    await eventually(
        lambda: _contains(on_air.locator(".when"), "10:00"), "event time (Asia/Shanghai)"
    )
    # No sideways scrolling on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Ask in Chinese; the asker sees it (pending) and the count of viewers includes us.
    await page.fill("#ask-text", "请问东京的实验室如何参与？")
    await page.click("#ask button[type=submit]")
    await page.locator("#questions li", has_text="东京的实验室").wait_for(timeout=5000)
    await eventually(lambda: _text(page.locator("#viewer-count"), "1"), "one viewer counted")
    await page.screenshot(path=shots / "viewer-phone-zh.png", full_page=True)

    assert "月" in (await on_air.locator(".when").text_content() or "")
    assert await page.locator("#answered-head").is_hidden()
    await page.click("#language")
    await eventually(lambda: _text(page.locator("#qa-panel h2"), "Questions"), "English UI")
    await eventually(lambda: _contains(on_air.locator(".when"), "Dec"), "dates in English")
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=shots / "viewer-phone-en.png", full_page=True)

    desktop = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await desktop.goto(
        f"{server.url}/watch/gz-hall-2?session={JP_ROOM}&lang=en&at={DURING_JP_FORUM}"
    )
    await eventually(lambda: _text(desktop.locator("#qa-panel h2"), "Questions"), "English UI")
    await desktop.screenshot(path=shots / "viewer-desktop-en.png", full_page=True)


async def _attr(locator: Any, name: str, value: str) -> bool:
    return await locator.get_attribute(name) == value


async def _value(locator: Any, value: str) -> bool:
    return await locator.input_value() == value


async def _level_in(locator: Any, levels: tuple[str, ...]) -> bool:
    return await locator.get_attribute("data-level") in levels


async def _text(locator: Any, value: str) -> bool:
    return (await locator.text_content() or "").strip() == value


async def _contains(locator: Any, value: str) -> bool:
    return value in (await locator.text_content() or "")


async def _serve(settings: Settings, event: Event, port: int) -> web.AppRunner:
    app = create_app(settings, event)
    return (await start_server(app, settings, host="127.0.0.1", port=port)).runner


async def _feed_hall_2(http: aiohttp.ClientSession, url: str) -> Publisher:
    """The hall's encoder (an aiortc peer), publishing and routed to Japan."""
    publisher = await publish(http, f"{url}/whip/gz-hall-2", PRODUCER_SECRET, luma=140)
    async with http.post(
        f"{url}/api/venues/jp/route",
        json={"channel": "gz-hall-2"},
        headers={"Authorization": f"Bearer {PRODUCER_SECRET}"},
    ) as response:
        assert response.status == 202, await response.text()
    return publisher


async def test_pages_recover_when_the_server_restarts_on_the_same_port(
    media_settings: Settings, reference_event: Event, browser: Browser, shots: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runner = await _serve(media_settings, reference_event, port)
    async with aiohttp.ClientSession() as http:
        encoder = await _feed_hall_2(http, url)
        operator = mint(runner.app, "operator", "jp-operator", venue="jp")
        console = await open_console(browser, url, operator)
        await console.click("#go-live")
        viewer = await (await browser.new_context()).new_page()
        await viewer.goto(f"{url}/watch/gz-hall-2?session={JP_ROOM}")
        await decoding(console, PROJECTOR, "the projector to play")
        await decoding(viewer, VIEWER, "the viewer to play")
        await eventually(
            lambda: runner.app[MEDIA].channel("jp-return").live, "the return feed", within=20
        )

        await mark_connections(console, PROJECTOR)
        await mark_connections(viewer, VIEWER)
        # Restart: the same settings (so the same signing key) on the same port.
        await encoder.pc.close()
        await runner.cleanup()
        await eventually(
            lambda: _attr(console.locator("#ws-status"), "data-state", "offline"),
            "the console to notice the server is gone",
        )
        runner = await _serve(media_settings, reference_event, port)
        try:
            started = time.monotonic()
            encoder = await _feed_hall_2(http, url)
            hub = runner.app[MEDIA]

            await eventually(lambda: recovered(console, PROJECTOR), "the projector back", within=5)
            await eventually(lambda: recovered(viewer, VIEWER), "the viewer back", within=5)
            await eventually(lambda: hub.channel("jp-return").live, "the return back", within=5)
            await eventually(
                lambda: _attr(console.locator("#ws-status"), "data-state", "online"),
                "the console's websocket back",
                within=5,
            )
            assert time.monotonic() - started < 6
            # The operator's place is kept: the same venue, the same camera, still live.
            assert await console.locator("#return-state").get_attribute("data-state") == "live"
            await console.screenshot(path=shots / "operator-console-after-restart.png")
            # Switching the microphone while live republishes; a reload keeps the choice.
            microphones = await console.eval_on_selector_all(
                "#microphone option", "options => options.map(o => o.value)"
            )
            assert len(microphones) >= 2, microphones
            assert await console.input_value("#microphone") != microphones[-1]
            await mark_connections(console, RETURN)
            await console.select_option("#microphone", microphones[-1])
            republished = (
                f"() => Boolean({RETURN}) && !({RETURN}).vbOld"
                " && window.vbConsole.returnFeed.state === 'live'"
            )
            await eventually(
                lambda: console.evaluate(republished), "the return feed live on the new microphone"
            )
            await eventually(lambda: hub.channel("jp-return").live, "the return feed on air again")
            camera = await console.input_value("#camera")
            await console.reload()
            await eventually(
                lambda: _value(console.locator("#microphone"), microphones[-1]),
                "the chosen microphone after a reload",
            )
            assert await console.input_value("#camera") == camera
            await encoder.pc.close()
        finally:
            await runner.cleanup()

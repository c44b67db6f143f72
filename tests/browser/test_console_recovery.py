"""The console's and a viewer's links recover in Chromium: after the server drops every
session and websocket, and after it restarts on the same port (the operator's place,
microphone and camera kept)."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser

from config import Event, Settings
from tests.browser.console_pages import (
    JP_ROOM,
    PROJECTOR,
    RETURN,
    VIEWER,
    attr_is,
    decoding,
    hall_2_on_jp,
    level_in,
    mark_connections,
    open_console,
    recovered,
    tokens,
    value_is,
)
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


async def test_viewer_and_operator_recover_after_the_server_drops_them(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server, hub = media_server, media_server.hub
    keys = tokens(server)
    hall = await hall_2_on_jp(server, browser, keys["director"])
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
        lambda: attr_is(console.locator("#ws-status"), "data-state", "online"),
        "the websocket back",
        within=5,
    )
    assert time.monotonic() - started < 5.5
    assert await console.locator("#return-state").get_attribute("data-state") == "live"
    assert await console.evaluate("window.vbConsole.returnFeed.reconnects") >= 1
    for panel in ("#health-in", "#health-out"):
        await eventually(
            lambda s=panel: level_in(console.locator(s), ("green", "amber")),
            f"the {panel} light lit again",
        )
    await console.screenshot(path=shots / "operator-console-recovered.png", full_page=True)
    await viewer.screenshot(path=shots / "viewer-recovered.png", full_page=True)
    await hall.close()


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
            lambda: attr_is(console.locator("#ws-status"), "data-state", "offline"),
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
                lambda: attr_is(console.locator("#ws-status"), "data-state", "online"),
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
                lambda: value_is(console.locator("#microphone"), microphones[-1]),
                "the chosen microphone after a reload",
            )
            assert await console.input_value("#camera") == camera
            await encoder.pc.close()
        finally:
            await runner.cleanup()

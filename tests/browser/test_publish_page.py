"""The producer's /publish page: it comes back by itself after a server restart, keeps its
devices, shows the on-air tally, and the producer's invite link signs it in."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from config import Event, Settings
from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import Subscriber, free_port, needs_network, subscribe
from web.app import create_app
from web.keys import MEDIA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

RESTART_BOUND_S = 10.0


async def _serve(settings: Settings, event: Event, port: int) -> web.AppRunner:
    runner = web.AppRunner(create_app(settings, event))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def _state(page: Page) -> str | None:
    return await page.locator("#status").get_attribute("data-state")


async def _frames_at_a_player(
    http: aiohttp.ClientSession, app: web.Application, url: str
) -> Subscriber:
    """A WHEP player of hall 2, opened once the channel is live again, with frames."""
    await eventually(lambda: app[MEDIA].channel("gz-hall-2").live, "hall 2 live again", 15)
    player = await subscribe(http, url)

    async def playing() -> bool:
        return player.frames >= 5

    await eventually(playing, "frames at a player of hall 2", within=RESTART_BOUND_S)
    return player


async def test_publish_page_comes_back_after_the_server_restarts(
    media_settings: Settings, reference_event: Event, browser: Browser, shots: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runner = await _serve(media_settings, reference_event, port)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{url}/publish/gz-hall-2?token={PRODUCER_SECRET}&autostart=1")
    await eventually(lambda: runner.app[MEDIA].channel("gz-hall-2").live, "hall 2 live", 20)
    await eventually(lambda: _says(page, "live"), "the page to say live")
    camera = await page.input_value("#camera")
    microphone = await page.input_value("#microphone")
    assert camera
    assert microphone

    # The tally: Japan's output carries the channel.
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/api/venues/jp/route",
            json={"channel": "gz-hall-2"},
            headers={"Authorization": f"Bearer {PRODUCER_SECRET}"},
        ) as response:
            assert response.status == 202, await response.text()
        tally = page.locator("#tally")
        await tally.wait_for(state="visible", timeout=10000)
        assert (await tally.text_content() or "").strip() == "ON AIR at Japan sub-venue (Tokyo)"
        await page.screenshot(path=shots / "publish-on-air.png")

        # kill the server, start it again on the same port with the same settings.
        await runner.cleanup()
        await eventually(lambda: _says(page, "reconnecting"), "the page to say reconnecting")
        assert "Reconnecting in" in (await page.locator("#status").text_content() or "")
        await page.screenshot(path=shots / "publish-reconnecting.png")
        runner = await _serve(media_settings, reference_event, port)
        started = time.monotonic()
        try:
            player = await _frames_at_a_player(http, runner.app, f"{url}/whep/gz-hall-2")
            back_after = time.monotonic() - started
            print(
                f"\npublish page after a server restart: frames at a player in {back_after:.2f} s"
            )
            assert back_after <= RESTART_BOUND_S
            await player.close()
            await eventually(lambda: _says(page, "live"), "the page to say live again")
            # The same devices as before, and the page counted its reconnect.
            assert await page.input_value("#camera") == camera
            assert await page.input_value("#microphone") == microphone
            assert await page.evaluate("window.vbPublish.link.reconnects") >= 1
            await page.screenshot(path=shots / "publish-back.png")
        finally:
            await page.close()
            await runner.cleanup()
    assert errors == []


async def _says(page: Page, wanted: str) -> bool:
    return await _state(page) == wanted


async def test_producer_invite_lands_on_the_publish_page_and_signs_it_in(
    media_server: MediaServer, browser: Browser
) -> None:
    server = media_server
    token = mint(server.app, "producer", "Hall 3 crew", channels=["gz-hall-3"])
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{server.url}/join?token={token}")
    assert page.url == f"{server.url}/publish/gz-hall-3"
    # Signed in by the cookie: no key to paste (the field stays folded away).
    assert not await page.locator("details.stream-key").get_attribute("open")
    assert "Hall 3 crew" in (await page.locator("details.stream-key").text_content() or "")

    # The WHIP offer goes out with the cookie and no Bearer token.
    async with page.expect_request(lambda r: "/whip/gz-hall-3" in r.url) as posted:
        await page.click("#start")
    request = await posted.value
    headers = await request.all_headers()
    assert "vb_token=" in headers.get("cookie", "")
    assert "authorization" not in headers
    assert request.url.endswith("/whip/gz-hall-3")

    # "Publish as backup" posts to the backup input.
    await page.click("#stop")
    await page.check("#backup")
    async with page.expect_request(lambda r: "/whip/gz-hall-3" in r.url) as posted:
        await page.click("#start")
    assert (await posted.value).url.endswith("/whip/gz-hall-3?backup=1")

    # A producer of several channels gets a chooser.
    several = mint(server.app, "producer", "Roaming crew", channels=["gz-hall-1", "gz-hall-2"])
    chooser = await (await browser.new_context()).new_page()
    await chooser.goto(f"{server.url}/join?token={several}")
    assert chooser.url == f"{server.url}/publish"
    links = await chooser.eval_on_selector_all(
        ".channel-choice a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert links == ["/publish/gz-hall-1", "/publish/gz-hall-2"]

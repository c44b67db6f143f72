"""Chromium: a viewer asks, the moderator approves, translates and stages, the stage shows it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright, expect

from config import Event, Settings
from signaling.auth import Grant, Role
from tests.helpers import local_settings
from web.app import create_app
from web.keys import AUTHORITY

pytestmark = pytest.mark.browser
ROOM = "overseas-talents-summit"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-gpu", "--disable-quic",
]  # fmt: skip
QUESTION = "How do overseas talents apply for the <b>Guangzhou</b> startup grant?"


@pytest.fixture
async def server(settings: Settings, reference_event: Event) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(settings, reference_event), host="127.0.0.1", port=0) as s:
        yield s


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def test_ask_approve_translate_and_stage(
    server: TestServer, browser: Browser, shots: Path
) -> None:
    base = str(server.make_url("")).rstrip("/")
    await flow(browser, shots, base, base, base, _moderator_token(server))


async def test_the_same_flow_across_two_nodes_on_redis(
    browser: Browser, tmp_path: Path, shots: Path, reference_event: Event, redis_url: str
) -> None:
    """Viewer and stage on node a, the moderator on node b; one redis-server between them."""
    servers = []
    try:
        for name in ("a", "b"):
            settings = local_settings(
                host="127.0.0.1", port=0, data_dir=tmp_path / name, redis_url=redis_url
            )
            event = dataclasses.replace(reference_event, id=f"browser{tmp_path.name[-12:]}")
            server = TestServer(create_app(settings, event), host="127.0.0.1", port=0)
            await server.start_server()
            servers.append(server)
        a, b = (str(s.make_url("")).rstrip("/") for s in servers)
        token = _moderator_token(servers[1])
        await flow(
            browser,
            shots,
            viewer_base=a,
            moderator_base=b,
            stage_base=a,
            token=token,
        )
    finally:
        for server in servers:
            await server.close()


def _moderator_token(server: TestServer) -> str:
    grant = Grant("mod-anna", Role.MODERATOR, sessions=(ROOM,))
    return str(server.app[AUTHORITY].mint(grant, 3600))


async def flow(
    browser: Browser,
    shots: Path,
    viewer_base: str,
    moderator_base: str,
    stage_base: str,
    token: str,
) -> None:
    alerts: list[str] = []

    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    viewer = await phone.new_page()
    viewer.on("dialog", lambda d: alerts.append(d.message))
    await viewer.goto(f"{viewer_base}/qa/{ROOM}")
    await expect(viewer.locator("#status")).to_have_text("online")
    await viewer.fill("#ask-text", QUESTION)
    await viewer.fill("#ask-name", "Lin")
    await viewer.click("button[type=submit]")
    await expect(viewer.locator("#form-message")).to_contain_text("A moderator will look")
    await expect(viewer.locator("#mine .text")).to_have_text(QUESTION)
    await viewer.screenshot(path=shots / "1-viewer-asked.png", full_page=True)

    desk = await browser.new_context(viewport={"width": 1400, "height": 900})
    moderator = await desk.new_page()
    await moderator.goto(f"{moderator_base}/join?token={token}")
    assert moderator.url.endswith(f"/moderate/{ROOM}")
    pending = moderator.locator("#col-pending .question").first
    await expect(pending.locator(".text")).to_have_text(QUESTION)
    # Keyboard only: select with j, approve with a, translate with t, stage with n.
    await moderator.keyboard.press("j")
    await moderator.keyboard.press("a")
    queued = moderator.locator("#col-queue .question").first
    await expect(queued.locator(".text")).to_have_text(QUESTION)

    moderator.on("dialog", lambda d: alerts.append(d.message))
    await queued.focus()
    await moderator.keyboard.press("t")
    translation = queued.locator("form[data-form=translate] textarea")
    await expect(translation).to_be_focused()
    await translation.fill("海外人才如何申请广州创业补贴？")
    await moderator.keyboard.press("Enter")
    await expect(queued.locator(".translation")).to_have_text("海外人才如何申请广州创业补贴？")
    await moderator.fill("#timer", "90")
    await moderator.click("#timer-form button[type=submit]")
    await moderator.locator("body").click(position={"x": 5, "y": 200})
    await moderator.keyboard.press("n")
    await expect(moderator.locator("#col-stage .question.state-on_stage .text")).to_have_text(
        QUESTION
    )
    await expect(moderator.locator("#presence")).to_contain_text("Moderators")
    await moderator.screenshot(path=shots / "2-moderator.png", full_page=True)

    screen = await browser.new_context(viewport={"width": 1920, "height": 1080})
    stage = await screen.new_page()
    await stage.goto(f"{stage_base}/stage/{ROOM}")
    await expect(stage.locator("#stage-text")).to_have_text(QUESTION)
    await expect(stage.locator("#stage-translation")).to_have_text("海外人才如何申请广州创业补贴？")
    await expect(stage.locator("#stage-timer")).to_have_text(re.compile(r"^1:[0-2]\d$"))
    await expect(stage.locator(".stage-qr svg")).to_be_visible()
    await stage.screenshot(path=shots / "3-stage.png")

    # The audience sees it on stage; markup in the text stayed text.
    await expect(viewer.locator("#questions .question.state-on_stage .text")).to_have_text(QUESTION)
    assert await viewer.locator("#questions b").count() == 0
    await viewer.screenshot(path=shots / "4-viewer-on-stage.png", full_page=True)
    assert alerts == []
    print(f"screenshots in {shots}")
    for context in (phone, desk, screen):
        await context.close()

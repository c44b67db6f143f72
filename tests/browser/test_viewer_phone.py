"""The viewer's session page in Chromium on a phone: the browser's language (Chinese),
the viewer's own time zone first, asking a question, then English at one click; and the
watch page on a desktop."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser.console_pages import DURING_JP_FORUM, JP_ROOM, text_contains, text_is
from tests.helpers import eventually
from tests.integration.conftest import MediaServer
from tests.media_peers import needs_network

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]


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
    await eventually(lambda: text_is(page.locator("#qa-panel h2"), "互动提问"), "Chinese UI")
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    await eventually(lambda: text_is(page.locator("#zone-name"), "Europe/Berlin"), "viewer zone")
    on_air = page.locator("#schedule li[data-state=on-air]")
    await on_air.wait_for(timeout=5000)
    assert (await on_air.locator(".when").text_content() or "").find("03:00") >= 0  # 10:00 CST
    await page.click("#zone-event")
    await eventually(
        lambda: text_contains(on_air.locator(".when"), "10:00"), "event time (Asia/Shanghai)"
    )
    # No sideways scrolling on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Ask in Chinese; the asker sees it (pending) and the count of viewers includes us.
    await page.fill("#ask-text", "请问东京的实验室如何参与？")
    await page.click("#ask button[type=submit]")
    await page.locator("#questions li", has_text="东京的实验室").wait_for(timeout=5000)
    await eventually(lambda: text_is(page.locator("#viewer-count"), "1"), "one viewer counted")
    await page.screenshot(path=shots / "viewer-phone-zh.png", full_page=True)

    assert "月" in (await on_air.locator(".when").text_content() or "")
    assert await page.locator("#answered-head").is_hidden()
    await page.click("#language")
    await eventually(lambda: text_is(page.locator("#qa-panel h2"), "Questions"), "English UI")
    await eventually(lambda: text_contains(on_air.locator(".when"), "Dec"), "dates in English")
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=shots / "viewer-phone-en.png", full_page=True)

    desktop = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await desktop.goto(
        f"{server.url}/watch/gz-hall-2?session={JP_ROOM}&lang=en&at={DURING_JP_FORUM}"
    )
    await eventually(lambda: text_is(desktop.locator("#qa-panel h2"), "Questions"), "English UI")
    await desktop.screenshot(path=shots / "viewer-desktop-en.png", full_page=True)

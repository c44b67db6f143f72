from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

pytestmark = pytest.mark.browser


async def test_schedule_renders_and_the_zone_switch_changes_times(
    browser: Browser, live_url: str, shots: Path
) -> None:
    context = await browser.new_context(
        timezone_id="Europe/London", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(live_url + "/")

    opening = page.locator('[data-session="opening"] time.start')
    await opening.wait_for()
    assert await page.locator("li.session").count() == 26
    assert await opening.text_content() == "09:00"
    assert await page.locator("#zone-label").text_content() == "Asia/Shanghai (UTC+08:00)"
    await page.screenshot(path=str(shots / "schedule-event-time.png"), full_page=True)

    # A venue's time: Tokyo is an hour ahead of Guangzhou.
    await page.select_option("#zone", label="Japan sub-venue (Tokyo) · Asia/Tokyo")
    assert await opening.text_content() == "10:00"
    assert await page.locator("#zone-label").text_content() == "Asia/Tokyo (UTC+09:00)"

    # Silicon Valley sees the Guangzhou opening on the evening before.
    await page.select_option(
        "#zone", label="United States sub-venue (Silicon Valley) · America/Los_Angeles"
    )
    assert await opening.text_content() == "Thu 20 Dec 17:00"
    assert await page.locator("#zone-label").text_content() == "America/Los_Angeles (UTC-08:00)"

    # The browser's own zone (London, UTC+0 in December), remembered across a reload.
    await page.select_option("#zone", value="browser")
    assert await opening.text_content() == "01:00"
    assert await page.locator("#zone-label").text_content() == "Europe/London (UTC+00:00)"
    await page.screenshot(path=str(shots / "schedule-browser-time.png"), full_page=True)
    await page.reload()
    await opening.wait_for()
    assert await opening.text_content() == "01:00"

    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Asia/Seoul"
    )
    phone_page = await phone.new_page()
    await phone_page.goto(live_url + "/?venue=kr")
    seoul = phone_page.locator('[data-session="kr-seoul-exchange"] time.start')
    await seoul.wait_for()
    # A venue's page starts in that venue's time when the reader has not chosen one.
    assert await seoul.text_content() == "11:00"
    assert await phone_page.locator("#zone-label").text_content() == "Asia/Seoul (UTC+09:00)"
    await phone_page.screenshot(path=str(shots / "schedule-phone-kr.png"), full_page=False)
    assert errors == []
    await phone.close()
    await context.close()

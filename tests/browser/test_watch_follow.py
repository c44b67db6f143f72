"""``/watch/{channel}`` moves into the next session's Q&A room when it comes on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.async_api import Browser

pytestmark = pytest.mark.browser

# Two seconds before gz-hall-2's materials forum (Q&A) ends at 12:00 Guangzhou time; the
# next session that day is the finance forum at 14:00.
BEFORE_THE_END = "2018-12-21T03:59:58Z"


async def test_the_watch_page_follows_the_channel(browser: Browser, live_url: str) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{live_url}/watch/gz-hall-2?lang=en&at={BEFORE_THE_END}")
    section = page.locator("#watch-page")
    assert await section.get_attribute("data-session") == "gba-new-materials"
    assert await page.locator("#ask").count() == 1

    await page.locator('#watch-page[data-session="sci-tech-finance-forum"]').wait_for(
        timeout=15_000
    )
    assert await page.locator("#ask").count() == 1
    # The pinned clock moved on with the page instead of jumping back to the old session.
    (at,) = parse_qs(urlparse(page.url).query)["at"]
    assert at >= "2018-12-21T04:00:00"
    assert errors == []

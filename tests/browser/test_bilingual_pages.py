"""A Chinese phone and an English laptop: /qa, /watch and the schedule in the browser's
language with the event's titles in it, and the reader's own choice remembered.

Screenshots of each page in both languages go to test-output/<test>/ (look at them: the
Chinese must be glyphs, not boxes; scripts/setup.sh installs a CJK font for Chromium).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

ROOM = "gba-new-materials"
ROOM_EN = "Greater Bay Area New Materials Science and Technology Cooperation Summit Forum"
ROOM_ZH = "粤港澳大湾区新材料科技合作高峰论坛"
NEXT_ZH = "科技创新与科技金融互动发展论坛"  # the next session on the same hall
DURING_FORUM = "2018-12-21T02:30:00Z"
PHONE = {"width": 390, "height": 844}


async def _context(browser: Browser, locale: str) -> BrowserContext:
    return await browser.new_context(
        locale=locale, timezone_id="Asia/Shanghai", viewport=PHONE, is_mobile=True
    )


def _watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def test_qa_on_a_chinese_phone_is_chinese(
    browser: Browser, live_url: str, shots: Path
) -> None:
    phone = await _context(browser, "zh-CN")
    page = await phone.new_page()
    errors = _watch_errors(page)
    assert await page.evaluate("navigator.languages[0]") == "zh-CN"
    await page.goto(f"{live_url}/qa/{ROOM}")
    await expect(page.locator("h1")).to_have_text(ROOM_ZH)
    await expect(page.locator("#status")).to_have_text("在线")
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await expect(page.locator("#ask-form button[type=submit]")).to_have_text("提问")
    await expect(page.locator("label[for=ask-text]")).to_have_text("您的问题")
    # The question is taken as Chinese unless the reader says otherwise.
    assert await page.locator("#ask-language").input_value() == "zh"
    await page.fill("#ask-text", "海外人才如何申请广州创业补贴？")
    await page.click("#ask-form button[type=submit]")
    await expect(page.locator("#form-message")).to_have_text("谢谢！主持人将审核您的问题。")
    await expect(page.locator("#mine .meta")).to_contain_text("匿名 · 等待审核")
    await page.screenshot(path=shots / "qa-zh.png", full_page=True)

    # A language only taken from the browser is not kept as a choice.
    assert [c for c in await phone.cookies() if c["name"] == "vb_lang"] == []
    # The reader switches to English: the title and the words follow, and the choice
    # outlives a reload and reaches the server-drawn schedule (the vb_lang cookie).
    await page.click("#language")
    await expect(page.locator("h1")).to_have_text(ROOM_EN)
    await expect(page.locator("#ask-form button[type=submit]")).to_have_text("Ask")
    await expect(page.locator("#status")).to_have_text("online")
    await page.reload()
    await expect(page.locator("h1")).to_have_text(ROOM_EN)
    await page.goto(f"{live_url}/")
    await expect(page.locator("h1")).to_have_text("Programme")
    assert errors == []
    await phone.close()


async def test_qa_on_an_english_phone_is_english(
    browser: Browser, live_url: str, shots: Path
) -> None:
    phone = await _context(browser, "en-US")
    page = await phone.new_page()
    errors = _watch_errors(page)
    await page.goto(f"{live_url}/qa/{ROOM}")
    await expect(page.locator("h1")).to_have_text(ROOM_EN)
    await expect(page.locator("#status")).to_have_text("online")
    await expect(page.locator("#ask-form button[type=submit]")).to_have_text("Ask")
    assert await page.locator("#ask-language").input_value() == "en"
    await page.screenshot(path=shots / "qa-en.png", full_page=True)
    assert errors == []
    await phone.close()


@pytest.mark.parametrize(
    ("locale", "title", "next_title", "words"),
    [
        ("zh-CN", ROOM_ZH, NEXT_ZH, "互动提问"),
        (
            "en-US",
            ROOM_EN,
            "Science and Technology Innovation and Science and Technology Finance "
            "Interactive Development Forum",
            "Questions",
        ),
    ],
    ids=["zh-CN", "en-US"],
)
async def test_watch_in_the_browsers_language(
    browser: Browser,
    live_url: str,
    shots: Path,
    locale: str,
    title: str,
    next_title: str,
    words: str,
) -> None:
    phone = await _context(browser, locale)
    page = await phone.new_page()
    errors = _watch_errors(page)
    await page.goto(f"{live_url}/watch/gz-hall-2?at={DURING_FORUM}")
    await expect(page.locator("h1")).to_have_text(title)
    await expect(page.locator("#qa-panel h2")).to_have_text(words)
    schedule = page.locator("#schedule li .what")
    await expect(schedule.first).to_have_text(title)
    await expect(schedule.nth(1)).to_have_text(next_title)
    await page.screenshot(path=shots / f"watch-{locale}.png", full_page=True)
    assert errors == []
    await phone.close()


async def test_the_watch_page_language_button_switches_the_titles(
    browser: Browser, live_url: str
) -> None:
    phone = await _context(browser, "zh-CN")
    page = await phone.new_page()
    await page.goto(f"{live_url}/watch/gz-hall-2?at={DURING_FORUM}")
    await expect(page.locator("#schedule li .what").first).to_have_text(ROOM_ZH)
    await page.click("#language")
    await expect(page.locator("h1")).to_have_text(ROOM_EN)
    await expect(page.locator("#schedule li .what").first).to_have_text(ROOM_EN)
    await expect(page.locator(".event-name")).to_have_text(
        "2018 Convention on Exchange of Overseas Talents (2018 CEOT)"
    )
    await phone.close()


@pytest.mark.parametrize(
    ("locale", "heading", "title", "zone_option"),
    [
        ("zh-CN", "大会日程", ROOM_ZH, "我的时区 · Asia/Shanghai"),
        ("en-US", "Programme", ROOM_EN, "My time zone · Asia/Shanghai"),
    ],
    ids=["zh-CN", "en-US"],
)
async def test_the_schedule_in_the_browsers_language(
    browser: Browser,
    live_url: str,
    shots: Path,
    locale: str,
    heading: str,
    title: str,
    zone_option: str,
) -> None:
    context = await browser.new_context(
        locale=locale, timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    errors = _watch_errors(page)
    await page.goto(f"{live_url}/")
    await expect(page.locator("h1")).to_have_text(heading)
    await expect(page.locator(f'[data-session="{ROOM}"] .title')).to_have_text(title)
    await expect(page.locator('#zone option[data-key="browser"]')).to_have_text(zone_option)
    await page.screenshot(path=shots / f"schedule-{locale}.png", full_page=False)
    assert errors == []
    await context.close()


async def test_the_schedules_language_link_is_kept_for_the_next_pages(
    browser: Browser, live_url: str
) -> None:
    phone = await _context(browser, "zh-CN")
    page = await phone.new_page()
    await page.goto(f"{live_url}/")
    await expect(page.locator("h1")).to_have_text("大会日程")
    await page.click("#other-language")
    await expect(page.locator("h1")).to_have_text("Programme")
    await page.goto(f"{live_url}/watch/gz-hall-2?at={DURING_FORUM}")
    await expect(page.locator("h1")).to_have_text(ROOM_EN)
    await expect(page.locator("#schedule li .what").first).to_have_text(ROOM_EN)
    await page.goto(f"{live_url}/")
    await expect(page.locator("h1")).to_have_text("Programme")
    await phone.close()

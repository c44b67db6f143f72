"""Captions in Chromium: typed on /caption, read on /watch (English and Chinese UI), on
/stage and over the operator's projector; the WebVTT export of what was typed.

The delivery bound of the issue (a line on the viewer's page within 1 s of Enter on the
captioner's) is measured here with the page's own clock and asserted; the numbers are
printed as JSON lines.
"""

from __future__ import annotations

import html
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
import webvtt
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from config import Event
from tests.control.support import mint
from tests.helpers import local_settings
from web.app import create_app
from web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.requires("chromium")]

SESSION = "overseas-talents-summit"  # gz-hall-1, zh and en, sent to us and eu
WATCH = f"/watch/gz-hall-1?session={SESSION}"
BOUND = 1.0  # seconds, from the issue
# Whether the page shows a caption line with this exact text.
SHOWS_LINE = """(text) => [...document.querySelectorAll('.caption-line')]
  .some((p) => p.textContent === text)"""


@pytest.fixture
async def served(
    tmp_path: Path, reference_event: Event
) -> AsyncIterator[tuple[str, web.Application]]:
    # A rehearsal clock at the session's start: the automation puts it on air at us and eu.
    settings = local_settings(
        data_dir=tmp_path / "data",
        rehearsal=True,
        rehearsal_from=SESSION,
        rehearsal_lead_seconds=0,
    )
    app = create_app(settings, reference_event)
    server = await start_server(app, settings, host="127.0.0.1", port=0)
    try:
        yield f"http://127.0.0.1:{server.port}", app
    finally:
        await server.aclose()


async def send_line(captioner: Page, viewers: list[Page], text: str) -> list[float]:
    """Type ``text`` and press Enter; seconds until each viewer page shows it."""
    box = captioner.locator("#caption-text")
    await box.fill(text)
    started = time.perf_counter()
    await box.press("Enter")
    delays = []
    for viewer in viewers:
        await viewer.wait_for_function(
            SHOWS_LINE,
            arg=text,
            timeout=5000,
            polling=10,
        )
        delays.append(time.perf_counter() - started)
    return delays


async def test_typed_captions_reach_viewers_within_a_second(
    served: tuple[str, web.Application], browser: Browser, shots: Path
) -> None:
    url, app = served
    token = mint(app, "captioner", "Li Na", sessions=[SESSION])
    desk = await browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-US")
    captioner = await desk.new_page()
    await captioner.goto(f"{url}/join?token={token}")
    assert captioner.url.endswith(f"/caption/{SESSION}")
    await expect(captioner.locator("#status")).to_have_attribute("data-state", "online")

    phone_en = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="en-US")
    english = await phone_en.new_page()
    await english.goto(f"{url}{WATCH}&lang=en")
    phone_zh = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
    chinese = await phone_zh.new_page()
    await chinese.goto(f"{url}{WATCH}&lang=zh")
    # Each viewer starts in its UI language: the session has captions in both.
    await expect(english.locator("#captions select")).to_have_value("en")
    await expect(chinese.locator("#captions select")).to_have_value("zh")
    await expect(english.locator(".caption-waiting")).to_be_visible()
    stage_ctx = await browser.new_context(viewport={"width": 1600, "height": 900})
    stage = await stage_ctx.new_page()
    await stage.goto(f"{url}/stage/{SESSION}?lang=zh")
    await expect(stage.locator("#captions select")).to_have_value("zh")

    # The captioner's page starts on the floor's language (zh); English is picked.
    await expect(captioner.locator("#caption-language")).to_have_value("zh")
    await captioner.select_option("#caption-language", "en")
    english_lines = [
        "Good morning, and welcome to the Overseas Talents Summit.",
        "Our first speaker comes from Munich.",
    ]
    delays = {}
    delays["en"] = await send_line(captioner, [english], english_lines[0])
    delays["en"] += await send_line(captioner, [english], english_lines[1])
    await captioner.select_option("#caption-language", "zh")
    chinese_lines = ["早上好，欢迎参加海外人才峰会。", "第一位嘉宾来自慕尼黑。"]
    delays["zh"] = await send_line(captioner, [chinese, stage], chinese_lines[0])
    delays["zh"] += await send_line(captioner, [chinese, stage], chinese_lines[1])
    for language, seconds in delays.items():
        print(json.dumps({"captions_delivery_seconds": [round(s, 3) for s in seconds],
                          "language": language, "bound": BOUND}))  # fmt: skip
        assert max(seconds) < BOUND, f"{language} captions took {max(seconds):.3f} s"
    await expect(english.locator(".caption-line")).to_have_text(english_lines)
    await expect(chinese.locator(".caption-line")).to_have_text(chinese_lines)

    # A paste of several lines: each becomes a caption line, in order.
    await captioner.select_option("#caption-language", "en")
    pasted = ["We begin with the roadshow.", "Questions at the end, please.", "Thank you."]
    await captioner.locator("#caption-text").fill("\n".join(pasted))
    await expect(captioner.locator("#pending")).to_contain_text("3 lines ready")
    await captioner.locator("#caption-text").press("Enter")
    await expect(english.locator(".caption-line")).to_have_text(pasted)
    await expect(captioner.locator("#caption-text")).to_have_value("")
    await expect(captioner.locator("#caption-log li")).to_have_count(5)

    # A line too long is refused with the reason and stays in the box.
    await captioner.locator("#caption-text").fill("x" * 300)
    await captioner.locator("#caption-text").press("Enter")
    await expect(captioner.locator("#caption-message")).to_contain_text("at most 200")
    await expect(captioner.locator("#caption-text")).to_have_value("x" * 300)
    await captioner.screenshot(path=shots / "1-captioner-en.png", full_page=True)
    await captioner.locator("#caption-text").fill("")
    await captioner.click("#ui-language")
    await expect(captioner.locator("h1")).to_contain_text("字幕")
    await captioner.screenshot(path=shots / "2-captioner-zh.png", full_page=True)
    await english.screenshot(path=shots / "3-viewer-en.png", full_page=True)
    await chinese.screenshot(path=shots / "4-viewer-zh.png", full_page=True)
    await stage.screenshot(path=shots / "5-stage-zh.png")

    # The viewer picks another language: the last Chinese lines come as history.
    await english.select_option("#captions select", "zh")
    await expect(english.locator(".caption-line")).to_have_text(chinese_lines)

    # The export, read by webvtt-py, holds what was typed, in order.
    export = f"{url}/api/sessions/{SESSION}/captions.en.vtt"
    async with aiohttp.ClientSession() as http, http.get(export) as response:
        assert response.status == 200
        text = await response.text()
    cues = list(webvtt.from_buffer(io.StringIO(text)))
    assert [html.unescape(cue.text) for cue in cues] == [*english_lines, "\n".join(pasted)]
    assert all(cue.start < cue.end for cue in cues)
    await desk.close()
    await phone_en.close()
    await phone_zh.close()
    await stage_ctx.close()


async def test_captions_over_the_projector_follow_the_session_on_air(
    served: tuple[str, web.Application], browser: Browser, shots: Path
) -> None:
    url, app = served
    operator = mint(app, "operator", "op-us", venue="us")
    desk = await browser.new_context(viewport={"width": 1400, "height": 1000})
    console = await desk.new_page()
    await console.goto(f"{url}/join?token={operator}&next={quote('/venue/us', safe='')}")
    await expect(console.locator("#projector-routed")).to_contain_text("Overseas Talents Summit")
    overlay = console.locator("#projector-captions")
    await expect(overlay).to_be_hidden()
    await console.click("#projector-captions-toggle")
    await expect(overlay).to_be_visible()
    # The US venue plays English: its captions start in English.
    await expect(console.locator("#projector-captions-pick select")).to_have_value("en")

    director = await (await browser.new_context()).new_page()
    await director.goto(f"{url}/join?token={mint(app, 'director', 'dir')}&next=/caption/{SESSION}")
    await director.select_option("#caption-language", "en")
    seconds = await send_line(director, [console], "Captions over the projector.")
    print(json.dumps({"projector_captions_seconds": round(seconds[0], 3), "bound": BOUND}))
    assert seconds[0] < BOUND
    await console.screenshot(path=shots / "6-projector-captions.png")
    # Three long lines stay on the picture's lower part (the crew drill saw them cover
    # the console's small projector and spill above it).
    long_lines = [f"Line {n}: a rather long sentence the speaker says on stage." for n in (1, 2)]
    for line in long_lines:
        await send_line(director, [console], line)
    picture = await console.locator("#projector-box").bounding_box()
    shown = await overlay.bounding_box()
    assert picture is not None
    assert shown is not None
    assert shown["y"] >= picture["y"], (picture, shown)  # inside the picture
    assert shown["y"] + shown["height"] <= picture["y"] + picture["height"]
    assert shown["height"] <= picture["height"] / 2 + 1  # at most its lower half's height
    await expect(overlay.locator(".caption-line").last).to_have_text(long_lines[-1])
    await console.screenshot(path=shots / "6b-projector-captions-long.png")
    await console.click("#projector-captions-toggle")
    await expect(overlay).to_be_hidden()
    await desk.close()

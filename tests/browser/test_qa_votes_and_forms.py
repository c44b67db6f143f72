"""Chromium: voting from the viewer page on any question, and the moderator's in-page forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from config import Event, Settings
from config.settings import ControlLimits
from tests.control.support import WsClient, mint
from tests.helpers import local_settings
from web.app import create_app

pytestmark = pytest.mark.browser
ROOM = "overseas-talents-summit"
QUESTIONS = [
    "Which visas cover a three-month research stay?",
    "Can a start-up team apply before it registers a company?",
    "Is there housing support for returning scientists?",
]


@pytest.fixture
async def server(settings: Settings, reference_event: Event) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(settings, reference_event), host="127.0.0.1", port=0) as s:
        yield s


@pytest.fixture
async def moderator(server: TestServer) -> AsyncIterator[WsClient]:
    """A moderator's websocket in the room, which is open: questions arrive approved."""
    token = mint(server.app, "moderator", "mod-anna", sessions=[ROOM])
    async with aiohttp.ClientSession() as http:
        client = await WsClient.connect(http, str(server.make_url("/ws")), token)
        await client.ok({"type": "join", "room": ROOM})
        await client.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
        yield client
        await client.close()


async def ask_all(moderator: WsClient) -> list[str]:
    ids = []
    for text in QUESTIONS:
        ack = await moderator.ok(
            {"type": "ask", "room": ROOM, "text": text, "language": "en", "origin": "in_room"}
        )
        ids.append(ack["question"])
    return ids


def no_dialogs(page: Page) -> list[str]:
    """Collects any alert/prompt the page opens: the pages must not use them."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: seen.append(dialog.message))
    return seen


async def test_a_viewer_votes_on_the_second_and_third_question(
    server: TestServer, moderator: WsClient, browser: Browser, shots: Path
) -> None:
    await ask_all(moderator)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    dialogs = no_dialogs(page)
    await page.goto(f"{base}/session/{ROOM}?lang=en")
    items = page.locator("#questions li")
    await expect(items).to_have_count(3)
    # Equal votes: oldest first. The list re-sorts as votes come in, so go by id.
    second = await items.nth(1).get_attribute("data-question")
    third = await items.nth(2).get_attribute("data-question")
    assert second is not None
    assert third is not None
    for question in (second, third):
        button = page.locator(f'#questions li[data-question="{question}"] button')
        await expect(button).to_be_enabled()
        await button.click()
        # Pressed at once (from the ack), and the count went up (from the question frame).
        await expect(button).to_have_attribute("aria-pressed", "true")
        await expect(button).to_have_text("▲ 1")
    first = page.locator("#questions li").filter(has_text=QUESTIONS[0]).locator("button")
    await expect(first).to_have_attribute("aria-pressed", "false")
    await expect(first).to_have_text("▲ 0")
    await page.screenshot(path=shots / "viewer-voted.png", full_page=True)

    # The server counted them; a reload remembers whose votes they were.
    for question in (second, third):
        assert (moderator.question(question) or {}).get("votes") == 1
    await page.reload()
    for question in (second, third):
        button = page.locator(f'#questions li[data-question="{question}"] button')
        await expect(button).to_have_attribute("aria-pressed", "true")
    # Tapping again withdraws.
    button = page.locator(f'#questions li[data-question="{third}"] button')
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "false")
    await expect(button).to_have_text("▲ 0")
    assert dialogs == []
    await context.close()


async def test_moderator_dismisses_edits_and_merges_with_in_page_forms(
    server: TestServer, moderator: WsClient, browser: Browser, shots: Path
) -> None:
    ids = await ask_all(moderator)
    base = str(server.make_url("")).rstrip("/")
    token = mint(server.app, "moderator", "mod-li", sessions=[ROOM])
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    dialogs = no_dialogs(page)
    await page.goto(f"{base}/join?token={token}")
    queue = page.locator("#col-queue")
    await expect(queue.locator(".question")).to_have_count(3)

    # Edit from the keyboard: select, e, type, Enter.
    first = queue.locator(f'.question[data-id="{ids[0]}"]')
    await first.focus()
    await page.keyboard.press("e")
    editor = first.locator("form[data-form=edit] textarea")
    await expect(editor).to_be_focused()
    await editor.fill("Which visas cover a research stay of three months?")
    await page.keyboard.press("Enter")
    await expect(first.locator(".text")).to_have_text(
        "Which visas cover a research stay of three months?"
    )
    await expect(first.locator("form")).to_have_count(0)

    # Merge: pick the target by its text, not by an id.
    second = queue.locator(f'.question[data-id="{ids[1]}"]')
    await second.locator("button[data-action=m]").click()
    picker = second.locator("form[data-form=merge] select")
    await expect(picker.locator("option")).to_have_count(2)
    await picker.select_option(label=f"{QUESTIONS[2]} (▲ 0)")
    await page.screenshot(path=shots / "moderator-merge-form.png", full_page=True)
    await second.locator("form[data-form=merge] button[type=submit]").click()
    merged = page.locator(f'#col-closed .question[data-id="{ids[1]}"]')
    await expect(merged.locator(".meta")).to_contain_text(f"into “{QUESTIONS[2]}”")

    # Dismiss with a reason typed into the form; a refusal would show inside it.
    third = queue.locator(f'.question[data-id="{ids[2]}"]')
    await third.locator("button[data-action=d]").click()
    reason = third.locator("form[data-form=dismiss] input[name=reason]")
    await expect(reason).to_be_focused()
    await reason.fill("Answered in the keynote")
    await page.keyboard.press("Enter")
    dismissed = page.locator(f'#col-closed .question[data-id="{ids[2]}"]')
    await expect(dismissed.locator(".meta")).to_contain_text("Answered in the keynote")

    # Escape closes a form without doing anything.
    await first.locator("button[data-action=t]").click()
    await expect(first.locator("form[data-form=translate]")).to_have_count(1)
    await page.keyboard.press("Escape")
    await expect(first.locator("form")).to_have_count(0)
    await expect(page.locator("#presence")).to_contain_text("Moderators")
    await page.screenshot(path=shots / "moderator-after-forms.png", full_page=True)
    assert dialogs == []
    await context.close()


async def test_the_moderator_sees_a_question_whose_votes_came_in_a_burst(
    tmp_path: Path, reference_event: Event, browser: Browser, shots: Path
) -> None:
    settings = local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        limits=ControlLimits(suspect_votes_per_address=3),
    )
    async with (
        TestServer(create_app(settings, reference_event), host="127.0.0.1", port=0) as server,
        aiohttp.ClientSession() as http,
    ):
        token = mint(server.app, "moderator", "mod-anna", sessions=[ROOM])
        mod = await WsClient.connect(http, str(server.make_url("/ws")), token)
        await mod.ok({"type": "join", "room": ROOM})
        await mod.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
        ids = await ask_all(mod)
        # Three anonymous viewers from one address vote for the same question.
        for _ in range(3):
            viewer = await WsClient.connect(http, str(server.make_url("/ws")))
            await viewer.ok({"type": "join", "room": ROOM})
            await viewer.ok({"type": "vote", "room": ROOM, "question": ids[1], "on": True})
            await viewer.close()
        base = str(server.make_url("")).rstrip("/")
        page = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
        await page.goto(f"{base}/join?token={token}")
        flagged = page.locator(f'.question[data-id="{ids[1]}"] .suspect')
        await expect(flagged).to_contain_text("Suspicious votes")
        await expect(page.locator(f'.question[data-id="{ids[0]}"] .suspect')).to_have_count(0)
        await page.screenshot(path=str(shots / "moderator-suspect.png"))
        await mod.close()

"""The language of a venue output in Chromium: the director's matrix select and the
operator console's, each following the other through the server (screenshots of both)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from signaling.auth import Grant, Role
from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, publish
from tests.tone_peers import JA_HZ, publish_tone
from web.keys import AUTHORITY, MEDIA, ROUTING

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]


def matrix_language(server: MediaServer, venue: str) -> str | None:
    row = next(r for r in server.app[ROUTING].matrix()["venues"] if r["venue"] == venue)
    language: str | None = row["language"]
    return language


async def open_page(browser: Browser, server: MediaServer, token: str, width: int) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 1000})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{server.url}/join?token={token}")
    assert errors == []
    return page


async def test_matrix_and_console_set_the_output_language(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server = media_server
    # A floor and a Japanese interpreter on hall 1, routed to jp: the records have an airing
    # whose language changes, and an interpreter's turn to show.
    floor = await publish(server.http, f"{server.url}/whip/gz-hall-1", PRODUCER_SECRET, luma=180)
    grant = Grant(
        identity="Akiko Sato", role=Role.INTERPRETER, channels=("gz-hall-1",), language="ja"
    )
    interpreter = await publish_tone(
        server.http,
        f"{server.url}/whip/gz-hall-1?lang=ja",
        server.app[AUTHORITY].mint(grant, ttl=600),
        JA_HZ,
    )
    await eventually(lambda: server.hub.channel("gz-hall-1").live, "hall 1 live")
    await server.app[ROUTING].route("jp", "gz-hall-1", "Director Li")
    await eventually(lambda: server.app[ROUTING].log.open_on("jp") is not None, "jp on air")
    try:
        await check_pages(server, browser, shots)
    finally:
        await interpreter.pc.close()
        await floor.pc.close()


async def check_pages(server: MediaServer, browser: Browser, shots: Path) -> None:
    director = await open_page(browser, server, mint(server.app, "director", "Director Li"), 1500)
    assert director.url.endswith("/director")
    jp_select = director.locator('select.output-language[data-venue="jp"]')
    # The event file's defaults, shown from the first routing frame, and who is heard.
    assert await jp_select.input_value() == "ja"
    jp_note = director.locator('[data-language-note][data-venue="jp"]')
    await director.wait_for_function(
        "() => document.querySelector('[data-language-note][data-venue=\"jp\"]')"
        ".textContent === 'Akiko Sato on air'"
    )
    assert await director.locator('select.output-language[data-venue="gz"]').input_value() == "zh"
    options = await jp_select.locator("option").all_text_contents()
    assert options[0].startswith("floor")
    assert "ko · 한국어" in options

    await jp_select.select_option("ko")
    await eventually(lambda: matrix_language(server, "jp") == "ko", "the matrix to play ko")
    await director.wait_for_function(
        "() => document.querySelector('[data-language-note][data-venue=\"jp\"]')"
        ".textContent.startsWith('no ko interpreter')"
    )
    assert await jp_note.get_attribute("data-state") == "floor"
    assert server.app[MEDIA].venue_output("jp").language == "ko"

    operator_token = mint(server.app, "operator", "Op Sato", venue="jp")
    console = await open_page(browser, server, operator_token, 1200)
    assert console.url.endswith("/venue/jp")
    console_select = console.locator("#output-language")
    await console.wait_for_function(
        "() => document.getElementById('output-language').value === 'ko'"
    )
    await console.locator("#projector-panel").screenshot(path=str(shots / "console-language.png"))

    # The operator picks Russian: the server, then the director's matrix follow.
    await console_select.select_option("ru")
    await eventually(lambda: matrix_language(server, "jp") == "ru", "the matrix to play ru")
    await director.wait_for_function(
        "() => document.querySelector('select.output-language[data-venue=\"jp\"]').value === 'ru'"
    )
    # And the floor, from the director.
    await director.locator('select.output-language[data-venue="kr"]').select_option("")
    await eventually(lambda: matrix_language(server, "kr") is None, "kr to play the floor")
    assert server.app[MEDIA].venue_output("kr").language is None
    await director.locator("#matrix").screenshot(path=str(shots / "director-language.png"))
    assert await director.locator("#message").text_content() == ""

    # /records: jp's airing went ja -> ko -> ru, and Akiko Sato's turn names jp.
    await director.goto(f"{server.url}/records")
    changes = director.locator("table.records-languages tr[data-airing]")
    assert await changes.evaluate_all("rows => rows.map(r => r.dataset.language)") == [
        "ja",
        "ko",
        "ru",
    ]
    turn = director.locator('table.records-interpreting tr[data-interpreter="Akiko Sato"]')
    assert "JP" in (await turn.text_content() or "")
    await director.locator("table.records-languages").screenshot(
        path=str(shots / "records-languages.png")
    )
    await director.locator("table.records-interpreting").screenshot(
        path=str(shots / "records-interpreting.png")
    )

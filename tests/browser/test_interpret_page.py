"""The interpreter's /interpret page in Chromium: hears the floor, publishes, goes on air,
and hands over to a second interpreter with one click."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from signaling.auth import Grant, Role
from streaming.languages import BoothSeat
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network
from tests.tone_peers import FLOOR_HZ, listen, publish_tone
from web.keys import AUTHORITY

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

CHANNEL = "gz-hall-1"


def _token(server: MediaServer, name: str) -> str:
    grant = Grant(identity=name, role=Role.INTERPRETER, channels=(CHANNEL,), language="ja")
    return str(server.app[AUTHORITY].mint(grant, ttl=600))


async def _open(browser: Browser, server: MediaServer, name: str, errors: list[str]) -> Page:
    page = await browser.new_page(viewport={"width": 1100, "height": 760})
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{server.url}/interpret/{CHANNEL}?autostart=1#token={_token(server, name)}")
    return page


async def _text(page: Page, selector: str) -> str:
    return (await page.locator(selector).text_content() or "").strip()


def _booth(server: MediaServer) -> tuple[tuple[str, ...], str | None]:
    booths = server.hub._languages.booths(CHANNEL)
    return (booths[0].connected, booths[0].on_air) if booths else ((), None)


async def test_the_interpret_page_publishes_goes_on_air_and_hands_over(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server = media_server
    floor = await publish_tone(
        server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, FLOOR_HZ, video_luma=90
    )
    errors: list[str] = []
    pages: list[Page] = []
    listener = None
    try:
        await eventually(lambda: server.hub.channel(CHANNEL).live, "the floor")
        akiko = await _open(browser, server, "Akiko Sato", errors)
        pages.append(akiko)
        # The first interpreter to connect goes on air; the page says so.
        await eventually(lambda: _booth(server)[1] == "Akiko Sato", "Akiko on air", 20)

        async def says(page: Page, selector: str, text: str) -> bool:
            return text in await _text(page, selector)

        await eventually(lambda: says(akiko, "#on-air", "You are ON AIR"), "Akiko's page: on air")
        await eventually(lambda: says(akiko, "#floor-status", "Hearing the floor"), "the floor")
        # The floor is played with the smallest jitter buffer the browser allows.
        target = await akiko.evaluate(
            "window.vbInterpret.floor.pc.getReceivers()[0].jitterBufferTarget"
        )
        assert target == 0
        # A listener of ja hears the interpreter (Chromium's fake microphone), not silence.
        listener = await listen(server.http, f"{server.url}/whep/{CHANNEL}?lang=ja")
        await eventually(lambda: len(listener.heard) > 25, "audio at a ja listener")
        await akiko.screenshot(path=shots / "interpret-on-air.png")

        kenji = await _open(browser, server, "Kenji Mori", errors)
        pages.append(kenji)
        await eventually(
            lambda: _booth(server) == (("Akiko Sato", "Kenji Mori"), "Akiko Sato"),
            "Kenji in the booth, Akiko still on air",
            20,
        )
        await eventually(lambda: says(kenji, "#on-air", "Akiko Sato is on air"), "Kenji's page")
        take = kenji.locator("#take")
        await eventually(take.is_enabled, "Kenji's Take over button")
        await kenji.screenshot(path=shots / "interpret-standby.png")
        await take.click()
        await eventually(lambda: _booth(server)[1] == "Kenji Mori", "Kenji on air")
        await eventually(lambda: says(kenji, "#on-air", "You are ON AIR"), "Kenji's page: on air")
        await eventually(lambda: says(akiko, "#on-air", "Kenji Mori is on air"), "Akiko's page")
        assert await _text(kenji, "#booth") == "Akiko SatoKenji Mori (you)ON AIR"
        await kenji.screenshot(path=shots / "interpret-took-over.png")
        # In Chinese: the page's words and the channel's title (the button, remembered).
        await akiko.click("#ui-language")
        in_chinese = "Kenji Mori 正在播出"
        await eventually(lambda: says(akiko, "#on-air", in_chinese), "Akiko's page in zh")
        assert "1号厅" in await _text(akiko, "h1")
        assert await _text(akiko, "#take") == "接过话筒"
        await akiko.screenshot(path=shots / "interpret-zh.png")
    finally:
        if listener is not None:
            await listener.close()
        for page in pages:
            await page.close()
        await floor.pc.close()
    assert errors == []


def _sessions_of(server: MediaServer, name: str) -> list[str]:
    """The ids of ``name``'s interpreter sessions (WHIP ?lang=) on the server."""
    return [
        session.id
        for session in server.hub._publishers.values()
        if isinstance(session.source, BoothSeat) and session.source.name == name
    ]


async def test_the_interpreter_on_air_gets_the_air_back_after_a_drop(
    media_server: MediaServer, browser: Browser
) -> None:
    """Kenji has taken over; his link drops (a server restart does this to everyone) and
    Akiko, connected longest, is put on air meanwhile. Kenji's page comes back and takes
    the air again by itself: the booth's choice outlives the drop."""
    server = media_server
    floor = await publish_tone(
        server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, FLOOR_HZ, video_luma=90
    )
    errors: list[str] = []
    pages: list[Page] = []
    try:
        await eventually(lambda: server.hub.channel(CHANNEL).live, "the floor")
        pages.append(await _open(browser, server, "Akiko Sato", errors))
        await eventually(lambda: _booth(server)[1] == "Akiko Sato", "Akiko on air", 20)
        kenji = await _open(browser, server, "Kenji Mori", errors)
        pages.append(kenji)
        await eventually(kenji.locator("#take").is_enabled, "Kenji's Take over button", 20)
        await kenji.click("#take")
        await eventually(lambda: _booth(server)[1] == "Kenji Mori", "Kenji on air")
        await asyncio.sleep(1.5)  # his page has looked at the booth since
        (dropped,) = _sessions_of(server, "Kenji Mori")
        await server.hub.end(dropped)
        await eventually(lambda: _booth(server)[1] == "Akiko Sato", "Akiko covers the gap", 10)
        await eventually(
            lambda: _sessions_of(server, "Kenji Mori") not in ([], [dropped]),
            "Kenji's page reconnects",
            40,
        )
        await eventually(lambda: _booth(server)[1] == "Kenji Mori", "Kenji on air again", 20)
    finally:
        for page in pages:
            await page.close()
        await floor.pc.close()
    assert errors == []


async def test_a_live_session_the_booth_does_not_list_publishes_again(
    media_server: MediaServer, browser: Browser
) -> None:
    """With several workers a session can be left where the booth is not (the floor came
    back on another worker): live, heard by nobody. Here the booth forgets Akiko's seat
    while her session stays up; her page notices within a few polls, publishes again,
    and, on air before, is on air again."""
    server = media_server
    floor = await publish_tone(
        server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, FLOOR_HZ, video_luma=90
    )
    errors: list[str] = []
    akiko = None
    try:
        await eventually(lambda: server.hub.channel(CHANNEL).live, "the floor")
        akiko = await _open(browser, server, "Akiko Sato", errors)
        await eventually(lambda: _booth(server)[1] == "Akiko Sato", "Akiko on air", 20)
        await asyncio.sleep(1.5)  # her page has seen herself on air
        (stray,) = _sessions_of(server, "Akiko Sato")
        seat = server.hub._publishers[stray].source
        assert isinstance(seat, BoothSeat)
        seat.track.left(seat)  # the booth no longer lists her; the session is still live
        assert _booth(server) == ((), None)
        await eventually(lambda: _booth(server) == (("Akiko Sato",), "Akiko Sato"), "back", 20)
        assert _sessions_of(server, "Akiko Sato") not in ([], [stray])
    finally:
        if akiko is not None:
            await akiko.close()
        await floor.pc.close()
    assert errors == []


def _languages_of_players(server: MediaServer) -> list[str | None]:
    return [s.language for s in server.hub._subscribers.values() if s.label == f"channel:{CHANNEL}"]


async def test_the_watch_page_picks_an_audio_language_and_remembers_it(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    server = media_server
    floor = await publish_tone(
        server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, FLOOR_HZ, video_luma=90
    )
    grant = Grant(identity="Jane Doe", role=Role.INTERPRETER, channels=(CHANNEL,), language="en")
    token = str(server.app[AUTHORITY].mint(grant, ttl=600))
    english = await publish_tone(server.http, f"{server.url}/whip/{CHANNEL}?lang=en", token, 880)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await eventually(lambda: server.hub.channel(CHANNEL).live, "the floor")
        # The opening ceremony is held in Chinese and interpreted into English.
        await page.goto(f"{server.url}/watch/{CHANNEL}?session=opening")
        picker = page.locator("#audio-language")
        assert await picker.locator("option").all_text_contents() == [
            "中文 · floor",
            "English",
            "日本語",
            "한국어",
            "Русский",
        ]
        await eventually(lambda: _languages_of_players(server) == [None], "a floor player")
        await picker.select_option("en")
        await eventually(lambda: _languages_of_players(server) == ["en"], "the player on en")

        # The server switches before the page has read its 204: wait for the page too.
        async def sent() -> bool:
            return await picker.get_attribute("data-state") == "sent"

        await eventually(sent, "the page saw the 204")
        await page.screenshot(path=shots / "watch-audio-language.png")
        # A reload (a new session) keeps the choice.
        await page.reload()
        await eventually(lambda: _languages_of_players(server) == ["en"], "en after a reload", 15)
        assert await picker.input_value() == "en"
    finally:
        await page.close()
        await english.pc.close()
        await floor.pc.close()
    assert errors == []

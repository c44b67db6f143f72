"""Hostile text through every field a person can enter, and every event-file name, reaches
each page in Chromium as text: nothing runs, nothing is injected, the words survive.

One browser, one app on a real port, one event whose names are payloads. The Q&A fields
(question, asker, translation, edit, dismiss reason, a relayed question's name) go in over
the websocket as the pages' own forms send them; talkback and routing come from tokens
whose identity is itself a payload. The pages set a Content-Security-Policy, so an
injected inline handler would be blocked rather than run: the tests therefore also count
injected elements and every CSP violation the page reports, not only ``window.__xss``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, expect

from config import Event, Session, Settings
from signaling.routing.router import Route, Take
from tests.browser.conftest import browser, live_url
from tests.control.support import WsClient, mint
from tests.helpers import eventually
from web.app import create_app
from web.keys import EVENT, HUB, ROUTING

pytestmark = [pytest.mark.browser, pytest.mark.requires("chromium")]
__all__ = ["browser", "live_url"]

ROOM = "gba-new-materials"  # Q&A on, channel gz-hall-2, sub-venues jp and kr
DURING_ROOM = "2018-12-21T02:30:00Z"
HOUR = timedelta(hours=1)
CJK = "海外人才如何申请？🎤🇨🇳"

# One payload per field, so a page showing the wrong field cannot pass by accident.
QUESTION = f'<img src=x onerror="window.__xss=1"> <script>window.__xss=1</script> {CJK}'
ASKER = '"><svg onload=window.__xss=1> 林🙂'
TRANSLATION = f"<script>window.__xss=1</script> 翻译 {CJK}"
EDITED = 'javascript:window.__xss=1 <a href="javascript:window.__xss=1">x</a> 改过🎉'
DISMISSED = "<svg onload=window.__xss=1> 离题🙅"
DISMISS_REASON = '<img src=x onerror="window.__xss=1"> 重复了😅'
RELAYED = "How do Tokyo labs join? <iframe src=javascript:window.__xss=1></iframe>"
RELAY_NAME = "<svg/onload=window.__xss=1> 佐藤"
TALK_UP = '<img src=x onerror="window.__xss=1"> 投影准备好了📽'
TALK_DOWN = "<script>window.__xss=1</script> 两分钟后切换⏱"
OPERATOR = '"><img src=x onerror="window.__xss=1">'
DIRECTOR = "</p><svg onload=window.__xss=1> 王导🎬"
# "<!--<script" inside an inline JSON block would swallow the rest of the page.
SESSION_TITLE = f"</script><!--<script>window.__xss=1</script> {CJK}"
VENUE_NAME = '<img src=x onerror="window.__xss=1"> 東京'
CHANNEL_TITLE = "</title><svg onload=window.__xss=1> 二号厅"

# Watches for injection: CSP violations (an injected handler or script trying to run).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.sample}`));
"""
INJECTED = """() => {
  const found = document.body.querySelectorAll(
    'img[src="x"], svg[onload], [onerror], [onload], iframe, a[href^="javascript:" i]');
  const scripts = [...document.scripts].filter(
    (s) => s.type !== "application/json" && !s.src && s.textContent.includes("__xss"));
  return { elements: found.length, scripts: scripts.length,
           xss: typeof window.__xss, csp: window.__csp || [] };
}"""


@pytest.fixture
def hostile_event(reference_event: Event) -> Event:
    """The reference event with a payload for a session title, a venue name, a channel title."""
    # And a session on hall 3 running now, so that routing it makes an as-run airing.
    now = datetime.now(UTC)
    running = next(s for s in reference_event.sessions if s.channel == "gz-hall-3")

    def hostile(session: Session) -> Session:
        if session.id == ROOM:
            return dataclasses.replace(session, title=SESSION_TITLE)
        if session.id == running.id:
            return dataclasses.replace(session, start=now - HOUR, end=now + HOUR)
        return session

    return dataclasses.replace(
        reference_event,
        sessions=tuple(hostile(s) for s in reference_event.sessions),
        venues=tuple(
            dataclasses.replace(v, name=VENUE_NAME) if v.id == "jp" else v
            for v in reference_event.venues
        ),
        channels=tuple(
            dataclasses.replace(c, title=CHANNEL_TITLE) if c.id == "gz-hall-2" else c
            for c in reference_event.channels
        ),
    )


@pytest.fixture
def app(settings: Settings, hostile_event: Event) -> web.Application:
    return create_app(settings, hostile_event)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(WATCH)
    try:
        yield context
    finally:
        await context.close()


async def inert(page: Page, *texts: str) -> None:
    """Each of ``texts`` shows on ``page`` literally, and nothing in it ran or was injected."""
    for text in texts:
        await expect(page.locator("body")).to_contain_text(text)
    found = await page.evaluate(INJECTED)
    assert found == {"elements": 0, "scripts": 0, "xss": "undefined", "csp": []}, page.url


async def signed_in(context: BrowserContext, base: str, token: str, target: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}/join?token={token}&next={quote(target, safe='')}")
    return page


async def fill_the_room(base: str, http: aiohttp.ClientSession, app: web.Application) -> None:
    """Questions in every state, each field a payload, as the Q&A pages would send them."""
    url = f"{base.replace('http', 'ws')}/ws"
    moderator = await WsClient.connect(http, url, mint(app, "moderator", "mod-1", sessions=[ROOM]))
    viewer = await WsClient.connect(http, url)
    operator = await WsClient.connect(http, url, mint(app, "operator", OPERATOR, venue="jp"))
    try:
        await moderator.ok({"type": "join", "room": ROOM})
        await viewer.ok({"type": "join", "room": ROOM})

        async def ask(client: WsClient, **fields: str) -> str:
            ack = await client.ok({"type": "ask", "room": ROOM, **fields})
            return str(ack["question"])

        staged = await ask(viewer, text=QUESTION, name=ASKER)
        await moderator.ok({"type": "approve", "room": ROOM, "question": staged})
        await moderator.ok(
            {"type": "translate", "room": ROOM, "question": staged, "language": "zh",
             "text": TRANSLATION}
        )  # fmt: skip
        edited = await ask(viewer, text="a question to be edited", name="Lin")
        await moderator.ok({"type": "edit", "room": ROOM, "question": edited, "text": EDITED})
        await moderator.ok({"type": "approve", "room": ROOM, "question": edited})
        dismissed = await ask(viewer, text=DISMISSED)
        await moderator.ok(
            {"type": "dismiss", "room": ROOM, "question": dismissed, "reason": DISMISS_REASON}
        )
        relayed = await ask(operator, text=RELAYED, name=RELAY_NAME, origin="sub_venue")
        await moderator.ok({"type": "approve", "room": ROOM, "question": relayed})
        await moderator.ok({"type": "stage", "room": ROOM, "question": staged})
    finally:
        for client in (moderator, viewer, operator):
            await client.close()


async def test_qa_fields_and_event_names_render_as_text(
    context: BrowserContext, live_url: str, http: aiohttp.ClientSession, app: web.Application
) -> None:
    await fill_the_room(live_url, http, app)
    on_stage = [QUESTION, ASKER, TRANSLATION]
    public = [*on_stage, EDITED, RELAYED, RELAY_NAME]

    page = await context.new_page()
    await page.goto(f"{live_url}/qa/{ROOM}")
    await inert(page, SESSION_TITLE, *public)
    assert SESSION_TITLE in await page.title()
    await page.goto(f"{live_url}/session/{ROOM}?at={DURING_ROOM}")
    await inert(page, SESSION_TITLE, QUESTION, EDITED)
    await page.goto(f"{live_url}/watch/gz-hall-2?session={ROOM}&at={DURING_ROOM}")
    await inert(page, SESSION_TITLE, QUESTION, ASKER)
    await page.goto(f"{live_url}/stage/{ROOM}")
    await inert(page, SESSION_TITLE, *on_stage)
    await page.goto(f"{live_url}/?at={DURING_ROOM}")
    await inert(page, SESSION_TITLE, VENUE_NAME, CHANNEL_TITLE)

    moderator = mint(app, "moderator", "mod-2", sessions=[ROOM])
    desk = await signed_in(context, live_url, moderator, f"/moderate/{ROOM}")
    await inert(desk, SESSION_TITLE, *public, DISMISSED, DISMISS_REASON)


async def test_talkback_identities_and_records_render_as_text(
    browser: Browser,
    context: BrowserContext,
    live_url: str,
    http: aiohttp.ClientSession,
    app: web.Application,
) -> None:
    director = mint(app, "director", DIRECTOR)
    operator = mint(app, "operator", OPERATOR, venue="jp")
    console = await signed_in(context, live_url, operator, f"/venue/jp?at={DURING_ROOM}")
    # The same browser opening the director's link is asked first, naming both identities.
    switch = await signed_in(context, live_url, director, "/director")
    await inert(switch, f"signed in as {OPERATOR}", f"sign it in as {DIRECTOR}")
    await switch.close()
    office = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await office.add_init_script(WATCH)
    desk = await signed_in(office, live_url, director, f"/director?at={DURING_ROOM}")
    wall = await signed_in(office, live_url, director, "/returns")
    await eventually(lambda: len(app[HUB].clients.everyone()) >= 3, "the three pages online")

    url = f"{live_url.replace('http', 'ws')}/ws"
    up = await WsClient.connect(http, url, operator)
    down = await WsClient.connect(http, url, director)
    try:
        await up.ok({"type": "talkback", "text": TALK_UP})
        await down.ok({"type": "talkback", "venue": "jp", "text": TALK_DOWN})
    finally:
        await up.close()
        await down.close()

    await inert(console, VENUE_NAME, TALK_UP, TALK_DOWN)
    await inert(desk, f"Signed in as {DIRECTOR}", VENUE_NAME, CHANNEL_TITLE, TALK_UP, TALK_DOWN)
    await inert(wall, VENUE_NAME, TALK_UP, TALK_DOWN)

    async with http.post(
        f"{live_url}/api/venues/jp/route",
        json={"channel": "gz-hall-3"},
        headers={"Authorization": f"Bearer {director}", "Origin": live_url},
    ) as response:
        assert response.status == 202, await response.text()
    # The media plane confirms a take once hall 3 is live; no one publishes here, so the
    # test confirms the director's route the way it would.
    route = Route("jp", "gz-hall-3", running_session(app), DIRECTOR, datetime.now(UTC))
    app[ROUTING].log.taken(Take(route, datetime.now(UTC)))
    assert any(a.routed_by == DIRECTOR for a in app[ROUTING].log.airings())
    await desk.goto(f"{live_url}/records")
    await inert(desk, VENUE_NAME)
    routed = desk.locator("[title*='routed by']").first
    assert DIRECTOR in (await routed.get_attribute("title") or "")
    await office.close()

    headers = {"Authorization": f"Bearer {director}"}
    async with http.get(f"{live_url}/api/records.json", headers=headers) as response:
        _data_headers(response, "application/json")
        airings = json.loads(await response.text())["airings"]
    assert DIRECTOR in [a["routed_by"] for a in airings]
    async with http.get(f"{live_url}/api/records.csv", headers=headers) as response:
        _data_headers(response, "text/csv")
        assert DIRECTOR.replace('"', '""') in await response.text()


def running_session(app: web.Application) -> str:
    return next(s.id for s in app[EVENT].sessions if s.start <= datetime.now(UTC) < s.end)


def _data_headers(response: aiohttp.ClientResponse, kind: str) -> None:
    assert response.status == 200
    assert response.content_type == kind
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_exports_carry_payloads_as_data(
    live_url: str, http: aiohttp.ClientSession, app: web.Application
) -> None:
    await fill_the_room(live_url, http, app)
    headers = {"Authorization": f"Bearer {mint(app, 'moderator', 'mod-3', sessions=[ROOM])}"}
    base = f"{live_url}/api/sessions/{ROOM}/questions"

    async with http.get(f"{base}.json", headers=headers) as response:
        _data_headers(response, "application/json")
        body = json.loads(await response.text())
    assert body["title"] == SESSION_TITLE
    rows = {r["text"]: r for r in body["questions"]}
    assert rows[QUESTION]["name"] == ASKER
    assert rows[QUESTION]["translation_zh"] == TRANSLATION
    assert rows[EDITED]["original_text"] == "a question to be edited"
    assert rows[DISMISSED]["dismiss_reason"] == DISMISS_REASON
    assert rows[RELAYED]["name"] == RELAY_NAME

    async with http.get(f"{base}.csv", headers=headers) as response:
        _data_headers(response, "text/csv")
        text = await response.text()
    for value in (QUESTION, ASKER, TRANSLATION, DISMISS_REASON, RELAY_NAME):
        assert value.replace('"', '""') in text

    async with http.get(f"{live_url}/api/schedule") as response:
        _data_headers(response, "application/json")
        schedule = json.loads(await response.text())
    assert {s["id"]: s["title"] for s in schedule["sessions"]}[ROOM] == SESSION_TITLE
    assert {v["id"]: v["name"] for v in schedule["venues"]}["jp"] == VENUE_NAME
    assert {c["id"]: c["title"] for c in schedule["channels"]}["gz-hall-2"] == CHANNEL_TITLE

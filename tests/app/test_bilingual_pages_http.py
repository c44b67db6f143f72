"""Pages and the API in Chinese: titles and names in the page's language, with a fallback
(web/page_language.py, web/api.py ``titles``)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import icalendar
import pytest
from aiohttp.test_utils import TestClient, make_mocked_request

from tests.control.support import mint
from web.page_language import accepted_languages, page_language

Client = TestClient[Any, Any]
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
ROOM = "gba-new-materials"
ROOM_EN = "Greater Bay Area New Materials Science and Technology Cooperation Summit Forum"
ROOM_ZH = "粤港澳大湾区新材料科技合作高峰论坛"
DURING_FORUM = "2018-12-21T02:30:00Z"


async def _page(client: Client, path: str, headers: dict[str, str] | None = None) -> str:
    response = await client.get(path, headers=headers or {})
    assert response.status == 200, await response.text()
    return await response.text()


def _h1(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert found, "no <h1>"
    return html.unescape(found.group(1)).strip()


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", ["zh-CN", "zh", "en"]),
        ("en;q=0.5, zh-TW", ["zh-TW", "en"]),
        ("ja, *;q=0.1, ko;q=0", ["ja"]),
        ("fr;q=abc, de", ["de"]),
        ("", []),
    ],
)
def test_accept_language_is_read_best_first(header: str, tags: list[str]) -> None:
    assert accepted_languages(header) == tags


@pytest.mark.parametrize(
    ("path", "headers", "language"),
    [
        ("/", {"Accept-Language": "zh-CN,zh;q=0.9"}, "zh"),
        ("/", {"Accept-Language": "ja,zh;q=0.8,en;q=0.5"}, "zh"),  # first one we speak
        ("/", {"Accept-Language": "ja"}, "en"),
        ("/?lang=en", {"Accept-Language": "zh-CN"}, "en"),  # ?lang= wins
        ("/", {"Accept-Language": "en", "Cookie": "vb_lang=zh"}, "zh"),  # then the choice
        ("/?lang=xx", {"Cookie": "vb_lang=zz", "Accept-Language": "zh"}, "zh"),
    ],
)
def test_the_page_language_is_lang_then_the_saved_choice_then_the_browser(
    path: str, headers: dict[str, str], language: str
) -> None:
    assert page_language(make_mocked_request("GET", path, headers=headers)) == language


async def test_the_schedule_page_in_chinese(client: Client) -> None:
    page = await _page(client, "/", ZH)
    assert '<html lang="zh-CN">' in page
    assert "<h1>大会日程</h1>" in page
    assert "2018中国海外人才交流大会（2018海交会）" in page
    assert ROOM_ZH in page
    assert ROOM_EN not in page
    assert "1号厅 - 峰会厅" in page
    assert "2018年12月21日 星期五" in page
    assert "高峰论坛" in page  # the part label
    assert "日本語" in page  # the languages interpreted for the session, by their own names
    assert 'title="日本分会场（东京）"' in page
    assert ">日本分会场<" in page  # short names in the venue links
    assert 'href="?lang=en"' in page


async def test_the_schedule_page_in_english_is_as_before(client: Client) -> None:
    page = await _page(client, "/", EN)
    assert '<html lang="en">' in page
    assert "<h1>Programme</h1>" in page
    assert ROOM_EN in page
    assert ROOM_ZH not in page
    assert "Friday 21 December 2018" in page
    assert ">Japan sub-venue<" in page
    assert "?venue=kr&amp;lang=zh" in await _page(client, "/?venue=kr", EN)


async def test_the_watch_page_titles_follow_the_language(client: Client) -> None:
    path = f"/watch/gz-hall-2?at={DURING_FORUM}"
    zh = await _page(client, path, ZH)
    assert _h1(zh) == ROOM_ZH
    titles = re.search(r"<h1 data-titles='([^']*)'", zh)
    assert titles
    assert json.loads(html.unescape(titles.group(1))) == {"en": ROOM_EN, "zh": ROOM_ZH}
    assert _h1(await _page(client, path, EN)) == ROOM_EN
    assert _h1(await _page(client, path + "&lang=zh", EN)) == ROOM_ZH


async def test_qa_and_stage_pages_in_chinese(client: Client) -> None:
    qa = await _page(client, f"/qa/{ROOM}", ZH)
    assert _h1(qa) == ROOM_ZH
    assert "<title>Q&A · " + ROOM_ZH in qa
    stage = await _page(client, f"/stage/{ROOM}", ZH)
    assert ROOM_ZH in stage
    assert ROOM_EN not in stage
    names = re.search(r'id="display-names">(.*?)</script>', stage)
    assert names
    assert json.loads(names.group(1))["venues"]["jp"] == "日本分会场（东京）"


async def test_the_operator_console_names_in_the_page_language(client: Client) -> None:
    token = mint(client.server.app, "operator", "jp-op", venue="jp")
    page = await _page(client, "/venue/jp", {**ZH, "Authorization": f"Bearer {token}"})
    assert "<h1>日本分会场（东京）</h1>" in page
    assert "日本分会场回传" in page


async def test_crew_pages_without_a_language_show_the_default(client: Client) -> None:
    token = mint(client.server.app, "director", "d")
    page = await _page(client, "/director", {**ZH, "Authorization": f"Bearer {token}"})
    assert "Hall 1 - Summit Hall" in page


async def test_the_api_keeps_title_and_adds_titles(client: Client) -> None:
    body = await (await client.get("/api/schedule", headers=ZH)).json()
    session = next(s for s in body["sessions"] if s["id"] == ROOM)
    assert session["title"] == ROOM_EN  # the default language, as before
    assert session["titles"] == {"en": ROOM_EN, "zh": ROOM_ZH}
    assert session["part_labels"] == {"en": "Summit forums", "zh": "高峰论坛"}
    assert session["languages"] == ["zh", "ja", "ko"]
    assert body["event"]["names"]["zh"] == "2018中国海外人才交流大会（2018海交会）"
    assert body["event"]["default_language"] == "en"
    jp = next(v for v in body["venues"] if v["id"] == "jp")
    assert (jp["name"], jp["names"]["zh"]) == ("Japan sub-venue (Tokyo)", "日本分会场（东京）")
    hall = next(c for c in body["channels"] if c["id"] == "gz-hall-2")
    assert hall["titles"] == {"en": "Hall 2 - Forum Hall", "zh": "2号厅 - 论坛厅"}


async def test_the_venue_calendar_in_chinese(client: Client) -> None:
    english = await (await client.get("/api/venues/jp/schedule.ics")).read()
    chinese = await (await client.get("/api/venues/jp/schedule.ics?lang=zh")).read()
    summaries = [
        {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
        for body in (english, chinese)
    ]
    assert ROOM_EN in summaries[0]
    assert ROOM_ZH not in summaries[0]
    assert ROOM_ZH in summaries[1]
    assert ROOM_EN not in summaries[1]
    assert "X-WR-CALNAME:2018中国海外人才交流大会" in chinese.decode().replace("\r\n ", "")

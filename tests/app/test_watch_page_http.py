"""``/watch/{channel}`` follows the session on the channel (clock pinned with ``?at=``)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]

# gz-hall-2: the materials forum (Q&A) 10:00-12:00 Guangzhou time, then the finance forum
# 14:00-17:00; on gz-hall-1 the opening ceremony (no Q&A) 09:00-09:50.
DURING_FORUM = "2018-12-21T02:30:00Z"
AT_LUNCH = "2018-12-21T04:30:00Z"


async def _page(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.text()


async def test_watch_shows_the_session_on_air_with_its_qa(client: Client) -> None:
    page = await _page(client, f"/watch/gz-hall-2?at={DURING_FORUM}")
    assert 'data-session="gba-new-materials"' in page
    assert 'data-qa="1"' in page
    assert '<form id="ask"' in page
    assert "no Q&amp;A right now" not in page
    assert "Greater Bay Area New Materials" in page
    # The page follows the channel and knows when to look again: the forum's end.
    assert 'data-follow="1"' in page
    assert 'data-recheck-at="2018-12-21T04:00:00Z"' in page


async def test_between_sessions_watch_shows_the_next_one_that_day(client: Client) -> None:
    page = await _page(client, f"/watch/gz-hall-2?at={AT_LUNCH}")
    assert 'data-session="sci-tech-finance-forum"' in page
    assert 'data-recheck-at="2018-12-21T06:00:00Z"' in page


async def test_a_session_without_qa_says_so(client: Client) -> None:
    page = await _page(client, "/watch/gz-hall-1?at=2018-12-21T01:30:00Z")
    assert 'data-session="opening"' in page
    assert 'data-qa=""' in page
    assert "no Q&amp;A right now" in page


async def test_a_chosen_session_is_not_followed(client: Client) -> None:
    page = await _page(client, f"/watch/gz-hall-2?session=gba-new-materials&at={AT_LUNCH}")
    assert 'data-session="gba-new-materials"' in page
    assert 'data-follow=""' in page
    page = await _page(client, f"/session/gba-new-materials?at={AT_LUNCH}")
    assert 'data-follow=""' in page


async def test_the_session_api_is_what_the_page_asks_when_it_rechecks(client: Client) -> None:
    response = await client.get(f"/api/channels/gz-hall-2/session?at={DURING_FORUM}")
    assert response.status == 200
    assert await response.json() == {
        "channel": "gz-hall-2",
        "state": "on_air",
        "session": {
            "id": "gba-new-materials",
            "title": "Greater Bay Area New Materials Science and Technology "
            "Cooperation Summit Forum",
            "titles": {
                "en": "Greater Bay Area New Materials Science and Technology "
                "Cooperation Summit Forum",
                "zh": "粤港澳大湾区新材料科技合作高峰论坛",
            },
            "qa": True,
            "start": "2018-12-21T02:00:00Z",
            "end": "2018-12-21T04:00:00Z",
        },
        "recheck_at": "2018-12-21T04:00:00Z",
    }
    later = await (await client.get(f"/api/channels/gz-hall-2/session?at={AT_LUNCH}")).json()
    assert (later["state"], later["session"]["id"]) == ("next", "sci-tech-finance-forum")
    # Without ?at= it is the real clock: the 2018 event is long over.
    now = await (await client.get("/api/channels/gz-hall-2/session")).json()
    assert (now["state"], now["recheck_at"]) == ("last", None)


async def test_bad_clock_or_channel(client: Client) -> None:
    bad = await client.get("/watch/gz-hall-2?at=half-past-ten")
    assert bad.status == 400
    assert "?at= needs a date-time with a zone" in await bad.text()
    assert (await client.get("/watch/gz-hall-2?at=2018-12-21T10:30:00")).status == 400
    assert (await client.get("/api/channels/nowhere/session")).status == 404

"""Pages show people names and words, not ids and enum values."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from tests.app.test_csv_exports import store_one_airing
from tests.control.support import mint
from web.app import create_app

Client = TestClient[Any, Any]
ROOM = "gba-new-materials"


async def _html(client: Client, path: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return await response.text()


def _names(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="display-names">(.*?)</script>', html)
    assert found, "the page carries no #display-names"
    names: dict[str, Any] = json.loads(found.group(1))
    return names


async def test_moderator_page_gives_its_script_names_for_ids(client: Client) -> None:
    token = mint(client.server.app, "moderator", "mod", sessions=[ROOM])
    names = _names(await _html(client, f"/moderate/{ROOM}", token))
    assert names["venues"]["jp"] == "Japan sub-venue (Tokyo)"
    assert names["channels"]["gz-hall-1"] == "Hall 1 - Summit Hall"
    assert names["sessions"]["high-level-talents-summit"] == "National High-level Talents Summit"
    assert names["origins"] == {
        "remote": "watching online",
        "in_room": "in the hall",
        "sub_venue": "from a sub-venue",
    }
    assert names["from_venue"]["jp"] == "from the Japan sub-venue (Tokyo)"


@pytest.mark.parametrize("path", [f"/qa/{ROOM}", f"/stage/{ROOM}", "/watch/gz-hall-2"])
async def test_public_pages_carry_the_names_too(client: Client, path: str) -> None:
    assert _names(await _html(client, path))["venues"]["kr"].startswith("Republic of Korea")


async def test_consoles_name_the_return_feed(client: Client) -> None:
    app = client.server.app
    console = await _html(client, "/venue/jp", mint(app, "operator", "jp-op", venue="jp"))
    assert "(Japan return feed)" in console
    assert "(jp-return)" not in console
    assert _names(console)["channels"]["jp-return"] == "Japan return feed"
    director = mint(app, "director", "d")
    wall = await _html(client, "/returns", director)
    assert "Japan return feed · Asia/Tokyo" in wall
    assert ">jp-return ·" not in wall
    assert "display-names" in await _html(client, "/director", director)


async def test_schedule_says_return_feed_and_language_names(client: Client) -> None:
    html = await _html(client, "/")
    assert '<span class="tag return">return feed</span>' in html
    assert '<span class="tag programme">programme</span>' in html
    assert "· 中文/English" in html
    assert "· zh/en" not in html


@pytest.fixture
async def records_client(settings: Settings, reference_event: Event) -> AsyncIterator[Client]:
    await store_one_airing(settings.data_dir, reference_event.id)
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


async def test_records_name_the_parts(records_client: Client) -> None:
    director = mint(records_client.server.app, "director", "d")
    html = await _html(records_client, "/records", director)
    assert '<th scope="row">Anniversary commemoration</th>' in html
    assert '<th scope="row">anniversary</th>' not in html

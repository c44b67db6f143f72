"""``Origin`` on /ws and on cookie-borne state-changing requests (HTTP level).

The Chromium test (test_http_origin_browser.py) shows the same refusals from a real page
on a second origin; these pin the rule itself: which requests are checked, against what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from tests.control.support import mint
from web.app import create_app
from web.origin import parse_origin

ROUTE = "/api/venues/jp/route"
OTHER_ORIGIN = "http://127.0.0.1:1"


def own(client: TestClient[Any, Any]) -> str:
    return f"http://127.0.0.1:{client.port}"


async def _ws_status(client: TestClient[Any, Any], headers: dict[str, str]) -> int:
    try:
        ws = await client.ws_connect("/ws", headers=headers)
    except aiohttp.WSServerHandshakeError as error:
        return error.status
    await ws.close()
    return 101


async def test_the_websocket_refuses_another_origin(client: TestClient[Any, Any]) -> None:
    assert await _ws_status(client, {"Origin": OTHER_ORIGIN}) == 403
    assert await _ws_status(client, {"Origin": "null"}) == 403
    assert await _ws_status(client, {"Origin": f"https://127.0.0.1:{client.port}"}) == 403
    assert await _ws_status(client, {"Origin": own(client)}) == 101
    assert await _ws_status(client, {}) == 101  # no Origin: not a browser


async def _route(client: TestClient[Any, Any], headers: dict[str, str]) -> int:
    response = await client.post(ROUTE, json={"channel": None}, headers=headers)
    return response.status


async def test_cookie_borne_changes_need_our_origin(client: TestClient[Any, Any]) -> None:
    director = mint(client.server.app, "director", "dir")
    client.session.cookie_jar.update_cookies({"vb_token": director})
    assert await _route(client, {"Origin": OTHER_ORIGIN}) == 403
    assert await _route(client, {"Origin": "null"}) == 403
    assert await _route(client, {"Origin": own(client)}) == 202
    assert await _route(client, {}) == 202  # curl with a cookie: no Origin, no browser
    # A Bearer token is not something another site's page can make the browser send.
    bearer = {"Origin": OTHER_ORIGIN, "Authorization": f"Bearer {director}"}
    assert await _route(client, bearer) == 202


async def test_cookie_borne_whep_needs_our_origin(client: TestClient[Any, Any]) -> None:
    operator = mint(client.server.app, "operator", "jp-op", venue="jp")
    sdp = {"Content-Type": "application/sdp"}
    # Without a token the venue output is refused; with the cookie it gets past the
    # check (to the offer, which is nonsense here).
    assert (await client.post("/whep/venue/jp", data="v=0", headers=sdp)).status == 401
    client.session.cookie_jar.update_cookies({"vb_token": operator})
    ours = await client.post("/whep/venue/jp", data="v=0", headers={**sdp, "Origin": own(client)})
    assert ours.status not in (401, 403)
    theirs = await client.post(
        "/whep/venue/jp", data="v=0", headers={**sdp, "Origin": OTHER_ORIGIN}
    )
    assert theirs.status == 403


@pytest.fixture
async def public_client(
    settings: Settings, reference_event: Event
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = create_app(replace(settings, public_url="https://live.example"), reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client


async def test_with_a_public_url_only_that_origin_counts(
    public_client: TestClient[Any, Any],
) -> None:
    assert await _ws_status(public_client, {"Origin": "https://live.example"}) == 101
    assert await _ws_status(public_client, {"Origin": "https://LIVE.example:443"}) == 101
    assert await _ws_status(public_client, {"Origin": own(public_client)}) == 403
    assert await _ws_status(public_client, {"Origin": "http://live.example"}) == 403


def test_origins_are_compared_by_scheme_host_and_port() -> None:
    assert parse_origin("http://Example.org") == ("http", "example.org", 80)
    assert parse_origin("https://example.org:443") == ("https", "example.org", 443)
    assert parse_origin("https://example.org:8443") == ("https", "example.org", 8443)
    assert parse_origin("null") is None
    assert parse_origin("file://") is None
    assert parse_origin("javascript:alert(1)") is None

"""Who may open the operator console and the return-feed wall; the viewer pages; counts."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.control.support import mint


async def _status(client: TestClient[Any, Any], path: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get(path, headers=headers)
    return response.status


async def test_console_is_for_the_venues_operator_and_directors(
    client: TestClient[Any, Any],
) -> None:
    app = client.server.app
    jp = mint(app, "operator", "jp-op", venue="jp")
    us = mint(app, "operator", "us-op", venue="us")
    director = mint(app, "director", "dir")
    viewer = mint(app, "viewer", "v")
    assert await _status(client, "/venue/jp") == 401
    assert await _status(client, "/venue/jp", "not-a-token") == 401
    assert await _status(client, "/venue/jp", jp) == 200
    assert await _status(client, "/venue/jp", us) == 403
    assert await _status(client, "/venue/jp", viewer) == 403
    assert await _status(client, "/venue/jp", director) == 200
    assert await _status(client, "/venue/mars", director) == 404
    # The token stays out of the HTML: the page's scripts use the HttpOnly cookie.
    page = await (await client.get(f"/venue/jp?token={jp}")).text()
    assert jp not in page
    assert "data-token" not in page
    assert 'data-return="jp-return"' in page


async def test_wall_is_for_directors(client: TestClient[Any, Any]) -> None:
    app = client.server.app
    assert await _status(client, "/returns") == 401
    assert await _status(client, "/returns", mint(app, "operator", "o", venue="jp")) == 403
    director = mint(app, "director", "d")
    page = await (
        await client.get("/returns", headers={"Authorization": f"Bearer {director}"})
    ).text()
    for channel in ("us-return", "eu-return", "jp-return", "kr-return", "cis-return"):
        assert f'data-channel="{channel}"' in page


async def test_viewer_pages(client: TestClient[Any, Any]) -> None:
    assert await _status(client, "/watch/gz-hall-2") == 200
    assert await _status(client, "/watch/nowhere") == 404
    assert await _status(client, "/session/gba-new-materials") == 200
    assert await _status(client, "/session/nothing") == 404
    # A session on another channel is refused rather than shown beside the wrong player.
    assert await _status(client, "/watch/gz-hall-1?session=gba-new-materials") == 404
    page = await (await client.get("/session/gba-new-materials")).text()
    assert 'data-channel="gz-hall-2"' in page
    assert 'data-qa="1"' in page
    response = await client.get("/api/channels/gz-hall-2/viewers")
    assert await response.json() == {"channel": "gz-hall-2", "viewers": 0}
    assert await _status(client, "/api/channels/nowhere/viewers") == 404


async def test_an_operators_invite_lands_on_the_console(client: TestClient[Any, Any]) -> None:
    token = mint(client.server.app, "operator", "kr-op", venue="kr")
    response = await client.get(f"/join?token={token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/venue/kr"
    # The cookie alone opens the console afterwards.
    assert (await client.get("/venue/kr")).status == 200

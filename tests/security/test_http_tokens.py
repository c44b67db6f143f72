"""Tokens stay out of HTML; the pages' media requests authenticate with the cookie."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.control.support import mint


async def test_no_page_carries_the_token(client: TestClient[Any, Any]) -> None:
    app = client.server.app
    operator = mint(app, "operator", "jp-op", venue="jp")
    director = mint(app, "director", "dir")
    for path, token in (("/venue/jp", operator), ("/returns", director), ("/director", director)):
        by_header = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        by_query = await client.get(path, params={"token": token})
        for response in (by_header, by_query):
            assert response.status == 200, path
            html = await response.text()
            assert token not in html, path
            assert "data-token" not in html, path


async def test_the_invite_cookie_is_http_only_and_same_site(client: TestClient[Any, Any]) -> None:
    token = mint(client.server.app, "operator", "jp-op", venue="jp")
    response = await client.get("/join", params={"token": token}, allow_redirects=False)
    cookie = response.cookies["vb_token"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP here; see test_http_proxies for TLS


async def test_whep_takes_the_cookie_when_there_is_no_bearer(client: TestClient[Any, Any]) -> None:
    viewer = mint(client.server.app, "viewer", "v")
    sdp = {"Content-Type": "application/sdp"}
    anonymous = await client.post("/whep/venue/jp", data="v=0", headers=sdp)
    assert anonymous.status == 401
    client.session.cookie_jar.update_cookies({"vb_token": viewer})
    # The cookie is read: a viewer may not play a venue output (403, not 401).
    with_cookie = await client.post("/whep/venue/jp", data="v=0", headers=sdp)
    assert with_cookie.status == 403

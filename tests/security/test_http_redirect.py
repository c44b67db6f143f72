"""``/join``: no open redirect through ``next``, and no silent switch of who is signed in."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.control.support import mint
from web.join import local_path

# ``next`` as it appears, already percent-encoded, in a crafted invite link.
OPEN_REDIRECTS = [
    "/%09/evil.example/",
    "/%0a/evil.example/",
    "/%0d/evil.example/",
    "/%0d%0a/evil.example/",
    "/%00/evil.example/",
    "//evil.example/",
    "%2F%2Fevil.example/",
    "/%2F/evil.example/",
    "/%5Cevil.example/",
    "%5C%5Cevil.example/",
    "/%5C/evil.example/",
    "%5C/evil.example/",
    "/%20/evil.example/",
    "%20//evil.example/",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "%09//evil.example/",
    "/%E3%80%82evil.example",
    "evil.example",
]
LOCAL = ["/qa/open", "/moderate/roadshow?tab=pending", "/venue/jp?at=2018-12-21T02:30:00Z"]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
async def test_next_never_leaves_the_site(client: TestClient[Any, Any], target: str) -> None:
    token = mint(client.server.app, "director", "dir")
    url = URL(f"/join?token={token}&next={target}", encoded=True)
    response = await client.get(url, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/director"


@pytest.mark.parametrize("target", LOCAL)
async def test_next_keeps_paths_on_the_site(client: TestClient[Any, Any], target: str) -> None:
    token = mint(client.server.app, "director", "dir")
    response = await client.get(
        "/join", params={"token": token, "next": target}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == target


def test_local_path_after_decoding() -> None:
    for decoded in ("/\t/evil.example", "/\n/x", "/\\x", "\\\\x", "// x", "/\u3002x", " /x", ""):
        assert local_path(decoded) is None, repr(decoded)
    assert local_path("/records?day=2") == "/records?day=2"


def _cookie(client: TestClient[Any, Any]) -> str | None:
    for cookie in client.session.cookie_jar:
        if cookie.key == "vb_token":
            return cookie.value
    return None


async def test_a_link_for_someone_else_asks_before_switching(
    client: TestClient[Any, Any],
) -> None:
    app = client.server.app
    mine = mint(app, "director", "victim")
    theirs = mint(app, "viewer", "attacker")
    assert (await client.get("/join", params={"token": mine}, allow_redirects=False)).status == 303
    assert _cookie(client) == mine

    page = await client.get("/join", params={"token": theirs}, allow_redirects=False)
    assert page.status == 200
    assert "Set-Cookie" not in page.headers
    html = await page.text()
    assert "Switch who is signed in?" in html
    assert "victim" in html
    assert "attacker" in html
    assert _cookie(client) == mine

    form = {"token": theirs, "next": "/qa/open"}
    other = {"Origin": "http://127.0.0.1:1"}
    refused = await client.post("/join", data=form, headers=other, allow_redirects=False)
    assert refused.status == 403
    missing = await client.post("/join", data=form, allow_redirects=False)
    assert missing.status == 403
    assert _cookie(client) == mine

    ours = {"Origin": f"http://127.0.0.1:{client.port}"}
    switched = await client.post("/join", data=form, headers=ours, allow_redirects=False)
    assert switched.status == 303
    assert switched.headers["Location"] == "/qa/open"
    assert _cookie(client) == theirs


async def test_the_same_person_again_is_signed_in_at_once(client: TestClient[Any, Any]) -> None:
    app = client.server.app
    first = mint(app, "operator", "jp-op", venue="jp")
    again = mint(app, "operator", "jp-op", venue="jp")
    await client.get("/join", params={"token": first}, allow_redirects=False)
    response = await client.get("/join", params={"token": again}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/venue/jp"


async def test_the_confirmation_redirect_is_checked_too(client: TestClient[Any, Any]) -> None:
    token = mint(client.server.app, "viewer", "v")
    ours = {"Origin": f"http://127.0.0.1:{client.port}"}
    form = {"token": token, "next": "/\t/evil.example/"}
    response = await client.post("/join", data=form, headers=ours, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"

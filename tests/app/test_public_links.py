"""Links we hand out (issue 12): the public URL, else the address the browser used.

A stage display opened on a LAN address, or reached through the reverse proxy, must show
a QR code for that address; forwarded headers count only from trusted proxies, and a
hostile ``Host`` never reaches a link.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings, SettingsError, load_settings
from tests.media_peers import needs_network
from tests.obs_offer import OBS_OFFER
from web.app import create_app
from web.client import is_valid_host
from web.qa_pages import qr_svg

Client = TestClient[web.Request, web.Application]
ROOM = "gba-new-materials"
SECRET = "public-links-producer-secret-01"
LAN = "192.168.20.7:8080"
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "live.example.org"}


async def _client(settings: Settings, event: Event) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(settings, event), host="127.0.0.1")) as client:
        yield client


@pytest.fixture
async def direct(settings: Settings, reference_event: Event) -> AsyncIterator[Client]:
    """No public URL and no trusted proxy: links follow the request's own Host."""
    async for client in _client(replace(settings, producer_secret=SECRET), reference_event):
        yield client


@pytest.fixture
async def proxied(settings: Settings, reference_event: Event) -> AsyncIterator[Client]:
    """No public URL; the test client's address (127.0.0.1) is the trusted proxy."""
    changed = replace(settings, trusted_proxies=("127.0.0.1",), producer_secret=SECRET)
    async for client in _client(changed, reference_event):
        yield client


async def stage_link(client: Client, headers: dict[str, str]) -> str:
    """The Q&A link the stage page shows, checked against the QR code it draws."""
    response = await client.get(f"/stage/{ROOM}", headers=headers)
    assert response.status == 200
    html = await response.text()
    start = html.index("<br>", html.index("stage-qr")) + len("<br>")
    link = html[start : html.index("</figcaption>", start)].strip()
    assert str(qr_svg(link)) in html, "the QR code encodes another address than the caption"
    return link


async def calendar_link(client: Client, headers: dict[str, str]) -> str:
    response = await client.get("/api/venues/us/schedule.ics", headers=headers)
    assert response.status == 200
    text = (await response.text()).replace("\r\n ", "")  # unfold iCalendar lines
    start = text.index("Watch: ") + len("Watch: ")
    return text[start:].split("\\n", 1)[0].split("\r\n", 1)[0]


async def test_a_stage_opened_on_a_lan_address_shows_that_address(direct: Client) -> None:
    link = await stage_link(direct, {"Host": LAN})
    assert link == f"http://{LAN}/qa/{ROOM}"
    assert (await calendar_link(direct, {"Host": LAN})).startswith(f"http://{LAN}/")


async def test_behind_a_trusted_proxy_links_use_its_forwarded_scheme_and_host(
    proxied: Client,
) -> None:
    assert await stage_link(proxied, PROXY_HEADERS) == f"https://live.example.org/qa/{ROOM}"
    assert (await calendar_link(proxied, PROXY_HEADERS)).startswith("https://live.example.org/")
    # Without X-Forwarded-Host the proxy passed the browser's Host on (Caddy's default).
    only_proto = {"X-Forwarded-Proto": "https", "Host": "live.example.org"}
    assert await stage_link(proxied, only_proto) == f"https://live.example.org/qa/{ROOM}"


async def test_forwarded_headers_from_anyone_else_are_ignored(direct: Client) -> None:
    link = await stage_link(direct, {**PROXY_HEADERS, "Host": LAN})
    assert link == f"http://{LAN}/qa/{ROOM}"


async def test_a_hostile_host_never_reaches_a_link(direct: Client, proxied: Client) -> None:
    for hostile in ("evil.example/x?", "a@evil.example", "x y", "<script>"):
        link = await stage_link(direct, {"Host": hostile})
        port = direct.server.port
        assert link == f"http://127.0.0.1:{port}/qa/{ROOM}", hostile
        # A trusted proxy's bad X-Forwarded-Host falls back to the Host it passed on.
        forwarded = {"X-Forwarded-Host": hostile, "Host": "live.example.org"}
        assert await stage_link(proxied, forwarded) == f"http://live.example.org/qa/{ROOM}"


async def test_the_public_url_wins_over_the_request(
    settings: Settings, reference_event: Event
) -> None:
    configured = replace(settings, public_url="https://venue.example.net/")
    async for client in _client(configured, reference_event):
        link = await stage_link(client, {"Host": LAN, **PROXY_HEADERS})
        assert link == f"https://venue.example.net/qa/{ROOM}"


def test_what_counts_as_a_host() -> None:
    for good in ("example.org", "live.example.org:8443", "10.0.0.5:8080", "[2001:db8::1]:443"):
        assert is_valid_host(good), good
    for bad in ("", "a..b", "-x.org", "x/y", "a@b", "a b", "x:port", "a" * 300 + "!"):
        assert not is_valid_host(bad), bad


@needs_network
async def test_whip_location_follows_the_address_used(proxied: Client) -> None:
    headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/sdp"}
    response = await proxied.post(
        "/whip/gz-hall-1", data=OBS_OFFER, headers={**headers, **PROXY_HEADERS}
    )
    assert response.status == 201, await response.text()
    assert response.headers["Location"].startswith("https://live.example.org/whip/gz-hall-1/")
    # End the session: DELETE at the path the Location names.
    path = response.headers["Location"].removeprefix("https://live.example.org")
    assert (await proxied.delete(path, headers=headers)).status == 200


@pytest.mark.parametrize("url", ["https://", "https://x:99999", "http://[::1", "https://:443/"])
def test_a_public_url_without_a_usable_host_stops_start_up(url: str) -> None:
    with pytest.raises(SettingsError, match=r"public_url.*needs a host"):
        load_settings(None, {"VENUEBRIDGE_PUBLIC_URL": url})
    assert load_settings(None, {"VENUEBRIDGE_PUBLIC_URL": "https://[::1]:8443/"}).public_url

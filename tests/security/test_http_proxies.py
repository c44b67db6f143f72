"""Trusted proxies: ``X-Forwarded-For`` / ``-Proto`` believed only from them."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from tests.control.support import mint
from tests.helpers import eventually
from web.app import create_app
from web.client import forwarded_client, trusted_networks
from web.keys import HUB

PROXIES = trusted_networks(("10.0.0.0/8", "127.0.0.1", "fd00::/8"))


def test_the_forwarded_chain_is_read_from_the_right() -> None:
    # An untrusted peer's header is ignored whatever it says.
    assert forwarded_client("203.0.113.9", ["1.2.3.4"], PROXIES) == "203.0.113.9"
    # One trusted proxy: its client is the hop it appended.
    assert forwarded_client("127.0.0.1", ["198.51.100.7"], PROXIES) == "198.51.100.7"
    # The client forged hops on the left; the rightmost untrusted hop is the real one.
    chain = ["6.6.6.6, 198.51.100.7", "10.1.2.3"]
    assert forwarded_client("127.0.0.1", chain, PROXIES) == "198.51.100.7"
    # Everyone in the chain is ours: the leftmost is the client.
    assert forwarded_client("127.0.0.1", ["10.9.9.9, 10.1.1.1"], PROXIES) == "10.9.9.9"
    # No header from a trusted proxy: the proxy is the client.
    assert forwarded_client("127.0.0.1", [], PROXIES) == "127.0.0.1"
    # Garbage stops the walk at the last address we could read.
    assert forwarded_client("127.0.0.1", ["1.1.1.1, bogus, 10.0.0.5"], PROXIES) == "10.0.0.5"
    assert forwarded_client("127.0.0.1", ["[2001:db8::1]:443"], PROXIES) == "2001:db8::1"
    assert forwarded_client("::ffff:127.0.0.1", ["198.51.100.7:5555"], PROXIES) == "198.51.100.7"
    # Nothing is trusted by default.
    assert forwarded_client("127.0.0.1", ["198.51.100.7"], ()) == "127.0.0.1"


def test_trusted_proxies_are_networks() -> None:
    assert ipaddress.ip_address("10.200.1.1") in PROXIES[0]


@pytest.fixture
async def proxied(
    settings: Settings, reference_event: Event
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = create_app(replace(settings, trusted_proxies=("127.0.0.1",)), reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client


def _set_cookie(response: Any) -> str:
    return str(response.headers.get("Set-Cookie", ""))


async def test_the_cookie_is_secure_behind_a_tls_proxy(proxied: TestClient[Any, Any]) -> None:
    token = mint(proxied.server.app, "viewer", "v")
    https = {"X-Forwarded-Proto": "https"}
    response = await proxied.get(
        "/join", params={"token": token}, headers=https, allow_redirects=False
    )
    cookie = _set_cookie(response)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    plain = await proxied.get("/join", params={"token": token}, allow_redirects=False)
    assert "Secure" not in _set_cookie(plain)


async def test_a_stranger_cannot_claim_tls(client: TestClient[Any, Any]) -> None:
    token = mint(client.server.app, "viewer", "v")
    https = {"X-Forwarded-Proto": "https"}
    response = await client.get(
        "/join", params={"token": token}, headers=https, allow_redirects=False
    )
    assert "Secure" not in _set_cookie(response)


async def _ws_address(test_client: TestClient[Any, Any], forwarded: str) -> str:
    ws = await test_client.ws_connect("/ws", headers={"X-Forwarded-For": forwarded})
    hub = test_client.server.app[HUB]
    await eventually(lambda: len(hub.clients.everyone()) == 1, "the websocket to connect")
    address = hub.clients.everyone()[0].address
    await ws.close()
    await eventually(lambda: len(hub.clients.everyone()) == 0, "the websocket to go")
    return str(address)


async def test_websocket_clients_are_keyed_on_the_forwarded_address(
    proxied: TestClient[Any, Any], client: TestClient[Any, Any]
) -> None:
    assert await _ws_address(proxied, "6.6.6.6, 198.51.100.7") == "198.51.100.7"
    assert await _ws_address(client, "198.51.100.7") == "127.0.0.1"

"""Hostile SDP (issue 10, finding 9): bad candidates, fingerprints, NUL bytes, sizes.

Each is refused at the edge with a 4xx that says what is wrong, and nothing is logged at
ERROR (before, a candidate port of 99999999 was accepted and aioice logged an
``OverflowError``; offers with a garbage fingerprint or NUL bytes got 201).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event
from streaming.sdp_syntax import MAX_FRAGMENT_BYTES, MAX_FRAGMENT_CANDIDATES, MAX_SDP_LINES
from tests.helpers import local_settings
from tests.obs_offer import FINGERPRINT, OBS_OFFER
from web.app import create_app

Client = TestClient[web.Request, web.Application]
SECRET = "sdp-test-secret-0123456789"
WHIP = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/sdp"}
TRICKLE = {"Content-Type": "application/trickle-ice-sdpfrag"}
GOOD_CANDIDATE = "candidate:1 1 UDP 2122252543 192.0.2.10 50000 typ host"


@pytest.fixture
async def client(tmp_path: Path, reference_event: Event) -> AsyncIterator[Client]:
    settings = local_settings(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", producer_secret=SECRET
    )
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client


async def _session_path(client: Client) -> str:
    response = await client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=WHIP)
    assert response.status == 201, await response.text()
    return response.headers["Location"].removeprefix(str(client.make_url("")).rstrip("/"))


BAD_CANDIDATES = {
    "port too large": "candidate:1 1 UDP 2122252543 192.0.2.10 99999999 typ host",
    "port zero": "candidate:1 1 UDP 2122252543 192.0.2.10 0 typ host",
    "port not a number": "candidate:1 1 UDP 2122252543 192.0.2.10 5x typ host",
    "component zero": "candidate:1 0 UDP 2122252543 192.0.2.10 50000 typ host",
    "component too large": "candidate:1 999 UDP 2122252543 192.0.2.10 50000 typ host",
    "transport": "candidate:1 1 SCTP 2122252543 192.0.2.10 50000 typ host",
    "priority too large": "candidate:1 1 UDP 99999999999 192.0.2.10 50000 typ host",
    "address": "candidate:1 1 UDP 2122252543 999.0.2.10 50000 typ host",
    "DNS name": "candidate:1 1 UDP 2122252543 evil.example 50000 typ host",
    "type": "candidate:1 1 UDP 2122252543 192.0.2.10 50000 typ wormhole",
    "no typ": "candidate:1 1 UDP 2122252543 192.0.2.10 50000 as host",
    "foundation": "candidate:<script> 1 UDP 2122252543 192.0.2.10 50000 typ host",
}


@pytest.mark.parametrize("line", BAD_CANDIDATES.values(), ids=BAD_CANDIDATES.keys())
async def test_trickled_candidates_are_checked(
    client: Client, line: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = await _session_path(client)
    fragment = f"a=mid:0\r\na={line}\r\n"
    with caplog.at_level(logging.INFO):
        response = await client.patch(path, data=fragment, headers=TRICKLE)
        assert response.status == 400
        assert "candidate" in await response.text()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The same candidate inside an offer is refused too.
    offer = OBS_OFFER.replace("a=mid:0\r\n", f"a=mid:0\r\na={line}\r\n", 1)
    assert (await client.post("/whip/gz-hall-1", data=offer, headers=WHIP)).status == 400


async def test_good_candidates_still_pass(client: Client) -> None:
    path = await _session_path(client)
    lines = [
        GOOD_CANDIDATE,
        "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0",
        "candidate:3 1 udp 2122262783 2001:db8::7 50001 typ host generation 0",
        "candidate:4 1 udp 2122194687 6c1f8e4e-1d2b-4f3e-9b8a-0123456789ab.local 5000 typ host",
        "candidate:5 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active",
    ]
    fragment = "a=mid:0\r\n" + "".join(f"a={line}\r\n" for line in lines)
    response = await client.patch(path, data=fragment, headers=TRICKLE)
    assert response.status == 204, await response.text()


BAD_FINGERPRINTS = {
    "garbage": "a=fingerprint:sha-256 garbage",
    "unknown hash": f"a=fingerprint:rot-13 {FINGERPRINT}",
    "short": "a=fingerprint:sha-256 AB:CD",
    "not hex": "a=fingerprint:sha-256 " + ":".join(["ZZ"] * 32),
    "sha-1 length for sha-256": "a=fingerprint:sha-256 " + ":".join(["AB"] * 20),
}


@pytest.mark.parametrize("line", BAD_FINGERPRINTS.values(), ids=BAD_FINGERPRINTS.keys())
async def test_offers_with_a_bad_fingerprint_are_400(client: Client, line: str) -> None:
    offer = OBS_OFFER.replace(f"a=fingerprint:sha-256 {FINGERPRINT}", line)
    assert line in offer
    response = await client.post("/whip/gz-hall-1", data=offer, headers=WHIP)
    assert response.status == 400
    assert "fingerprint" in await response.text()


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f"], ids=["nul", "bel", "esc", "del"])
async def test_offers_with_control_characters_are_400(client: Client, bad: str) -> None:
    offer = OBS_OFFER.replace("s=-", f"s=-{bad}x")
    response = await client.post("/whip/gz-hall-1", data=offer, headers=WHIP)
    assert response.status == 400
    assert "control characters" in await response.text()
    path = await _session_path(client)
    fragment = f"a=mid:0\r\na={GOOD_CANDIDATE}{bad}\r\n"
    response = await client.patch(path, data=fragment, headers=TRICKLE)
    assert response.status == 400


async def test_offer_size_and_line_count_are_capped(client: Client) -> None:
    padding = "a=x-padding:" + "p" * 100 + "\r\n"
    big = OBS_OFFER + padding * 700  # about 70 KiB, over the 64 KiB limit
    response = await client.post("/whip/gz-hall-1", data=big, headers=WHIP)
    assert response.status == 413
    assert "too large" in await response.text()
    # Chunked (no Content-Length): the same limit, found after reading.
    chunked = await client.post("/whip/gz-hall-1", data=_chunks(big.encode()), headers=WHIP)
    assert chunked.status == 413
    many = OBS_OFFER + "a=x\r\n" * MAX_SDP_LINES
    response = await client.post("/whip/gz-hall-1", data=many, headers=WHIP)
    assert response.status == 400
    assert "too many lines" in await response.text()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 4096):
        yield data[start : start + 4096]


async def test_trickle_fragments_are_capped(client: Client) -> None:
    path = await _session_path(client)
    big = "a=mid:0\r\n" + f"a={GOOD_CANDIDATE}\r\n" * (MAX_FRAGMENT_BYTES // 40)
    response = await client.patch(path, data=big, headers=TRICKLE)
    assert response.status == 413
    many = "a=mid:0\r\n" + f"a={GOOD_CANDIDATE}\r\n" * (MAX_FRAGMENT_CANDIDATES + 1)
    assert len(many) < MAX_FRAGMENT_BYTES
    response = await client.patch(path, data=many, headers=TRICKLE)
    assert response.status == 400
    assert f"at most {MAX_FRAGMENT_CANDIDATES} candidates" in await response.text()

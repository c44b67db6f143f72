"""Session URLs belong to whoever created them (issue 10, finding 1).

Every kind of session URL (WHIP, WHEP of a channel, WHEP of a venue output) is probed the
way a stranger would: with the session id that ``/api/streams`` used to list, with a
wrong or truncated secret, with a director's token but no secret. Each is 404, exactly
like a session that does not exist, and the session stays up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from config import Event
from signaling.auth import Grant, Role
from streaming.http_rules import session_id_of
from streaming.hub import MediaHub
from tests.helpers import eventually, local_settings
from tests.media_peers import needs_network, publish
from tests.obs_offer import OBS_OFFER
from web.app import create_app
from web.keys import AUTHORITY, MEDIA

SECRET = "session-url-test-secret-0123"
SDP = {"Content-Type": "application/sdp"}
TRICKLE = {"Content-Type": "application/trickle-ice-sdpfrag"}
FRAGMENT = "a=mid:0\r\na=candidate:1 1 UDP 2122252543 192.0.2.10 50000 typ host\r\n"
PLAYER_OFFER = OBS_OFFER.replace("a=sendonly", "a=recvonly")


@dataclass
class Server:
    base: str
    app: web.Application
    http: aiohttp.ClientSession
    peers: list[Any] = field(default_factory=list)  # client connections to close at the end

    @property
    def hub(self) -> MediaHub:
        return self.app[MEDIA]

    def bearer(self, role: Role, **scope: object) -> dict[str, str]:
        grant = Grant(identity=f"test-{role}", role=role, **scope)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {self.app[AUTHORITY].mint(grant, ttl=600)}"}


@pytest.fixture
async def server(tmp_path: Path, reference_event: Event) -> AsyncIterator[Server]:
    settings = local_settings(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", producer_secret=SECRET
    )
    app = create_app(settings, reference_event)
    test_server = TestServer(app, host="127.0.0.1", port=0)
    await test_server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            server = Server(str(test_server.make_url("")).rstrip("/"), app, http)
            yield server
            for pc in server.peers:
                await pc.close()
    finally:
        await test_server.close()


async def _create(server: Server, kind: str) -> str:
    """A session of ``kind``; returns its session URL path (the Location's path)."""
    if kind == "whip":
        path, headers, offer = "/whip/gz-hall-1", {"Authorization": f"Bearer {SECRET}"}, OBS_OFFER
    elif kind == "whep-venue":
        path, headers, offer = "/whep/venue/jp", server.bearer(Role.OPERATOR, venue="jp"), None
    else:
        # A channel plays only while live: a real aiortc publisher makes it so.
        publisher = await publish(server.http, f"{server.base}/whip/gz-hall-2", SECRET, 200)
        server.peers.append(publisher.pc)
        await eventually(lambda: server.hub.channel("gz-hall-2").live, "gz-hall-2 to go live")
        path, headers, offer = "/whep/gz-hall-2", {}, None
    body = offer or PLAYER_OFFER
    async with server.http.post(server.base + path, data=body, headers={**SDP, **headers}) as r:
        assert r.status == 201, await r.text()
        location = r.headers["Location"]
    assert location.startswith(server.base + path + "/")
    return location.removeprefix(server.base)


KINDS = [
    pytest.param("whip", id="whip"),
    pytest.param("whep-venue", id="whep-venue"),
    pytest.param("whep-channel", id="whep-channel", marks=[pytest.mark.network, needs_network]),
]


def _session_ids(hub: MediaHub) -> set[str]:
    return {p.id for p in hub.publishers()} | {s.id for s in hub.subscribers()}


def _forgeries(path: str) -> dict[str, str]:
    """Every URL a stranger might try for the session at ``path``."""
    base, _, key = path.rpartition("/")
    session_id, _, secret = key.partition(".")
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    return {
        "id only (what /api/streams listed)": f"{base}/{session_id}",
        "id and an empty secret": f"{base}/{session_id}.",
        "wrong secret": f"{base}/{session_id}.{flipped}",
        "truncated secret": f"{base}/{session_id}.{secret[:8]}",
        "secret with a suffix": f"{base}/{session_id}.{secret}x",
        "another channel's path": f"/whip/gz-hall-3/{key}"
        if "/whip/" in base
        else f"/whep/venue/kr/{key}",
        "a session that does not exist": f"{base}/nope.{secret}",
    }


@pytest.mark.parametrize("kind", KINDS)
async def test_only_the_holder_of_the_session_url_may_patch_or_delete(
    server: Server, kind: str
) -> None:
    path = await _create(server, kind)
    session_id = session_id_of(path.rpartition("/")[2])
    director = server.bearer(Role.DIRECTOR)
    texts = set()
    for what, forged in _forgeries(path).items():
        for headers in ({}, director, {"Authorization": f"Bearer {SECRET}"}):
            async with server.http.delete(server.base + forged, headers=headers) as r:
                assert r.status == 404, f"DELETE {what}"
                texts.add(await r.text())
            async with server.http.patch(
                server.base + forged, data=FRAGMENT, headers={**TRICKLE, **headers}
            ) as r:
                assert r.status == 404, f"PATCH {what}"
                texts.add(await r.text())
        # OPTIONS is a CORS preflight: the same answer whether or not the session exists.
        async with server.http.options(server.base + forged) as r:
            assert r.status == 204
            assert r.headers["Accept-Patch"] == "application/trickle-ice-sdpfrag"
    # A stranger cannot tell "wrong secret" from "no such session".
    assert texts == {"Not Found: no such session (it may have ended)\n"}
    assert session_id in _session_ids(server.hub)

    # The holder of the Location can.
    async with server.http.patch(server.base + path, data=FRAGMENT, headers=TRICKLE) as r:
        assert r.status == 204
    async with server.http.delete(server.base + path) as r:
        assert r.status == 200
    async with server.http.delete(server.base + path) as r:
        assert r.status == 404
    assert session_id not in _session_ids(server.hub)


async def test_the_secret_is_never_shown_and_ids_only_to_directors(server: Server) -> None:
    whip = await _create(server, "whip")
    whep = await _create(server, "whep-venue")
    secrets = [p.rpartition(".")[2] for p in (whip, whep)]
    ids = {session_id_of(p.rpartition("/")[2]) for p in (whip, whep)}
    assert all(len(s) >= 40 for s in secrets)
    assert not any(session_id in s for session_id in ids for s in secrets)

    viewers = [
        {},
        {"Authorization": "Bearer not-a-token"},
        server.bearer(Role.OPERATOR, venue="jp"),
        server.bearer(Role.VIEWER),
    ]
    for headers in viewers:
        async with server.http.get(f"{server.base}/api/streams", headers=headers) as r:
            assert r.status == 200
            text = await r.text()
            streams = await r.json()
        # The aggregate view a status page needs: counts and stats, no session ids.
        assert [p["channel"] for p in streams["publishers"]] == ["gz-hall-1"]
        assert [s["feed"] for s in streams["subscribers"]] == ["venue:jp"]
        assert not any("id" in s for s in (*streams["publishers"], *streams["subscribers"]))
        assert not any(session_id in text for session_id in ids), headers

    for headers in (server.bearer(Role.DIRECTOR), {"Authorization": f"Bearer {SECRET}"}):
        async with server.http.get(f"{server.base}/api/streams", headers=headers) as r:
            text = await r.text()
            streams = await r.json()
        assert {s["id"] for s in (*streams["publishers"], *streams["subscribers"])} == ids
        assert not any(secret in text for secret in secrets)

    async with server.http.get(f"{server.base}/metrics") as r:
        metrics = await r.text()
    assert not any(value in metrics for value in (*ids, *secrets))

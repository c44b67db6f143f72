"""A node's relay token over HTTP and ``/ws``: it plays channels, and every other action
of the role matrix (tests/security/test_roles_matrix.py) is refused."""

from __future__ import annotations

import time

import aiohttp
import pytest

from config import Event, Settings
from signaling.auth import Grant, Role
from signaling.auth.revocation import revoke_role
from signaling.hub import HubOptions
from tests.security.control_support import NO_MESSAGE_LIMIT, limits, running_node
from tests.security.test_roles_matrix import GARBAGE_OFFER, ROOM_A, TABLE
from web.keys import AUTHORITY


async def _post_offer(node: object, path: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}
    response = await node.http.post(path, data=GARBAGE_OFFER, headers=headers)  # type: ignore[attr-defined]
    return int(response.status)


async def test_a_relay_token_plays_and_may_do_nothing_else(
    settings: Settings, reference_event: Event
) -> None:
    options = HubOptions(messages=NO_MESSAGE_LIMIT, limits=limits())
    async with running_node(settings, reference_event, options) as node:
        token = node.token("relay", "node:edge-eu")
        setup = await node.connect(node.token("moderator", "setup", sessions=[ROOM_A]))
        asked = await setup.ok({"type": "ask", "room": ROOM_A, "text": "Pending?"})
        # No websocket for a node's token: refused like a token that does not verify.
        url = str(node.http.make_url("/ws"))
        async with node.http.session.ws_connect(
            url, headers={"Authorization": f"Bearer {token}"}
        ) as refused:
            assert (await refused.receive_json())["code"] == "unauthorized"
            closing = await refused.receive()
            assert closing.type is aiohttp.WSMsgType.CLOSE
            assert closing.data == 4401
        outcome = {a.name: await a.run(node, token, None, asked["question"]) for a in TABLE}
        # Every HTTP action is forbidden; every websocket action has no socket (401).
        expected = {a.name: "401" if a.name.startswith("ws ") else "403" for a in TABLE}
        assert outcome == expected
        # Playing is what it is for: past the role check (nobody publishes, so 409), a
        # return feed included, which a viewer may not play.
        assert await _post_offer(node, "/whep/us-return", token) == 409
        assert await _post_offer(node, "/whep/gz-hall-1", token) == 409
        viewer = node.token("viewer", "v")
        assert await _post_offer(node, "/whep/us-return", viewer) == 403


async def test_an_expired_or_revoked_relay_token_is_refused_at_the_upstream(
    settings: Settings, reference_event: Event
) -> None:
    async with running_node(settings, reference_event) as node:
        authority = node.http.app[AUTHORITY]
        grant = Grant("node:edge-eu", Role.RELAY)
        expired = authority.mint(grant, ttl=60, now=time.time() - 61)
        assert await _post_offer(node, "/whep/us-return", expired) == 403
        token = authority.mint(grant, ttl=600)
        assert await _post_offer(node, "/whep/us-return", token) == 409
        authority.revocations.add(revoke_role(Role.RELAY, "admin", time.time() + 0.01))
        assert await _post_offer(node, "/whep/us-return", token) == 403


@pytest.mark.parametrize("path", ["/api/nodes", "/api/records.json", "/director"])
async def test_a_redirect_pass_is_no_token_anywhere_else(
    settings: Settings, reference_event: Event, path: str
) -> None:
    async with running_node(settings, reference_event) as node:
        authority = node.http.app[AUTHORITY]
        director = authority.verify(node.token("director", "d"))
        token = authority.mint_pass(director, "play:venue:us", ttl=60)
        response = await node.http.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status in (401, 403)

"""Tokens (issue 10, build item 7): a maximum lifetime per role, a token id, and revocation
of one token or of a role, through the admin API and the CLI, honoured by open sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import aiohttp
import pytest

from config import Event, Settings
from config.settings import TokenSettings, load_settings
from signaling.auth import Grant, Role, TokenAuthority
from signaling.auth.revocation import Revocations, revoke_role, revoke_token
from signaling.errors import Unauthorized
from signaling.hub import HubOptions
from tests.control.support import Node
from tests.helpers import eventually, local_settings
from tests.security.control_support import NO_MESSAGE_LIMIT, running_node
from web.backends import open_backends
from web.cli import main
from web.keys import AUTHORITY, HUB

SECRET = b"k" * 32
FAST = HubOptions(messages=NO_MESSAGE_LIMIT, revocation_refresh=0.05)


def test_minting_past_the_role_lifetime_is_refused() -> None:
    authority = TokenAuthority(SECRET, "coet2018")
    admin = Grant("root", Role.ADMIN)
    authority.mint(admin, ttl=24 * 3600)
    with pytest.raises(ValueError, match=r"an admin token may live at most 1d"):
        authority.mint(admin, ttl=24 * 3600 + 1)
    with pytest.raises(ValueError, match=r"a director token may live at most 7d"):
        authority.mint(Grant("d", Role.DIRECTOR), ttl=8 * 86400)


def test_a_token_living_longer_than_its_role_allows_does_not_verify() -> None:
    generous = TokenAuthority(SECRET, "coet2018", max_lifetimes={Role.DIRECTOR: 90 * 86400})
    strict = TokenAuthority(SECRET, "coet2018")
    long_lived = generous.mint(Grant("d", Role.DIRECTOR), ttl=30 * 86400)
    with pytest.raises(Unauthorized) as refused:
        strict.verify(long_lived)
    assert refused.value.code == "token_too_long"
    assert strict.verify(generous.mint(Grant("d", Role.DIRECTOR), ttl=3600)).identity == "d"


def test_tokens_carry_an_id_and_revoking_it_refuses_only_that_token() -> None:
    authority = TokenAuthority(SECRET, "coet2018")
    one, two = (authority.mint(Grant("op", Role.OPERATOR, venue="jp"), 3600) for _ in "12")
    first = authority.verify(one)
    assert first.token_id
    assert first.token_id != authority.verify(two).token_id
    authority.revocations.add(revoke_token(first.token_id, "admin", time.time()))
    with pytest.raises(Unauthorized) as refused:
        authority.verify(one)
    assert refused.value.code == "token_revoked"
    assert authority.verify(two).identity == "op"


def test_revoking_a_role_refuses_its_tokens_issued_before_and_spares_later_ones() -> None:
    authority = TokenAuthority(SECRET, "coet2018")
    now = time.time()
    before = authority.mint(Grant("v", Role.VIEWER), 3600, now=now - 10)
    director = authority.mint(Grant("d", Role.DIRECTOR), 3600, now=now - 10)
    authority.revocations.add(revoke_role(Role.VIEWER, "admin", now - 5))
    after = authority.mint(Grant("v2", Role.VIEWER), 3600, now=now - 4)
    with pytest.raises(Unauthorized):
        authority.verify(before)
    assert authority.verify(after).identity == "v2"
    assert authority.verify(director).identity == "d"


def test_a_revocation_set_is_only_ever_widened() -> None:
    revocations = Revocations()
    revocations.add(revoke_role(Role.VIEWER, "a", 100.0))
    revocations.add(revoke_role(Role.VIEWER, "a", 50.0))  # an older entry read late
    assert revocations.revokes(Grant("v", Role.VIEWER, issued_at=99.0))
    assert not revocations.revokes(Grant("v", Role.VIEWER, issued_at=101.0))


def test_a_token_minted_in_the_revocations_millisecond_after_it_survives() -> None:
    # A token's iat is whole milliseconds (rounded down); so is the role's cut-off.
    revocations = Revocations()
    revocations.add(revoke_role(Role.OPERATOR, "a", 1000.0004))
    assert not revocations.revokes(Grant("o", Role.OPERATOR, issued_at=1000.000))
    assert revocations.revokes(Grant("o", Role.OPERATOR, issued_at=999.999))


def test_lifetimes_are_settings(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[tokens]\ndirector_max_hours = 2\n")
    assert load_settings(path).tokens.director_max_hours == 2
    env = {"VENUEBRIDGE_TOKENS_ADMIN_MAX_HOURS": "0"}
    with pytest.raises(ValueError, match=r"tokens\.admin_max_hours"):
        load_settings(environ=env)
    assert TokenSettings().max_hours("viewer") == 720


async def test_the_server_authority_uses_the_lifetime_settings(
    settings: Settings, reference_event: Event
) -> None:
    tuned = dataclasses.replace(settings, tokens=TokenSettings(director_max_hours=2))
    async with open_backends(tuned, reference_event) as backends:
        backends.authority.mint(Grant("d", Role.DIRECTOR), ttl=2 * 3600)
        with pytest.raises(ValueError, match="at most 2h"):
            backends.authority.mint(Grant("d", Role.DIRECTOR), ttl=3 * 3600)


async def test_the_token_command_refuses_a_lifetime_past_the_role_maximum(
    tmp_path: Path, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    async with open_backends(Settings(data_dir=data), reference_event):
        pass  # as the server does when it starts: its key and its store
    args = ["token", "--role", "admin", "--data-dir", str(data)]
    # The CLI runs its own event loop, so it runs in a worker thread here.
    assert await asyncio.to_thread(main, [*args, "--ttl", "3d"]) == 2
    assert "an admin token may live at most 1d" in capsys.readouterr().err
    assert await asyncio.to_thread(main, [*args, "--ttl", "12h"]) == 0


async def _revoke(node: Node, token: str | None, body: dict[str, str]) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response: aiohttp.ClientResponse = await node.http.post(
        "/api/tokens/revoke", json=body, headers=headers
    )
    return response


async def test_only_an_admin_may_revoke(settings: Settings, reference_event: Event) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        victim = node.token("director", "d")
        assert (await _revoke(node, None, {"role": "director"})).status == 401
        assert (await _revoke(node, "not-a-token", {"role": "director"})).status == 401
        for role, scope in (("viewer", {}), ("director", {}), ("operator", {"venue": "jp"})):
            response = await _revoke(node, node.token(role, "x", **scope), {"role": "director"})
            assert response.status == 403
        admin = node.token("admin", "root")
        assert (await _revoke(node, admin, {"role": "wizard"})).status == 400
        assert (await _revoke(node, admin, {"role": "viewer", "token_id": "x"})).status == 400
        client = await node.connect(victim)  # nothing was revoked by the refusals
        assert client.welcome["role"] == "director"


async def test_revoking_one_token_closes_its_sockets_and_refuses_it_everywhere(
    settings: Settings, reference_event: Event
) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        victim, bystander = node.token("director", "d1"), node.token("director", "d2")
        victim_socket, bystander_socket = await node.connect(victim), await node.connect(victim)
        other = await node.connect(bystander)
        token_id = node.app[AUTHORITY].verify(victim).token_id

        response = await _revoke(node, node.token("admin", "root"), {"token_id": token_id})
        assert response.status == 200
        assert (await response.json())["closed_here"] == 2

        for ws in (victim_socket.ws, bystander_socket.ws):
            await eventually(lambda ws=ws: ws.closed, "the revoked socket to close")
            assert ws.close_code == 4401
        assert not other.ws.closed
        headers = {"Authorization": f"Bearer {victim}"}
        page = await node.http.get("/records", headers=headers)
        assert page.status == 401
        url = str(node.http.make_url("/ws"))
        async with node.http.session.ws_connect(url, headers=headers) as again:
            refusal = await again.receive_json()
            assert refusal["code"] == "token_revoked"
            assert (await again.receive()).data == 4401
        assert (
            await node.http.get("/records", headers={"Authorization": f"Bearer {bystander}"})
        ).status == 200


async def test_revoking_by_the_token_itself_and_by_role(
    settings: Settings, reference_event: Event
) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        admin = node.token("admin", "root")
        operator = node.token("operator", "op", venue="jp")
        socket = await node.connect(operator)
        response = await _revoke(node, admin, {"role": "operator"})
        assert response.status == 200
        await eventually(lambda: socket.ws.closed, "the operator's socket to close")
        fresh = node.token("operator", "op", venue="jp")
        assert (await node.connect(fresh)).welcome["role"] == "operator"
        viewer = node.token("viewer", "v")
        assert (await _revoke(node, admin, {"token": viewer})).status == 200
        with pytest.raises(Unauthorized):
            node.app[AUTHORITY].verify(viewer)


async def test_the_revoke_command_reaches_a_running_server(
    settings: Settings, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        token = node.token("moderator", "m", sessions=["*"])
        socket = await node.connect(token)
        token_id = node.app[AUTHORITY].verify(token).token_id
        args = ["revoke", "--token-id", str(token_id), "--data-dir", str(settings.data_dir)]
        # The CLI is synchronous (asyncio.run): run it beside the server's loop.
        assert await asyncio.to_thread(main, args) == 0
        assert f"revoked token {token_id}" in capsys.readouterr().out
        # Re-read on the server's timer (revocation_refresh), then the socket is closed.
        await eventually(lambda: socket.ws.closed, "the server to apply the CLI's revocation")
        assert socket.ws.close_code == 4401
        assert node.app[HUB].revoker is not None


def test_the_revoke_command_needs_exactly_one_target(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["revoke", "--data-dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        main(["revoke", "--role", "viewer", "--token-id", "x", "--data-dir", str(tmp_path)])


async def test_a_revocation_on_one_node_closes_sockets_on_another_over_the_bus(
    tmp_path: Path, reference_event: Event, redis_url: str
) -> None:
    # No timer to help: the refresh interval is an hour, so only the bus can carry it.
    options = HubOptions(messages=NO_MESSAGE_LIMIT, revocation_refresh=3600.0)
    event = dataclasses.replace(reference_event, id=f"rv{tmp_path.name[-16:]}")
    shared = local_settings(host="127.0.0.1", port=0, redis_url=redis_url)
    a_settings = dataclasses.replace(shared, data_dir=tmp_path / "a")
    b_settings = dataclasses.replace(shared, data_dir=tmp_path / "b")
    async with (
        running_node(a_settings, event, options) as a,
        running_node(b_settings, event, options) as b,
    ):
        victim = a.token("director", "d")
        on_b = await b.connect(victim)
        assert (await _revoke(a, a.token("admin", "root"), {"role": "director"})).status == 200
        await eventually(lambda: on_b.ws.closed, "node b to close the revoked socket")
        assert on_b.ws.close_code == 4401
        with pytest.raises(Unauthorized):
            b.app[AUTHORITY].verify(victim)

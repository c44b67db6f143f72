"""Invites in both stores (SQLite, Redis): the same contract, and two nodes sharing them."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event
from signaling.auth import Grant, Role
from signaling.hub import HubOptions
from signaling.invites import Invite, InviteLog, LastUse, UseRecorder
from tests.control.support import Backend, Node
from tests.helpers import eventually, local_settings
from tests.security.control_support import NO_MESSAGE_LIMIT
from web.app import create_app
from web.keys import INVITES


def _invite(invite_id: str, created_at: float) -> Invite:
    return Invite(
        id=invite_id,
        role="operator",
        identity=f"operator-{invite_id}",
        label=f"desk {invite_id}",
        created_by="root",
        created_at=created_at,
        expires_at=created_at + 3600,
        token=f"token-{invite_id}",
        venue="jp",
    )


async def test_the_invite_list_is_shared_and_survives_reopening(backend: Backend) -> None:
    here, there = InviteLog(backend.store, "ev"), InviteLog(backend.store, "ev")
    first, second = _invite("a1", 10.0), _invite("b2", 11.0)
    await here.add(first)
    assert await there.all() == [first]
    await there.add(second)
    assert await here.all() == [first, second]
    assert await here.find("b2") == second
    assert await here.find("zz") is None
    assert await InviteLog(backend.store, "other-event").all() == []
    again = await backend.reopen()
    try:
        assert await InviteLog(again, "ev").all() == [first, second]
    finally:
        if backend.name == "sqlite":
            await again.aclose()


async def test_last_uses_written_by_one_node_are_read_by_another(backend: Backend) -> None:
    writer = UseRecorder(backend.store, "ev", interval=60, max_pending=10, clock=lambda: 1234.5)
    reader = UseRecorder(backend.store, "ev", interval=60, max_pending=10)
    writer.note(Grant("op", Role.OPERATOR, venue="jp", token_id="a1"), "joined")
    writer.note(Grant("op", Role.OPERATOR, venue="jp", token_id="a1"))
    assert await writer.flush() == 2
    assert await reader.last_uses(["a1", "b2"]) == {
        "a1": LastUse(joined=1234.5, seen=1234.5),
        "b2": LastUse(),
    }


FAST = HubOptions(messages=NO_MESSAGE_LIMIT, revocation_refresh=0.05)


@pytest.fixture
async def two_nodes(
    tmp_path: Path, reference_event: Event, redis_url: str
) -> AsyncIterator[tuple[Node, Node]]:
    # Separate data dirs: the nodes share only Redis (the store, the bus and the secret).
    event = dataclasses.replace(reference_event, id=f"inv{tmp_path.name[-20:]}")
    async with AsyncExitStack() as stack:
        nodes = []
        for name in ("a", "b"):
            settings = local_settings(data_dir=tmp_path / name, redis_url=redis_url)
            app = create_app(settings, event, FAST)
            server = TestServer(app, host="127.0.0.1", port=0)
            nodes.append(Node(await stack.enter_async_context(TestClient(server))))
        yield nodes[0], nodes[1]


async def test_an_invite_made_on_one_node_is_listed_and_revoked_on_another(
    two_nodes: tuple[Node, Node],
) -> None:
    a, b = two_nodes
    admin = {"Authorization": f"Bearer {a.token('admin', 'root')}"}
    made = await a.http.post(
        "/admin/invites",
        data={"role": "producer", "label": "Hall 2", "hours": "1", "channel": "gz-hall-2"},
        headers=admin,
        allow_redirects=False,
    )
    assert made.status == 303
    invite_id = made.headers["Location"].split("=", 1)[1].split("#")[0]
    invite = await b.app[INVITES].find(invite_id)
    assert invite is not None
    assert invite.label == "Hall 2"
    socket_on_a = await a.connect(invite.token)  # the publisher's page, on node a
    # Its use on node a shows in node b's list once a has written it.
    await a.app[INVITES].rows(time.time())  # the page flushes this node's uses first

    async def seen_on_b() -> bool:
        rows = await b.app[INVITES].rows(time.time())
        return any(r.invite.id == invite_id and r.last_use.seen for r in rows)

    assert await seen_on_b()
    revoked = await b.http.post(f"/admin/invites/{invite_id}/revoke", headers=admin)
    assert revoked.status == 200
    await eventually(lambda: socket_on_a.ws.closed, "node a to close the revoked socket", within=5)
    assert socket_on_a.ws.close_code == 4401
    rows = await a.app[INVITES].rows(time.time())
    assert [r.state for r in rows if r.invite.id == invite_id] == ["revoked"]


async def test_expired_invites_make_room_under_the_cap(backend: Backend) -> None:
    from config.settings import InviteSettings
    from signaling.auth import TokenAuthority
    from signaling.errors import Refused
    from signaling.invites import InviteDesk, InviteRequest

    authority = TokenAuthority(b"k" * 32, audience="ev")
    desk = InviteDesk(authority, InviteLog(backend.store, "ev"), InviteSettings(max_per_event=1))
    asked = InviteRequest(Role.VIEWER, "one hour", 3600)
    now = time.time()
    first = await desk.issue(asked, "root", now)
    assert first.expires_at == int(first.created_at + 3600)
    with pytest.raises(Refused, match="max_per_event"):
        await desk.issue(asked, "root", now + 10)
    later = await desk.issue(asked, "root", now + 3601)
    assert [r.invite.id for r in await desk.rows(now + 3602)] == [later.id, first.id]
    assert [r.state for r in await desk.rows(now + 3602)] == ["active", "expired"]

"""``/admin/invites`` over HTTP: who may use it, the form's checks and limits, revoking,
the QR code, where each invite lands, and last use."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from config import Event, Settings
from config.settings import InviteSettings
from signaling.hub import HubOptions
from tests.control.support import mint
from tests.helpers import eventually
from tests.security.control_support import NO_MESSAGE_LIMIT, running_node
from web.cli import main
from web.keys import INVITES

PAGE = "/admin/invites"
FAST = HubOptions(messages=NO_MESSAGE_LIMIT, revocation_refresh=0.05)


def own(client: TestClient[Any, Any]) -> str:
    return f"http://127.0.0.1:{client.port}"


def as_admin(client: TestClient[Any, Any]) -> None:
    client.session.cookie_jar.update_cookies({"vb_token": mint(client.server.app, "admin", "root")})


async def create(client: TestClient[Any, Any], **fields: str | list[str]) -> aiohttp.ClientResponse:
    """POST the form from our own page (the browser's ``Origin``), not following the redirect."""
    data = aiohttp.FormData()
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            data.add_field(name, one)
    return await client.post(
        PAGE, data=data, headers={"Origin": own(client)}, allow_redirects=False
    )


async def created_id(client: TestClient[Any, Any], **fields: str | list[str]) -> str:
    response = await create(client, **fields)
    assert response.status == 303, await response.text()
    match = re.fullmatch(
        r"/admin/invites\?created=([0-9a-f]+)#invite-\1", response.headers["Location"]
    )
    assert match is not None, response.headers["Location"]
    return match.group(1)


async def link_of(client: TestClient[Any, Any], invite_id: str) -> str:
    html = await (await client.get(PAGE)).text()
    match = re.search(rf'id="invite-{invite_id}".*?value="([^"]+/join\?token=[^"]+)"', html, re.S)
    assert match is not None
    return match.group(1)


async def test_only_admins_see_the_page(client: TestClient[Any, Any]) -> None:
    app = client.server.app
    anonymous = await client.get(PAGE)
    assert anonymous.status == 401
    assert "admin" in await anonymous.text()
    for role, scope in (
        ("viewer", {}),
        ("operator", {"venue": "jp"}),
        ("moderator", {"sessions": ["*"]}),
        ("producer", {"channels": ["*"]}),
        ("director", {}),
    ):
        headers = {"Authorization": f"Bearer {mint(app, role, 'x', **scope)}"}
        assert (await client.get(PAGE, headers=headers)).status == 403, role
        posted = await client.post(PAGE, data={"role": "admin"}, headers=headers)
        assert posted.status == 403, role
    admin = {"Authorization": f"Bearer {mint(app, 'admin', 'root')}"}
    page = await client.get(PAGE, headers=admin)
    assert page.status == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "No invites yet" in await page.text()


async def test_the_form_must_come_from_our_own_page(client: TestClient[Any, Any]) -> None:
    as_admin(client)
    form = {"role": "viewer", "label": "x", "hours": "1"}
    for headers in ({}, {"Origin": "http://127.0.0.1:1"}, {"Origin": "null"}):
        response = await client.post(PAGE, data=form, headers=headers, allow_redirects=False)
        assert response.status == 403, headers
    assert await client.server.app[INVITES].rows(time.time()) == []


async def test_an_admin_creates_lists_and_revokes_a_producer_invite(
    client: TestClient[Any, Any],
) -> None:
    as_admin(client)
    invite_id = await created_id(
        client, role="producer", label="Hall 1 camera", hours="6", channel="gz-hall-1", venue="jp"
    )
    page = await client.get(f"{PAGE}?created={invite_id}")
    html = await page.text()
    row = html[html.index(f'id="invite-{invite_id}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-state="active"' in row
    assert "Hall 1 camera" in row
    assert "channels gz-hall-1" in row  # the venue field was not the producer's: not used
    assert "by root" in row
    assert "link opened: never" in row
    assert f"/admin/invites/{invite_id}/qr.svg" in row
    assert f"/admin/invites/{invite_id}/revoke" in row
    link = await link_of(client, invite_id)
    assert link.startswith(own(client) + "/join?token=")

    qr = await client.get(f"{PAGE}/{invite_id}/qr.svg")
    assert qr.status == 200
    assert qr.content_type == "image/svg+xml"
    assert (await qr.text()).startswith('<svg xmlns="http://www.w3.org/2000/svg"')

    revoked = await client.post(
        f"{PAGE}/{invite_id}/revoke", headers={"Origin": own(client)}, allow_redirects=False
    )
    assert revoked.status == 303
    html = await (await client.get(PAGE)).text()
    assert re.search(rf'id="invite-{invite_id}"[^>]*data-state="revoked"', html)
    assert "(0 active, 1 expired or revoked; at most 500 not yet expired)" in html
    assert (await client.get(f"{PAGE}/{invite_id}/qr.svg")).status == 409
    again = await client.post(f"{PAGE}/{invite_id}/revoke", headers={"Origin": own(client)})
    assert again.status == 409
    assert "already revoked" in await again.text()
    unknown = await client.post(f"{PAGE}/ffff/revoke", headers={"Origin": own(client)})
    assert unknown.status == 404

    # The revoked link is refused with a page that says so, and signs nobody in.
    client.session.cookie_jar.clear()
    refused = await client.get(link.removeprefix(own(client)), allow_redirects=False)
    assert refused.status == 401
    assert "This invite has been revoked" in await refused.text()
    assert "vb_token" not in refused.cookies


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"role": "operator", "label": "Tokyo", "hours": "2", "venue": "mars"}, 400, "no venue"),
        ({"role": "moderator", "label": "M", "hours": "2", "session": "nope"}, 400, "no session"),
        ({"role": "producer", "label": "P", "hours": "2", "channel": "tv"}, 400, "no channel"),
        ({"role": "producer", "label": "P", "hours": "2"}, 400, "needs at least one channel"),
        ({"role": "director", "label": "D", "hours": "169"}, 400, "at most 168 hours"),
        ({"role": "viewer", "label": "x" * 81, "hours": "1"}, 400, "at most 80"),
        ({"role": "wizard", "label": "W", "hours": "1"}, 400, "choose a role"),
    ],
)
async def test_bad_input_shows_the_form_again_with_the_reason(
    client: TestClient[Any, Any], fields: dict[str, str], status: int, message: str
) -> None:
    as_admin(client)
    response = await create(client, **fields)
    assert response.status == status
    html = await response.text()
    assert message in html
    assert 'id="invite-error"' in html
    # Nothing the person typed is lost: the label comes back in its field.
    assert f'value="{fields["label"]}"' in html
    assert await client.server.app[INVITES].rows(time.time()) == []


async def test_the_cap_on_invites_is_a_setting(settings: Settings, reference_event: Event) -> None:
    capped = dataclasses.replace(settings, invites=InviteSettings(max_per_event=2))
    async with running_node(capped, reference_event, FAST) as node:
        client = node.http
        as_admin(client)
        first = await created_id(client, role="viewer", label="one", hours="1")
        await created_id(client, role="viewer", label="two", hours="1")
        refused = await create(client, role="viewer", label="three", hours="1")
        assert refused.status == 409
        assert "setting invites.max_per_event" in await refused.text()
        # Revoked invites still count until they expire: revoking does not make room.
        await client.post(f"{PAGE}/{first}/revoke", headers={"Origin": own(client)})
        assert (await create(client, role="viewer", label="three", hours="1")).status == 409


async def test_the_label_limit_is_a_setting(settings: Settings, reference_event: Event) -> None:
    short = dataclasses.replace(settings, invites=InviteSettings(max_label_chars=5))
    async with running_node(short, reference_event, FAST) as node:
        as_admin(node.http)
        assert (await create(node.http, role="viewer", label="12345", hours="1")).status == 303
        refused = await create(node.http, role="viewer", label="123456", hours="1")
        assert refused.status == 400
        assert "at most 5" in await refused.text()


@pytest.mark.parametrize(
    ("fields", "landing"),
    [
        ({"role": "producer", "channel": "gz-hall-1"}, "/publish/gz-hall-1"),
        ({"role": "producer", "channel": ["gz-hall-1", "gz-hall-2"]}, "/publish"),
        ({"role": "operator", "venue": "jp"}, "/venue/jp"),
        (
            {"role": "moderator", "session": "overseas-talents-summit"},
            "/moderate/overseas-talents-summit",
        ),
        ({"role": "moderator", "session": "*"}, "/"),
        ({"role": "director"}, "/director"),
        ({"role": "admin"}, "/admin/invites"),
        ({"role": "viewer"}, "/"),
    ],
)
async def test_every_invite_lands_on_its_roles_page(
    client: TestClient[Any, Any], fields: dict[str, str], landing: str
) -> None:
    as_admin(client)
    invite_id = await created_id(client, label="someone", hours="1", **fields)
    link = await link_of(client, invite_id)
    client.session.cookie_jar.clear()
    joined = await client.get(link.removeprefix(own(client)), allow_redirects=False)
    assert joined.status == 303
    assert joined.headers["Location"] == landing
    # Signed in by the cookie: the landing page opens (the schedule for a viewer).
    opened = await client.get(landing)
    assert opened.status == 200, landing


async def test_the_list_shows_when_a_link_was_last_used(client: TestClient[Any, Any]) -> None:
    as_admin(client)
    invite_id = await created_id(client, role="producer", label="cam", hours="1", channel="gz-expo")
    link = await link_of(client, invite_id)
    admin_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["vb_token"].value
    client.session.cookie_jar.clear()
    before = time.time()
    await client.get(link.removeprefix(own(client)))  # joins, then opens /publish/gz-expo
    client.session.cookie_jar.clear()
    page = await client.get(PAGE, headers={"Authorization": f"Bearer {admin_cookie}"})
    rows = await client.server.app[INVITES].rows(time.time())
    use = next(r.last_use for r in rows if r.invite.id == invite_id)
    assert use.joined is not None
    assert use.seen is not None
    assert before - 1 <= use.joined <= use.seen <= time.time()
    html = await page.text()
    assert "link opened: <time" in html


async def test_revoking_on_the_page_closes_the_invites_sockets(
    settings: Settings, reference_event: Event
) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        as_admin(node.http)
        invite_id = await created_id(
            node.http, role="producer", label="cam", hours="1", channel="gz-hall-1"
        )
        token = (await node.app[INVITES].find(invite_id)).token
        socket = await node.connect(token)
        assert socket.welcome["role"] == "producer"
        response = await node.http.post(
            f"{PAGE}/{invite_id}/revoke", headers={"Origin": own(node.http)}
        )
        assert response.status == 200  # followed to the page
        await eventually(lambda: socket.ws.closed, "the invite's socket to close")
        assert socket.ws.close_code == 4401
        # The page is told why before the socket closes.
        assert any(frame.get("code") == "token_revoked" for frame in socket.frames), socket.frames


async def test_invites_survive_a_restart(settings: Settings, reference_event: Event) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        as_admin(node.http)
        invite_id = await created_id(
            node.http, role="operator", label="Tokyo", hours="3", venue="jp"
        )
    async with running_node(settings, reference_event, FAST) as again:
        rows = await again.app[INVITES].rows(time.time())
        assert [(r.invite.id, r.invite.label, r.state) for r in rows] == [
            (invite_id, "Tokyo", "active")
        ]


async def test_tokens_from_the_command_line_are_listed(
    settings: Settings, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_node(settings, reference_event, FAST) as node:
        args = ["token", "--role", "operator", "--venue", "kr", "--name", "seoul-desk"]
        args += ["--ttl", "2h", "--data-dir", str(settings.data_dir)]
        assert await asyncio.to_thread(main, args) == 0
        token = capsys.readouterr().out.splitlines()[0]
        rows = await node.app[INVITES].rows(time.time())
        assert [(r.invite.label, r.invite.created_by, r.invite.token) for r in rows] == [
            ("seoul-desk", "command line", token)
        ]


async def test_a_label_is_text_never_markup(client: TestClient[Any, Any]) -> None:
    as_admin(client)
    label = '<img src=x onerror="alert(1)">'
    invite_id = await created_id(client, role="viewer", label=label, hours="1")
    html = await (await client.get(PAGE)).text()
    assert label not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert f'id="invite-{invite_id}"' in html


async def test_a_flood_of_scope_values_gets_one_clear_error(client: TestClient[Any, Any]) -> None:
    as_admin(client)
    channels = [f"c{n}" for n in range(900)]
    response = await create(client, role="producer", label="x", hours="1", channel=channels)
    assert response.status == 400
    assert "there is no channel &#39;c0&#39; in this event" in await response.text()
    # aiohttp itself refuses a form of more than 1000 fields.
    flood = [f"c{n}" for n in range(5000)]
    response = await create(client, role="producer", label="x", hours="1", channel=flood)
    assert response.status == 413


async def test_links_use_the_public_url(settings: Settings, reference_event: Event) -> None:
    public = dataclasses.replace(settings, public_url="https://live.example.org/")
    async with running_node(public, reference_event, FAST) as node:
        client = node.http
        as_admin(client)
        origin = {"Origin": "https://live.example.org"}
        form = {"role": "viewer", "label": "Remote talent", "hours": "1"}
        made = await client.post(PAGE, data=form, headers=origin, allow_redirects=False)
        assert made.status == 303
        invite_id = made.headers["Location"].split("=", 1)[1].split("#")[0]
        html = await (await client.get(PAGE)).text()
        assert re.search(
            rf'id="invite-{invite_id}".*?value="https://live\.example\.org/join\?token=', html, re.S
        )
        # Our origin is the public URL's: the request's own address is not it.
        refused = await client.post(PAGE, data=form, headers={"Origin": own(client)})
        assert refused.status == 403


async def test_uses_waiting_to_be_written_are_capped_by_the_invite_cap(
    settings: Settings, reference_event: Event
) -> None:
    from signaling.auth import Grant, Role
    from web.keys import INVITE_USES

    one = dataclasses.replace(settings, invites=InviteSettings(max_per_event=1))
    async with running_node(one, reference_event, FAST) as node:
        uses = node.app[INVITE_USES]
        for n in range(3):
            uses.note(Grant("v", Role.VIEWER, token_id=f"t{n}"), "joined")
        # Room for one invite's two kinds of use (its link opened, its token seen).
        assert uses.dropped == 1

"""The role x action matrix over HTTP and ``/ws``, generated from ONE table.

Rows are the actions that change state or show what only some roles may see (each
websocket message of that kind, each such HTTP endpoint and page); columns are the roles
(plus no token and a bad token). Each cell is the expected outcome: ``ok`` (the role check
let it through: the action ran, or failed later on its own terms, e.g. a WHIP offer that is
garbage gets 400), or the refusal: ``401``, ``403``, ``404``. On the websocket a refusal
is the error frame's code mapped the same way (``forbidden`` -> 403, and a token that does
not verify never gets a socket: 401). tests/control/test_roles.py covers every Q&A
moderation message in depth; this table covers every kind of action once per role.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from config import Event, Settings
from signaling.hub import HubOptions
from tests.control.support import Node
from tests.security.control_support import NO_MESSAGE_LIMIT, limits, running_node

ROOM_A = "overseas-talents-summit"  # on gz-hall-1
ROOM_B = "gba-new-materials"
CHANNEL_X = "gz-hall-1"
ROLES: dict[str, dict[str, Any] | None] = {
    "none": None,
    "bad_token": None,
    "viewer": {"role": "viewer"},
    "operator_jp": {"role": "operator", "venue": "jp"},
    "operator_us": {"role": "operator", "venue": "us"},
    "moderator_A": {"role": "moderator", "sessions": [ROOM_A]},
    "moderator_B": {"role": "moderator", "sessions": [ROOM_B]},
    "producer_X": {"role": "producer", "channels": [CHANNEL_X]},
    "director": {"role": "director"},
    "admin": {"role": "admin"},
}
GARBAGE_OFFER = "v=0\r\n"
QUESTION = "<a pending question in room A>"


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[Node, str | None, Any, str], Awaitable[str]]
    # One entry per column of ROLES, in order.
    expected: tuple[str, ...]


def row(text: str) -> tuple[str, ...]:
    cells = tuple(text.split())
    assert len(cells) == len(ROLES), text
    return cells


def _status(code: int) -> str:
    return str(code) if code in (401, 403, 404) else "ok"


def http(method: str, path: str, body: Any = None, sdp: bool = False) -> Callable[..., Any]:
    async def run(node: Node, token: str | None, socket: Any, question: str) -> str:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if sdp:
            headers["Content-Type"] = "application/sdp"
            data = GARBAGE_OFFER
        else:
            data = None if body is None else json.dumps(body)
            headers["Content-Type"] = "application/json"
        response = await node.http.request(
            method, path, data=data, headers=headers, allow_redirects=False
        )
        return _status(response.status)

    return run


def ws(message: dict[str, Any]) -> Callable[..., Any]:
    async def run(node: Node, token: str | None, socket: Any, question: str) -> str:
        if socket is None:
            return "401"  # the token did not verify: no socket to send on
        reply = await socket.request(
            {k: question if v == QUESTION else v for k, v in message.items()}
        )
        if reply["type"] == "ack":
            return "ok"
        return {"forbidden": "403", "unauthorized": "401", "not_found": "404"}.get(
            reply["code"],
            "ok",  # refused on its own terms (state, duplicate): past the check
        )

    return run


#                    none bad  viewer op_jp op_us mod_A mod_B prod_X director admin
TABLE = [
    Action("ws join room A", ws({"type": "join", "room": ROOM_A}),
           row("ok   401  ok     ok    ok    ok    ok    ok     ok       ok")),
    Action("ws ask in room A", ws({"type": "ask", "room": ROOM_A, "text": "A question?"}),
           row("ok   401  ok     ok    ok    ok    ok    ok     ok       ok")),
    Action("ws relay a venue's question",
           ws({"type": "ask", "room": ROOM_A, "text": "From Tokyo?", "origin": "sub_venue"}),
           row("403  401  403    ok    ok    403   403   403    403      403")),
    Action("ws approve in room A", ws({"type": "approve", "room": ROOM_A, "question": QUESTION}),
           row("403  401  403    403   403   ok    403   403    403      ok")),
    Action("ws set mode of room B", ws({"type": "set_mode", "room": ROOM_B, "mode": "open"}),
           row("403  401  403    403   403   403   ok    403    403      ok")),
    Action("ws watch presence", ws({"type": "watch_presence"}),
           row("403  401  403    403   403   ok    ok    403    ok       ok")),
    Action("ws talkback to jp", ws({"type": "talkback", "venue": "jp", "text": "Ready?"}),
           row("403  401  403    ok    403   403   403   403    ok       ok")),
    Action("ws route venue jp", ws({"type": "route", "venue": "jp", "channel": None}),
           row("403  401  403    403   403   403   403   403    ok       ok")),
    Action("ws pause automation", ws({"type": "set_automation", "venue": "jp", "on": True}),
           row("403  401  403    403   403   403   403   403    ok       ok")),
    Action("POST route", http("POST", "/api/venues/jp/route", {"channel": None}),
           row("401  403  403    403   403   403   403   403    ok       ok")),
    Action("POST automation", http("POST", "/api/venues/jp/automation", {"on": True}),
           row("401  403  403    403   403   403   403   403    ok       ok")),
    Action("POST revoke", http("POST", "/api/tokens/revoke", {"token_id": "no-such-token"}),
           row("401  401  403    403   403   403   403   403    403      ok")),
    Action("WHIP publish channel X", http("POST", f"/whip/{CHANNEL_X}", sdp=True),
           row("401  403  403    403   403   403   403   ok     403      ok")),
    Action("WHIP publish jp's return", http("POST", "/whip/jp-return", sdp=True),
           row("401  403  403    ok    403   403   403   403    403      ok")),
    Action("WHEP venue jp", http("POST", "/whep/venue/jp", sdp=True),
           row("401  403  403    ok    403   403   403   403    ok       ok")),
    Action("records.csv", http("GET", "/api/records.csv"),
           row("401  401  403    403   403   403   403   403    ok       ok")),
    Action("records.json", http("GET", "/api/records.json"),
           row("401  401  403    403   403   403   403   403    ok       ok")),
    Action("questions.csv of A", http("GET", f"/api/sessions/{ROOM_A}/questions.csv"),
           row("401  401  403    403   403   ok    403   403    ok       ok")),
    Action("questions.json of B", http("GET", f"/api/sessions/{ROOM_B}/questions.json"),
           row("401  401  403    403   403   403   ok    403    ok       ok")),
    Action("page /director", http("GET", "/director"),
           row("401  401  403    403   403   403   403   403    ok       ok")),
    Action("page /records", http("GET", "/records"),
           row("401  401  403    403   403   403   403   403    ok       ok")),
    Action("page /returns", http("GET", "/returns"),
           row("401  401  403    403   403   403   403   403    ok       ok")),
    Action("page /venue/jp", http("GET", "/venue/jp"),
           row("401  401  403    ok    403   403   403   403    ok       ok")),
    Action("page /moderate/A", http("GET", f"/moderate/{ROOM_A}"),
           row("401  401  403    403   403   ok    403   403    403      ok")),
    Action("page /admin/invites", http("GET", "/admin/invites"),
           row("401  401  403    403   403   403   403   403    403      ok")),
    # An admin's body is refused on its own terms (JSON is not the form): past the check.
    Action("POST /admin/invites", http("POST", "/admin/invites", {"role": "viewer"}),
           row("401  401  403    403   403   403   403   403    403      ok")),
    Action("POST revoke an invite", http("POST", "/admin/invites/no-such-invite/revoke"),
           row("401  401  403    403   403   403   403   403    403      404")),
]  # fmt: skip


async def _socket(node: Node, token: str | None) -> Any:
    """The role's websocket, or None when its token is refused (it must be: 4401)."""
    if token != "not-a-token":
        return await node.connect(token)
    url = str(node.http.make_url("/ws"))
    async with node.http.session.ws_connect(
        url, headers={"Authorization": f"Bearer {token}"}
    ) as refused:
        assert (await refused.receive_json())["code"] == "unauthorized"
        closing = await refused.receive()
        assert closing.type is aiohttp.WSMsgType.CLOSE
        assert closing.data == 4401
    return None


@pytest.mark.parametrize("column", range(len(ROLES)), ids=list(ROLES))
async def test_every_action_for_one_role(
    settings: Settings, reference_event: Event, column: int
) -> None:
    role = list(ROLES)[column]
    options = HubOptions(messages=NO_MESSAGE_LIMIT, limits=limits())
    async with running_node(settings, reference_event, options) as node:
        scope = ROLES[role]
        token = "not-a-token" if role == "bad_token" else None
        if scope is not None:
            token = node.token(identity=f"{role}-actor", **scope)
        setup = await node.connect(node.token("moderator", "setup", sessions=[ROOM_A]))
        asked = await setup.ok({"type": "ask", "room": ROOM_A, "text": "Pending?"})
        socket = await _socket(node, token)
        if socket is not None:
            await socket.ok({"type": "join", "room": ROOM_A})
        outcome = {
            action.name: await action.run(node, token, socket, asked["question"])
            for action in TABLE
        }
        expected = {action.name: action.expected[column] for action in TABLE}
        assert outcome == expected

"""The role x action matrix: every role tries every action over the real websocket and HTTP."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from signaling.hub import HubOptions
from signaling.qa.limits import Limits, Rate
from tests.control.support import Node, WsClient

ROOM = "overseas-talents-summit"
OTHER = "gba-new-materials"
ROLES: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "viewer": {"role": "viewer"},
    "operator": {"role": "operator", "venue": "jp"},
    "moderator": {"role": "moderator", "sessions": [ROOM]},
    "moderator_other": {"role": "moderator", "sessions": [OTHER]},
    "moderator_all": {"role": "moderator", "sessions": ["*"]},
    "producer": {"role": "producer", "channels": ["gz-hall-1"]},
    "director": {"role": "director"},
    "admin": {"role": "admin"},
}
EVERYONE = set(ROLES)
ROOM_MODERATORS = {"moderator", "moderator_all", "admin"}
MODERATION = [
    "approve", "dismiss", "edit", "merge", "translate", "stage", "next", "unstage",
    "answered", "prioritize", "set_mode", "set_timer",
]  # fmt: skip
EXPECTED_WS: dict[str, set[str]] = {
    "join": EVERYONE,
    "ask": EVERYONE,
    "ask_relayed": {"operator"},
    "vote": EVERYONE,
    "watch_presence": {"moderator", "moderator_other", "moderator_all", "director", "admin"},
    **dict.fromkeys(MODERATION, ROOM_MODERATORS),
}
EXPECTED_HTTP: dict[str, set[str]] = {
    f"/moderate/{ROOM}": ROOM_MODERATORS,
    f"/api/sessions/{ROOM}/questions.json": ROOM_MODERATORS | {"director"},
    f"/api/sessions/{ROOM}/questions.csv": ROOM_MODERATORS | {"director"},
}
_texts = itertools.count()


@pytest.fixture
def hub_options() -> HubOptions:
    lots = Rate(burst=10_000, per_minute=10_000)
    return HubOptions(limits=Limits(lots, lots, lots, lots))


async def _question(admin: WsClient, *, approve: bool = False, stage: bool = False) -> str:
    qid = (await admin.ok({"type": "ask", "room": ROOM, "text": f"Question {next(_texts)}"}))[
        "question"
    ]
    if approve or stage:
        await admin.ok({"type": "approve", "room": ROOM, "question": qid})
    if stage:
        await admin.ok({"type": "stage", "room": ROOM, "question": qid})
    return str(qid)


async def _message(action: str, admin: WsClient) -> dict[str, Any]:
    """The message for ``action``, with the room prepared so that it can succeed."""
    base: dict[str, Any] = {"room": ROOM}
    if action == "join":
        return {"type": "join", **base}
    if action in ("ask", "ask_relayed"):
        origin = "sub_venue" if action == "ask_relayed" else "remote"
        return {"type": "ask", **base, "text": f"Asked {next(_texts)}", "origin": origin}
    if action == "vote":
        return {"type": "vote", **base, "question": await _question(admin, approve=True)}
    if action == "watch_presence":
        return {"type": "watch_presence"}
    if action == "merge":
        into = await _question(admin)
        return {"type": "merge", **base, "question": await _question(admin), "into": into}
    if action == "set_mode":
        await admin.request({"type": "set_mode", **base, "mode": "premoderated"})
        return {"type": "set_mode", **base, "mode": "open"}
    if action == "set_timer":
        return {"type": "set_timer", **base, "seconds": 30}
    if action in ("next", "unstage"):
        await _question(admin, stage=action == "unstage", approve=True)
        return {"type": action, **base}
    approved = action in ("stage", "answered", "prioritize")
    fields = {
        "dismiss": {"reason": "Off topic"},
        "edit": {"text": f"Edited {next(_texts)}"},
        "translate": {"language": "zh", "text": "翻译"},
    }.get(action, {})
    return {"type": action, **base, "question": await _question(admin, approve=approved), **fields}


@pytest.mark.parametrize("role", list(ROLES))
async def test_websocket_actions(node: Node, role: str) -> None:
    admin = await node.joined(ROOM, node.token("admin", "admin-setup"))
    await admin.request({"type": "set_mode", "room": ROOM, "mode": "premoderated"})
    scope = ROLES[role]
    token = None if scope is None else node.token(identity=f"{role}-actor", **scope)
    actor = await node.connect(token)
    outcome: dict[str, str] = {}
    for action in EXPECTED_WS:
        reply = await actor.request(await _message(action, admin))
        outcome[action] = "ok" if reply["type"] == "ack" else reply["code"]
    expected = {a: "ok" if role in allowed else "forbidden" for a, allowed in EXPECTED_WS.items()}
    assert outcome == expected


@pytest.mark.parametrize("role", list(ROLES))
async def test_http_actions(node: Node, role: str) -> None:
    scope = ROLES[role]
    headers = {} if scope is None else {"Authorization": f"Bearer {node.token(**scope)}"}
    outcome = {}
    for path in EXPECTED_HTTP:
        response = await node.http.get(path, headers=headers, allow_redirects=False)
        outcome[path] = response.status
    if scope is None:
        expected = dict.fromkeys(EXPECTED_HTTP, 401)
    else:
        expected = {p: 200 if role in allowed else 403 for p, allowed in EXPECTED_HTTP.items()}
    assert outcome == expected

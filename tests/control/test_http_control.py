"""Invite links, the token command, exports, pages and the QR code."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from pathlib import Path

import pytest

from config import Event, Settings
from tests.control.support import Node
from web.backends import open_backends
from web.cli import main

ROOM = "overseas-talents-summit"


async def test_token_command_mints_what_the_server_accepts(
    tmp_path: Path, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    async with open_backends(Settings(data_dir=data), reference_event) as server:
        authority = server.authority  # as the server has it after its start
    args = ["token", "--role", "moderator", "--session", ROOM, "--ttl", "2h",
            "--data-dir", str(data), "--public-url", "https://live.example.org/"]  # fmt: skip
    # The CLI runs its own event loop, so it runs in a worker thread here.
    assert await asyncio.to_thread(main, args) == 0
    token, link = capsys.readouterr().out.split()
    assert link == f"https://live.example.org/join?token={token}"
    grant = authority.verify(token)
    assert (grant.role.value, grant.sessions) == ("moderator", (ROOM,))


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "operator"],
        ["--role", "operator", "--venue", "mars"],
        ["--role", "moderator", "--session", "nope"],
        ["--role", "viewer", "--channel", "gz-hall-1"],
    ],
)
def test_token_command_refuses_bad_scopes(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", *args, "--data-dir", str(tmp_path)]) == 2
    assert "venuebridge:" in capsys.readouterr().err


async def test_token_from_the_cli_works_on_the_running_server(
    node: Node, settings: Settings
) -> None:
    # The real command, in its own process, beside the running server and its data dir.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "token", "--role", "admin", "--quiet",
        "--data-dir", str(settings.data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0
    token = out.decode().strip()
    admin = await node.connect(token)
    assert admin.welcome["role"] == "admin"


async def test_invite_link_sets_a_cookie_and_lands_on_the_console(node: Node) -> None:
    token = node.token("moderator", "mod", sessions=[ROOM])
    response = await node.http.get(f"/join?token={token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/moderate/{ROOM}"
    cookie = response.cookies["vb_token"]
    assert cookie.value == token
    assert cookie["httponly"]
    page = await node.http.get(f"/moderate/{ROOM}")  # the cookie jar now carries the token
    assert page.status == 200
    html = await page.text()
    assert "<svg" in html
    assert f"/qa/{ROOM}" in html
    # The websocket of the page gets the same identity from the cookie.
    client = await node.connect()
    assert client.welcome["identity"] == "mod"


async def test_invite_link_refuses_bad_tokens_and_open_redirects(node: Node) -> None:
    assert (await node.http.get("/join?token=forged", allow_redirects=False)).status == 401
    token = node.token("viewer", "v")
    for target in ("//evil.example", "https://evil.example", "/\\evil"):
        response = await node.http.get(f"/join?token={token}&next={target}", allow_redirects=False)
        assert response.headers["Location"] == "/"


async def test_pages_render_and_404_without_qa(node: Node) -> None:
    for path in (f"/qa/{ROOM}", f"/stage/{ROOM}"):
        response = await node.http.get(path)
        assert response.status == 200, path
    assert "<svg" in await (await node.http.get(f"/stage/{ROOM}")).text()
    assert (await node.http.get("/qa/opening")).status == 404  # no Q&A in that session
    assert (await node.http.get("/qa/nowhere")).status == 404


async def test_exports_hold_every_question_in_every_state(node: Node) -> None:
    moderator = await node.joined(ROOM, node.token("moderator", "mod", sessions=[ROOM]))
    askers = [await node.joined(ROOM), await node.joined(ROOM)]  # three asks each at most
    texts = ['=HYPERLINK("x")', "<script>alert(1)</script>", "重复的问题", "Answered one"]
    ids = [
        (await askers[i % 2].ok({"type": "ask", "room": ROOM, "text": t}))["question"]
        for i, t in enumerate(texts)
    ]
    await moderator.ok({"type": "dismiss", "room": ROOM, "question": ids[0], "reason": "Spam"})
    await moderator.ok({"type": "merge", "room": ROOM, "question": ids[2], "into": ids[1]})
    await moderator.ok({"type": "approve", "room": ROOM, "question": ids[3]})
    await moderator.ok({"type": "answered", "room": ROOM, "question": ids[3]})
    await moderator.ok({"type": "edit", "room": ROOM, "question": ids[1], "text": "Edited"})
    headers = {"Authorization": f"Bearer {node.token('director', 'd')}"}

    body = await (
        await node.http.get(f"/api/sessions/{ROOM}/questions.json", headers=headers)
    ).json()
    assert body["venue_time_zone"] == "Asia/Shanghai"
    rows = {row["id"]: row for row in body["questions"]}
    assert {r["state"] for r in rows.values()} == {"dismissed", "merged", "pending", "answered"}
    assert rows[ids[0]]["dismiss_reason"] == "Spam"
    assert rows[ids[2]]["merged_into"] == ids[1]
    assert rows[ids[1]]["original_text"] == texts[1]
    assert rows[ids[1]]["text"] == "Edited"
    asked = rows[ids[3]]
    assert asked["asked_at_utc"].endswith("Z")
    assert asked["asked_at_venue"].endswith("+08:00")
    assert asked["answered_at_utc"]

    response = await node.http.get(f"/api/sessions/{ROOM}/questions.csv", headers=headers)
    assert response.content_type == "text/csv"
    table = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["id"] for r in table] == ids
    # Formula-looking text is defused for spreadsheets; markup stays plain text.
    assert table[0]["text"] == "'" + texts[0]
    assert table[1]["original_text"] == texts[1]


async def test_metrics_count_websockets(node: Node) -> None:
    await node.connect()
    text = await (await node.http.get("/metrics")).text()
    assert "venuebridge_ws_connections 1.0" in text
    assert "venuebridge_ws_dropped_slow_total 0.0" in text

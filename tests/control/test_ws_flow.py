"""The Q&A flow over the real websocket: ask, moderate, vote, stage, replay, limits."""

from __future__ import annotations

import json

import aiohttp

from signaling.hub import HubOptions
from signaling.qa.limits import Limits, Rate
from tests.control.support import Node
from tests.helpers import eventually

ROOM = "overseas-talents-summit"


async def test_welcome_gives_anonymous_viewers_an_identity_and_a_token(node: Node) -> None:
    client = await node.connect()
    assert client.welcome["role"] == "viewer"
    assert client.welcome["identity"].startswith("anon-")
    assert client.welcome["v"] == 1
    # The same token brings the same identity back.
    again = await node.connect(client.welcome["token"])
    assert again.welcome["identity"] == client.welcome["identity"]
    assert "token" not in again.welcome


async def test_ask_moderate_vote_and_stage(node: Node) -> None:
    moderator = await node.joined(ROOM, node.token("moderator", "mod", sessions=[ROOM]))
    asker = await node.joined(ROOM)
    other = await node.joined(ROOM)
    ack = await asker.ok(
        {"type": "ask", "room": ROOM, "text": "<b>Visa</b> & rules?", "name": "Ann"}
    )
    qid = ack["question"]

    await eventually(lambda: moderator.question(qid) is not None, "the moderator to see it")
    assert moderator.question(qid)["state"] == "pending"  # type: ignore[index]
    assert moderator.question(qid)["asker"] == asker.welcome["identity"]  # type: ignore[index]
    assert asker.question(qid)["mine"] is True  # type: ignore[index]
    assert other.question(qid) is None  # pre-moderated: hidden from the audience

    # Viewers cannot moderate.
    refused = await other.request({"type": "approve", "room": ROOM, "question": qid})
    assert (refused["type"], refused["code"]) == ("error", "forbidden")

    await moderator.ok({"type": "approve", "room": ROOM, "question": qid})
    await eventually(lambda: other.question(qid) is not None, "the audience to see it")
    shown = other.question(qid)
    assert shown is not None
    assert shown["text"] == "<b>Visa</b> & rules?"  # data, verbatim; pages insert it as text
    assert "asker" not in shown

    await other.ok({"type": "vote", "room": ROOM, "question": qid})
    again = await other.request({"type": "vote", "room": ROOM, "question": qid})
    assert again["code"] == "already_voted"
    await eventually(lambda: (moderator.question(qid) or {}).get("votes") == 1, "one vote")

    await moderator.ok({"type": "set_timer", "room": ROOM, "seconds": 90})
    await moderator.ok({"type": "next", "room": ROOM})
    await eventually(
        lambda: any(f["type"] == "room" and f["stage"] == qid for f in other.frames), "the stage"
    )
    stage = [f for f in other.of_type("room") if f["stage"] == qid][-1]
    assert stage["timer"]["seconds"] == 90


async def test_dismissed_asker_is_told_why(node: Node) -> None:
    moderator = await node.joined(ROOM, node.token("moderator", "mod", sessions=[ROOM]))
    asker = await node.joined(ROOM)
    qid = (await asker.ok({"type": "ask", "room": ROOM, "text": "Buy my product"}))["question"]
    await moderator.ok({"type": "dismiss", "room": ROOM, "question": qid, "reason": "Advertising"})
    await eventually(lambda: bool(asker.of_type("notice")), "a notice to the asker")
    notice = asker.of_type("notice")[0]
    assert (notice["kind"], notice["question"], notice["reason"]) == (
        "dismissed",
        qid,
        "Advertising",
    )
    assert asker.question(qid)["dismiss_reason"] == "Advertising"  # type: ignore[index]


async def test_merge_combines_votes_and_hides_the_duplicate(node: Node) -> None:
    moderator = await node.joined(ROOM, node.token("moderator", "mod", sessions=[ROOM]))
    await moderator.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
    one, two, watcher = [await node.joined(ROOM) for _ in range(3)]
    target = (await one.ok({"type": "ask", "room": ROOM, "text": "Visa?"}))["question"]
    dup = (await two.ok({"type": "ask", "room": ROOM, "text": "How to get a visa?"}))["question"]
    await one.ok({"type": "vote", "room": ROOM, "question": dup})
    await two.ok({"type": "vote", "room": ROOM, "question": dup})
    await two.ok({"type": "vote", "room": ROOM, "question": target})
    await moderator.ok({"type": "merge", "room": ROOM, "question": dup, "into": target})
    await eventually(lambda: watcher.question(dup) is None, "the duplicate to disappear")
    await eventually(lambda: (watcher.question(target) or {}).get("votes") == 2, "votes to combine")
    assert watcher.question(target)["merged_from"] == [dup]  # type: ignore[index]


async def test_reconnect_replays_only_what_was_missed(node: Node) -> None:
    moderator = await node.joined(ROOM, node.token("moderator", "mod", sessions=[ROOM]))
    await moderator.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
    viewer = await node.joined(ROOM)
    old = (await viewer.ok({"type": "ask", "room": ROOM, "text": "Old question"}))["question"]
    await eventually(lambda: viewer.question(old) is not None, "the first question")
    last_seen = max(f.get("event_id", 0) for f in viewer.frames)
    token = viewer.welcome["token"]
    await viewer.close()

    asker = await node.joined(ROOM)
    new = (await asker.ok({"type": "ask", "room": ROOM, "text": "New question"}))["question"]
    await moderator.ok(
        {"type": "translate", "room": ROOM, "question": new, "language": "zh", "text": "新问题"}
    )

    back = await node.connect(token)
    join = await back.ok({"type": "join", "room": ROOM, "last_event_id": last_seen})
    assert join["event_id"] == last_seen + 2
    snapshot = back.of_type("snapshot")[0]
    assert snapshot["full"] is False
    assert snapshot["replayed"] == 2
    assert [q["id"] for q in snapshot["questions"]] == [new]
    assert snapshot["questions"][0]["translations"] == {"zh": "新问题"}


async def test_limits_on_text_and_frames(node: Node) -> None:
    viewer = await node.joined(ROOM)
    too_long = await viewer.request({"type": "ask", "room": ROOM, "text": "x" * 501})
    assert too_long["code"] == "too_long"
    exact = await viewer.request({"type": "ask", "room": ROOM, "text": " " + "x" * 500 + " "})
    assert exact["type"] == "ack"
    await viewer.ws.send_bytes(b"\x00\x01")
    await eventually(
        lambda: any(f["code"] == "bad_message" for f in viewer.of_type("error")),
        "an error for a binary frame",
    )
    # Past the 64 KiB limit the socket is closed; the server carries on.
    await viewer.ws.send_str(json.dumps({"type": "ask", "room": ROOM, "text": "y" * 70_000}))
    await eventually(lambda: viewer.ws.closed, "the oversized frame to close the socket")
    assert viewer.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    fresh = await node.joined(ROOM)
    assert fresh.welcome["role"] == "viewer"


async def test_unknown_rooms_and_rooms_without_qa(node: Node) -> None:
    viewer = await node.connect()
    assert (await viewer.request({"type": "join", "room": "nowhere"}))["code"] == "not_found"
    assert (await viewer.request({"type": "join", "room": "opening"}))["code"] == "qa_off"


async def test_bad_token_is_refused_with_an_error_frame(node: Node) -> None:
    url = str(node.http.make_url("/ws"))
    ws = await node.http.session.ws_connect(url, headers={"Authorization": "Bearer nonsense"})
    frame = json.loads((await ws.receive()).data)
    assert frame == {"type": "error", "code": "unauthorized", "message": "the token is not valid"}
    await ws.receive()
    assert ws.close_code == 4401


class TestRateLimits:
    async def test_asks_are_limited_per_identity(self, node: Node) -> None:
        viewer = await node.joined(ROOM)
        replies = [
            await viewer.request({"type": "ask", "room": ROOM, "text": f"question {i}"})
            for i in range(5)
        ]
        codes = [r.get("code", "ok") for r in replies]
        assert codes[:3] == ["ok", "ok", "ok"]
        assert codes[3:] == ["rate_limited", "rate_limited"]

    async def test_duplicate_submission_is_refused(self, node: Node) -> None:
        viewer = await node.joined(ROOM)
        await viewer.ok({"type": "ask", "room": ROOM, "text": "Same thing"})
        assert (await viewer.request({"type": "ask", "room": ROOM, "text": " same  THING "}))[
            "code"
        ] == "duplicate"


async def test_votes_limited_per_address(
    settings: object, reference_event: object, tmp_path: object
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from web.app import create_app

    options = HubOptions(limits=Limits(vote_per_address=Rate(burst=2, per_minute=1)))
    app = create_app(settings, reference_event, options)  # type: ignore[arg-type]
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as http:
        node = Node(http)
        moderator = await node.joined(ROOM, node.token("moderator", "m", sessions=[ROOM]))
        await moderator.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
        qid = (await moderator.ok({"type": "ask", "room": ROOM, "text": "Vote me"}))["question"]
        codes = []
        for _ in range(3):  # three identities, one address
            voter = await node.joined(ROOM)
            codes.append(
                (await voter.request({"type": "vote", "room": ROOM, "question": qid})).get(
                    "code", "ok"
                )
            )
        assert codes == ["ok", "ok", "rate_limited"]

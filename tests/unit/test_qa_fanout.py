"""Who sees what of a Q&A room: ``frames_for`` and ``snapshot_for``, pure, no event loop."""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from typing import Any

from signaling.auth import Grant, Role
from signaling.protocol import Frame, ServerFrame, encode_frame
from signaling.qa import events as ev
from signaling.qa.fanout import frames_for, snapshot_for, touched_by
from signaling.qa.room import Room

ROOM = "r"


@dataclass(frozen=True)
class Member:
    grant: Grant

    @property
    def identity(self) -> str:
        return self.grant.identity


MOD = Member(Grant("mod", Role.MODERATOR, sessions=(ROOM,)))
ALICE = Member(Grant("alice", Role.VIEWER))  # asks
BOB = Member(Grant("bob", Role.VIEWER))
CAROL = Member(Grant("carol", Role.VIEWER))
EVERYONE = [MOD, ALICE, BOB, CAROL]


def apply(room: Room, event: ev.RoomEvent) -> list[tuple[Member, Frame]]:
    """Apply ``event`` as the room service does and return what goes to whom."""
    seq = room.seq + 1
    touched = room.apply(event, seq)
    return [(m, frame) for frame, group in frames_for(room, seq, event, touched, EVERYONE)
            for m in group]  # fmt: skip


def received(out: list[tuple[Member, Frame]], member: Member) -> list[dict[str, Any]]:
    return [json.loads(frame.text) for who, frame in out if who is member]


def ask(room: Room) -> str:
    event = room.decide_ask(
        by="alice",
        text="What about visas?",
        name="",
        language="en",
        origin="remote",
        origin_venue=None,
        now=100.0,
    )
    apply(room, event)
    return event.question


def test_a_pending_question_goes_to_moderators_and_its_asker_only() -> None:
    room = Room(ROOM)
    event = room.decide_ask(
        by="alice", text="Visas?", name="", language="en", origin="remote", origin_venue=None,
        now=1.0,
    )  # fmt: skip
    out = apply(room, event)
    (to_mod,) = received(out, MOD)
    assert to_mod["type"] == "question"
    assert to_mod["question"]["asker"] == "alice"
    (to_alice,) = received(out, ALICE)
    assert to_alice["question"]["mine"] is True
    assert "asker" not in to_alice["question"]
    assert received(out, BOB) == []
    assert received(out, CAROL) == []


def test_one_frame_per_audience_shared_by_its_members() -> None:
    room = Room(ROOM)
    qid = ask(room)
    out = apply(room, room.decide_approve(by="mod", question_id=qid, now=2.0))
    frames = {who.identity: frame for who, frame in out}
    assert frames["bob"] is frames["carol"]  # encoded once for the public
    assert frames["alice"] is not frames["bob"]
    public = json.loads(frames["bob"].text)
    assert public == {
        "type": "question",
        "room": ROOM,
        "event_id": 2,
        "question": room.questions[qid].public_view(),
    }


def test_each_frame_comes_once_with_the_list_of_its_members() -> None:
    room = Room(ROOM)
    qid = ask(room)
    seq = room.seq + 1
    event = room.decide_approve(by="mod", question_id=qid, now=2.0)
    groups = frames_for(room, seq, event, room.apply(event, seq), EVERYONE)
    assert sorted([m.identity for m in group] for _, group in groups) == [
        ["alice"],
        ["bob", "carol"],
        ["mod"],
    ]


def test_a_dismissal_hides_the_question_and_tells_the_asker_why() -> None:
    room = Room(ROOM)
    qid = ask(room)
    apply(room, room.decide_approve(by="mod", question_id=qid, now=2.0))
    out = apply(room, room.decide_dismiss(by="mod", question_id=qid, reason="off topic", now=3.0))
    assert received(out, BOB) == [
        {"type": "question_removed", "room": ROOM, "event_id": 3, "id": qid}
    ]
    question, notice = received(out, ALICE)
    assert question["question"]["dismiss_reason"] == "off topic"
    assert notice == {
        "type": "notice",
        "room": ROOM,
        "event_id": 3,
        "kind": "dismissed",
        "question": qid,
        "reason": "off topic",
    }
    (to_mod,) = received(out, MOD)
    assert to_mod["question"]["state"] == "dismissed"


def test_an_edit_of_a_pending_question_tells_the_public_nothing() -> None:
    room = Room(ROOM)
    qid = ask(room)
    out = apply(room, room.decide_edit(by="mod", question_id=qid, text="Visas, please", now=2.0))
    assert received(out, BOB) == []
    assert received(out, CAROL) == []
    assert [f["question"]["text"] for f in received(out, ALICE)] == ["Visas, please"]


def test_room_events_go_to_every_member_as_one_room_frame() -> None:
    room = Room(ROOM)
    out = apply(room, room.decide_timer(by="mod", seconds=90, now=500.0))
    assert {who.identity for who, _ in out} == {"mod", "alice", "bob", "carol"}
    assert len({id(frame) for _, frame in out}) == 1
    assert json.loads(out[0][1].text) == {
        "type": "room",
        "room": ROOM,
        "event_id": 1,
        "mode": "premoderated",
        "stage": None,
        "timer": {"seconds": 90, "started_at": 500.0},
    }


def test_an_empty_room_gets_nothing() -> None:
    room = Room(ROOM)
    event = room.decide_mode(by="mod", mode="open", now=1.0)
    touched = room.apply(event, 1)
    assert frames_for(room, 1, event, touched, []) == []


def test_a_snapshot_shows_each_client_what_the_fan_out_shows_them() -> None:
    room = Room(ROOM)
    pending = ask(room)
    shown = room.decide_ask(
        by="bob", text="And jobs?", name="", language="en", origin="remote", origin_venue=None,
        now=5.0,
    )  # fmt: skip
    apply(room, shown)
    apply(room, room.decide_approve(by="mod", question_id=shown.question, now=6.0))
    for member in EVERYONE:
        moderator = member.grant.moderates(ROOM)
        snap = json.loads(_text(snapshot_for(room, member.identity, moderator)))
        seen = {q["id"]: q for q in snap["questions"]}
        assert (pending in seen) == (member in (MOD, ALICE))
        assert shown.question in seen
        assert ("queue" in snap) == moderator
        assert "replayed" not in snap
    # A replay names what the client may no longer see.
    replay = snapshot_for(room, "carol", False, only={pending}, replayed=0)
    assert replay.removed == [pending]
    assert replay.questions == []
    assert b'"replayed":0' in _text(replay).encode()


def test_touched_by_names_both_sides_of_a_merge() -> None:
    events: list[ev.RoomEvent] = [
        ev.Merged(at=1.0, by="mod", question="q1", into="q2"),
        ev.ModeSet(at=2.0, by="mod", mode="open"),
    ]
    assert touched_by(events) == {"q1", "q2"}


def _text(frame: ServerFrame) -> str:
    return encode_frame(frame).text


def test_a_fan_out_to_thousands_allocates_nothing_per_member() -> None:
    """No object the collector tracks per member: at 5,000 members a tuple each set off
    collections mid fan-out, full ones among them, and those were the latency tail."""
    room = Room(ROOM)
    qid = ask(room)
    crowd = [Member(Grant(f"viewer-{i}", Role.VIEWER)) for i in range(5000)]
    seq = room.seq + 1
    event = room.decide_approve(by="mod", question_id=qid, now=2.0)
    touched = room.apply(event, seq)
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    gc.collect()
    collections = sum(s["collections"] for s in gc.get_stats())
    try:
        groups = frames_for(room, seq, event, touched, [MOD, ALICE, *crowd])
    finally:
        gc.set_threshold(*before)
    assert sum(s["collections"] for s in gc.get_stats()) == collections
    assert sum(len(group) for _, group in groups) == 5002

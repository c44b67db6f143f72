"""The pure Q&A state machine: every transition and every refusal, no event loop."""

from __future__ import annotations

import pytest

from signaling.errors import NotFound, Refused
from signaling.qa import events as ev
from signaling.qa.events import dump_event, load_event
from signaling.qa.model import State
from signaling.qa.room import Room


def commit(room: Room, event: ev.RoomEvent) -> set[str]:
    # Through JSON, as the store and bus carry it.
    return room.apply(load_event(dump_event(event)), room.seq + 1)


def ask(room: Room, text: str = "What about visas?", by: str = "alice", **kw: object) -> str:
    event = room.decide_ask(
        by=by,
        text=text,
        name=str(kw.get("name", "")),
        language=kw.get("language", "en"),  # type: ignore[arg-type]
        origin=kw.get("origin", "remote"),  # type: ignore[arg-type]
        origin_venue=None,
        now=float(kw.get("now", 100.0)),
    )
    commit(room, event)
    return event.question


def approved(room: Room, text: str = "What about visas?", by: str = "alice") -> str:
    qid = ask(room, text, by)
    commit(room, room.decide_approve(by="mod", question_id=qid, now=101.0))
    return qid


def test_ask_is_pending_in_a_premoderated_room() -> None:
    room = Room("r")
    qid = ask(room, "  Hello\x00 there  ", name=" Bob ")
    question = room.questions[qid]
    assert question.state is State.PENDING
    assert question.text == "Hello there"
    assert question.name == "Bob"
    assert room.seq == 1
    assert qid == "q1"


def test_ask_is_approved_at_once_in_an_open_room() -> None:
    room = Room("r")
    commit(room, room.decide_mode(by="mod", mode="open", now=1.0))
    qid = ask(room)
    assert room.questions[qid].state is State.APPROVED
    assert room.questions[qid].approved_at == 100.0


def test_mode_switch_refuses_the_same_mode() -> None:
    room = Room("r")
    with pytest.raises(Refused) as refused:
        room.decide_mode(by="mod", mode="premoderated", now=1.0)
    assert refused.value.code == "unchanged"


@pytest.mark.parametrize(
    ("text", "code"), [("", "empty"), ("   \n\t ", "empty"), ("x" * 501, "too_long")]
)
def test_ask_refuses_empty_and_long_text(text: str, code: str) -> None:
    with pytest.raises(Refused) as refused:
        ask(Room("r"), text)
    assert refused.value.code == code


def test_exactly_500_characters_after_trimming_is_accepted() -> None:
    room = Room("r")
    qid = ask(room, "  " + "字" * 500 + "  ")
    assert len(room.questions[qid].text) == 500


def test_duplicate_submission_is_refused_but_others_may_ask_the_same() -> None:
    room = Room("r")
    ask(room, "Same  Question?")
    with pytest.raises(Refused) as refused:
        ask(room, "same question?")
    assert refused.value.code == "duplicate"
    ask(room, "same question?", by="bob")
    assert len(room.questions) == 2


def test_a_dismissed_question_may_be_asked_again() -> None:
    room = Room("r")
    qid = ask(room)
    commit(room, room.decide_dismiss(by="mod", question_id=qid, reason="later", now=2.0))
    ask(room)
    assert len(room.questions) == 2


def test_approve_only_from_pending() -> None:
    room = Room("r")
    qid = approved(room)
    with pytest.raises(Refused):
        room.decide_approve(by="mod", question_id=qid, now=1.0)
    with pytest.raises(NotFound):
        room.decide_approve(by="mod", question_id="q99", now=1.0)


def test_votes_once_per_identity_and_can_be_withdrawn() -> None:
    room = Room("r")
    qid = approved(room)
    commit(room, room.decide_vote(by="bob", question_id=qid, on=True, now=1.0))
    with pytest.raises(Refused) as twice:
        room.decide_vote(by="bob", question_id=qid, on=True, now=1.0)
    assert twice.value.code == "already_voted"
    assert room.questions[qid].votes == 1
    commit(room, room.decide_vote(by="bob", question_id=qid, on=False, now=1.0))
    assert room.questions[qid].votes == 0
    with pytest.raises(Refused) as never:
        room.decide_vote(by="bob", question_id=qid, on=False, now=1.0)
    assert never.value.code == "not_voted"


def test_no_votes_on_pending_dismissed_or_answered() -> None:
    room = Room("r")
    pending = ask(room, "a")
    dismissed = ask(room, "b")
    commit(room, room.decide_dismiss(by="m", question_id=dismissed, reason="no", now=1.0))
    answered = approved(room, "c")
    commit(room, room.decide_answered(by="m", question_id=answered, now=1.0))
    for qid in (pending, dismissed, answered):
        with pytest.raises(Refused):
            room.decide_vote(by="bob", question_id=qid, on=True, now=1.0)


def test_dismiss_keeps_the_reason_and_refuses_an_empty_one() -> None:
    room = Room("r")
    qid = ask(room)
    with pytest.raises(Refused):
        room.decide_dismiss(by="m", question_id=qid, reason="  ", now=1.0)
    with pytest.raises(Refused):
        room.decide_dismiss(by="m", question_id=qid, reason="x" * 201, now=1.0)
    commit(room, room.decide_dismiss(by="m", question_id=qid, reason="Off topic", now=5.0))
    question = room.questions[qid]
    assert (question.state, question.dismiss_reason, question.closed_at) == (
        State.DISMISSED,
        "Off topic",
        5.0,
    )
    assert question.asker_view()["dismiss_reason"] == "Off topic"
    with pytest.raises(Refused):
        room.decide_dismiss(by="m", question_id=qid, reason="again", now=1.0)
    with pytest.raises(Refused):
        room.decide_approve(by="m", question_id=qid, now=1.0)


def test_dismiss_from_approved_but_not_from_stage() -> None:
    room = Room("r")
    qid = approved(room)
    commit(room, room.decide_stage(by="m", question_id=qid, now=1.0))
    with pytest.raises(Refused):
        room.decide_dismiss(by="m", question_id=qid, reason="no", now=1.0)


def test_edit_keeps_history() -> None:
    room = Room("r")
    qid = ask(room, "Waht about visas")
    commit(room, room.decide_edit(by="mod", question_id=qid, text="What about visas?", now=3.0))
    question = room.questions[qid]
    assert question.text == "What about visas?"
    assert [(e.old_text, e.new_text, e.by) for e in question.edits] == [
        ("Waht about visas", "What about visas?", "mod")
    ]
    with pytest.raises(Refused) as same:
        room.decide_edit(by="mod", question_id=qid, text="What about visas?", now=3.0)
    assert same.value.code == "unchanged"
    with pytest.raises(Refused):
        room.decide_edit(by="mod", question_id=qid, text="", now=3.0)


def test_edit_refused_once_closed() -> None:
    room = Room("r")
    qid = approved(room)
    commit(room, room.decide_answered(by="m", question_id=qid, now=1.0))
    with pytest.raises(Refused):
        room.decide_edit(by="m", question_id=qid, text="new", now=1.0)


def test_merge_combines_votes_once_per_identity() -> None:
    room = Room("r")
    target = approved(room, "How do I get a visa?", by="alice")
    duplicate = approved(room, "Visa process?", by="bob")
    for voter, qid in [("v1", target), ("v2", target), ("v2", duplicate), ("v3", duplicate)]:
        commit(room, room.decide_vote(by=voter, question_id=qid, on=True, now=1.0))
    touched = commit(room, room.decide_merge(by="m", question_id=duplicate, into=target, now=2.0))
    assert touched == {target, duplicate}
    assert room.questions[target].votes == 3
    assert room.questions[target].merged_from == [duplicate]
    assert room.questions[duplicate].state is State.MERGED
    assert room.questions[duplicate].merged_into == target


def test_merge_refusals() -> None:
    room = Room("r")
    a = approved(room, "a")
    b = ask(room, "b")
    with pytest.raises(Refused):
        room.decide_merge(by="m", question_id=a, into=a, now=1.0)
    commit(room, room.decide_dismiss(by="m", question_id=b, reason="dup", now=1.0))
    with pytest.raises(Refused):
        room.decide_merge(by="m", question_id=a, into=b, now=1.0)
    with pytest.raises(Refused):
        room.decide_merge(by="m", question_id=b, into=a, now=1.0)
    with pytest.raises(NotFound):
        room.decide_merge(by="m", question_id=a, into="q404", now=1.0)


def test_translation_zh_en_both_ways() -> None:
    room = Room("r")
    en = ask(room, "Where is hall 3?")
    zh = ask(room, "三号厅在哪里？", language="zh")
    commit(
        room,
        room.decide_translate(by="m", question_id=en, language="zh", text="三号厅在哪？", now=1.0),
    )
    commit(
        room,
        room.decide_translate(
            by="m", question_id=zh, language="en", text="Where is hall 3?", now=1.0
        ),
    )
    assert room.questions[en].translations == {"zh": "三号厅在哪？"}
    assert room.questions[zh].translations == {"en": "Where is hall 3?"}
    with pytest.raises(Refused) as same:
        room.decide_translate(by="m", question_id=en, language="en", text="x", now=1.0)
    assert same.value.code == "same_language"


def test_stage_answer_and_next_follow_the_queue() -> None:
    room = Room("r")
    first = approved(room, "first", by="a")
    popular = approved(room, "popular", by="b")
    pinned = approved(room, "pinned", by="c")
    commit(room, room.decide_vote(by="v", question_id=popular, on=True, now=1.0))
    assert [q.id for q in room.queue()] == [popular, first, pinned]
    commit(room, room.decide_prioritize(by="m", question_id=pinned, now=1.0))
    assert [q.id for q in room.queue()] == [pinned, popular, first]
    commit(room, room.decide_next(by="m", now=10.0))
    assert room.stage == pinned
    assert room.questions[pinned].state is State.ON_STAGE
    # The next question takes the stage; the one before has been answered.
    commit(room, room.decide_next(by="m", now=20.0))
    assert room.stage == popular
    assert room.questions[pinned].state is State.ANSWERED
    assert room.questions[pinned].answered_at == 20.0
    commit(room, room.decide_answered(by="m", question_id=popular, now=30.0))
    assert room.stage is None
    commit(room, room.decide_stage(by="m", question_id=first, now=40.0))
    commit(room, room.decide_unstage(by="m", now=41.0))
    assert room.stage is None
    assert room.questions[first].state is State.APPROVED
    with pytest.raises(Refused):
        room.decide_unstage(by="m", now=42.0)
    commit(room, room.decide_answered(by="m", question_id=first, now=43.0))
    with pytest.raises(Refused) as empty:
        room.decide_next(by="m", now=50.0)
    assert empty.value.code == "empty_queue"


def test_stage_refuses_pending_and_prioritize_refuses_non_approved() -> None:
    room = Room("r")
    qid = ask(room)
    with pytest.raises(Refused):
        room.decide_stage(by="m", question_id=qid, now=1.0)
    with pytest.raises(Refused):
        room.decide_prioritize(by="m", question_id=qid, now=1.0)
    with pytest.raises(Refused):
        room.decide_answered(by="m", question_id=qid, now=1.0)


def test_timer_sets_and_clears() -> None:
    room = Room("r")
    commit(room, room.decide_timer(by="m", seconds=90, now=500.0))
    assert room.room_view()["timer"] == {"seconds": 90, "started_at": 500.0}
    commit(room, room.decide_timer(by="m", seconds=0, now=600.0))
    assert room.room_view()["timer"] == {"seconds": 0, "started_at": None}
    with pytest.raises(Refused):
        room.decide_timer(by="m", seconds=3601, now=1.0)


def test_events_apply_in_order_only() -> None:
    room = Room("r")
    event = room.decide_timer(by="m", seconds=5, now=1.0)
    with pytest.raises(ValueError, match="event 2 after 0"):
        room.apply(event, 2)


def test_visibility_of_pending_questions() -> None:
    room = Room("r")
    qid = ask(room, by="alice")
    question = room.questions[qid]
    assert question.visible_to("alice", moderator=False)
    assert question.visible_to("mod", moderator=True)
    assert not question.visible_to("bob", moderator=False)

"""What each audience is sent about a room: pure functions from state to frames."""

from __future__ import annotations

from typing import Any

from signaling.qa import events as ev
from signaling.qa.model import Question
from signaling.qa.room import Room

# Events after which a question that was public may no longer be.
HIDING_EVENTS = (ev.Dismissed, ev.Merged)
ROOM_EVENTS = (ev.ModeSet, ev.TimerSet, ev.Staged, ev.Unstaged, ev.Answered)


def question_view(question: Question, identity: str, moderator: bool) -> dict[str, Any] | None:
    """The question as ``identity`` may see it, or None when hidden from them."""
    if moderator:
        return question.moderator_view()
    if question.asker == identity:
        return question.asker_view()
    if question.visible_to(identity, moderator=False):
        return question.public_view()
    return None


def snapshot(
    room: Room,
    identity: str,
    moderator: bool,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """The room for one client: all it may see, or only the questions in ``only``."""
    questions: list[dict[str, Any]] = []
    removed: list[str] = []
    for question in room.questions.values():
        if only is not None and question.id not in only:
            continue
        view = question_view(question, identity, moderator)
        if view is not None:
            questions.append(view)
        elif only is not None:
            removed.append(question.id)
    frame: dict[str, Any] = {
        "type": "snapshot",
        "room": room.id,
        "event_id": room.seq,
        "full": only is None,
        "state": room.room_view(),
        "questions": questions,
        "removed": removed,
        "my_votes": sorted(q.id for q in room.questions.values() if identity in q.voters),
    }
    if moderator:
        frame["queue"] = [q.id for q in room.queue()]
    return frame


def touched_by(events: list[ev.RoomEvent]) -> set[str]:
    """Question ids that ``events`` changed (for replay after a reconnect)."""
    ids: set[str] = set()
    for event in events:
        question = getattr(event, "question", None)
        if isinstance(question, str):
            ids.add(question)
        if isinstance(event, ev.Merged):
            ids.add(event.into)
    return ids

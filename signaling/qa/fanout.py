"""Who sees what of a Q&A room, decided here and nowhere else. Pure: state in, frames out.

Three audiences see a question: the room's moderators (everything), its asker (their own
question in any state, with why it was dismissed or where it was merged), and everyone
else (only moderated, public questions). ``frames_for`` encodes one frame per audience
however many members share it, and hands it over with the list of its members;
``snapshot_for`` is the same decision for one client.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Protocol, TypeVar

from signaling.auth.grants import Grant
from signaling.protocol.server import (
    Frame,
    Notice,
    QuestionFrame,
    QuestionRemoved,
    QuestionView,
    RoomFrame,
    RoomState,
    Snapshot,
    Timer,
    encode_frame,
)
from signaling.qa import events as ev
from signaling.qa.model import PUBLIC_STATES, Question
from signaling.qa.room import Room

# Events after which a question that was public may no longer be.
HIDING_EVENTS = (ev.Dismissed, ev.Merged)
# Events that change only what moderators see: nobody else hears of them.
MODERATOR_ONLY_EVENTS = (ev.Flagged,)
# Events that change room-level state (mode, stage, timer).
ROOM_EVENTS = (ev.ModeSet, ev.TimerSet, ev.Staged, ev.Unstaged, ev.Answered)


class Member(Protocol):
    """A client in the room, as far as deciding what it sees goes."""

    @property
    def grant(self) -> Grant: ...

    @property
    def identity(self) -> str: ...


M = TypeVar("M", bound=Member)


class Audience(enum.Enum):
    MODERATOR = "moderator"
    ASKER = "asker"
    PUBLIC = "public"


def audience_of(question: Question, identity: str, moderator: bool) -> Audience:
    """Which audience ``identity`` belongs to for ``question``."""
    if moderator:
        return Audience.MODERATOR
    if question.asker == identity:
        return Audience.ASKER
    return Audience.PUBLIC


def view_for(question: Question, audience: Audience) -> QuestionView | None:
    """The question as ``audience`` may see it, or None when hidden from it."""
    if audience is Audience.MODERATOR:
        return question.moderator_view()
    if audience is Audience.ASKER:
        return question.asker_view()
    if question.state in PUBLIC_STATES:
        return question.public_view()
    return None


def room_state(room: Room) -> RoomState:
    """Room-level state every page may see."""
    return RoomState(
        mode=room.mode,
        stage=room.stage,
        timer=Timer(seconds=room.timer_seconds, started_at=room.timer_started_at),
    )


def frames_for(
    room: Room, seq: int, event: ev.RoomEvent, touched: Iterable[str], members: Iterable[M]
) -> list[tuple[Frame, list[M]]]:
    """What to send after ``event`` (number ``seq``) touched these questions: each frame
    with the members it goes to, in the order each member must receive them.

    One frame per audience and one list per frame: nothing is allocated per member (with
    thousands of members, a tuple each kept the garbage collector busy mid fan-out).
    """
    present = list(members)
    if not present:
        return []
    moderators = {id(m) for m in present if m.grant.moderates(room.id)}
    out: list[tuple[Frame, list[M]]] = []
    for question_id in touched:
        question = room.questions[question_id]
        for audience, group in _audiences(question, event, present, moderators):
            frame = _question_frame(room, seq, event, question, audience)
            if frame is not None:
                out.append((frame, group))
    if isinstance(event, ROOM_EVENTS):
        state = room_state(room)
        frame = encode_frame(
            RoomFrame(
                room=room.id, event_id=seq, mode=state.mode, stage=state.stage, timer=state.timer
            )
        )
        out.append((frame, present))
    if isinstance(event, ev.Dismissed):
        notice = encode_frame(
            Notice(
                room=room.id,
                event_id=seq,
                kind="dismissed",
                question=event.question,
                reason=event.reason,
            )
        )
        asker = room.questions[event.question].asker
        askers = [member for member in present if member.identity == asker]
        if askers:
            out.append((notice, askers))
    return out


def _audiences(
    question: Question, event: ev.RoomEvent, present: list[M], moderators: set[int]
) -> list[tuple[Audience, list[M]]]:
    """The members split by the audience they belong to for ``question``."""
    groups: dict[Audience, list[M]] = {}
    public_too = not isinstance(event, MODERATOR_ONLY_EVENTS)
    asker = question.asker
    for member in present:  # ``audience_of``, inlined: this loop runs once per member
        if id(member) in moderators:
            audience = Audience.MODERATOR
        elif not public_too:
            continue
        elif member.identity == asker:
            audience = Audience.ASKER
        else:
            audience = Audience.PUBLIC
        group = groups.get(audience)
        if group is None:
            groups[audience] = group = []
        group.append(member)
    return list(groups.items())


def _question_frame(
    room: Room, seq: int, event: ev.RoomEvent, question: Question, audience: Audience
) -> Frame | None:
    view = view_for(question, audience)
    if view is not None:
        return encode_frame(QuestionFrame(room=room.id, event_id=seq, question=view))
    if isinstance(event, HIDING_EVENTS):
        return encode_frame(QuestionRemoved(room=room.id, event_id=seq, id=question.id))
    return None


def snapshot_for(
    room: Room,
    identity: str,
    moderator: bool,
    only: set[str] | None = None,
    replayed: int | None = None,
) -> Snapshot:
    """The room for one client: all it may see, or only the questions in ``only``."""
    questions: list[QuestionView] = []
    removed: list[str] = []
    for question in room.questions.values():
        if only is not None and question.id not in only:
            continue
        view = view_for(question, audience_of(question, identity, moderator))
        if view is not None:
            questions.append(view)
        elif only is not None:
            removed.append(question.id)
    return Snapshot(
        room=room.id,
        event_id=room.seq,
        full=only is None,
        state=room_state(room),
        questions=questions,
        removed=removed,
        my_votes=sorted(q.id for q in room.questions.values() if identity in q.voters),
        queue=[q.id for q in room.queue()] if moderator else None,
        replayed=replayed,
    )


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

"""Who sees what of a Q&A room, decided here and nowhere else. Pure: state in, frames out.

Three audiences see a question: the room's moderators (everything), its asker (their own
question in any state, with why it was dismissed or where it was merged), and everyone
else (only moderated, public questions). ``frames_for`` encodes one frame per audience
however many members share it; ``snapshot_for`` is the same decision for one client.
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
) -> list[tuple[M, Frame]]:
    """What to send to whom after ``event`` (number ``seq``) touched these questions."""
    present = [(member, member.grant.moderates(room.id)) for member in members]
    if not present:
        return []
    out: list[tuple[M, Frame]] = []
    for question_id in touched:
        _question_frames(room, seq, event, room.questions[question_id], present, out)
    if isinstance(event, ROOM_EVENTS):
        state = room_state(room)
        frame = encode_frame(
            RoomFrame(
                room=room.id, event_id=seq, mode=state.mode, stage=state.stage, timer=state.timer
            )
        )
        out.extend((member, frame) for member, _ in present)
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
        out.extend((member, notice) for member, _ in present if member.identity == asker)
    return out


def _question_frames(
    room: Room,
    seq: int,
    event: ev.RoomEvent,
    question: Question,
    present: list[tuple[M, bool]],
    out: list[tuple[M, Frame]],
) -> None:
    # Encoded once per audience, on first need, not once per member.
    frames: dict[Audience, Frame | None] = {}
    for member, moderator in present:
        if isinstance(event, MODERATOR_ONLY_EVENTS) and not moderator:
            continue
        audience = audience_of(question, member.identity, moderator)
        if audience not in frames:
            frames[audience] = _question_frame(room, seq, event, question, audience)
        frame = frames[audience]
        if frame is not None:
            out.append((member, frame))


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

"""The Q&A state machine of one room: pure decisions and a pure fold.

``decide_*`` methods check a command against the current state and return the event it
causes, or raise ``Refused``. ``apply`` folds an event into the state and never fails.
No clocks, sockets or awaits here: the caller passes ``now`` and the actor's identity.

    pending --approve--> approved --stage--> on_stage --answered--> answered
       |                  |   ^                  | unstage: back to approved
       +--dismiss---------+   +------------------+
       +--merge into another (votes combine)-----+
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from signaling.errors import NotFound, Refused
from signaling.qa import events as ev
from signaling.qa.model import EditRecord, Question, State

MAX_TEXT = 500
MAX_REASON = 200
MAX_NAME = 60
MAX_TIMER = 3600
_SPACE = re.compile(r"\s+")
# Control characters other than newline and tab have no business in a question.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

OPEN_STATES = frozenset({State.PENDING, State.APPROVED})
LIVE_STATES = frozenset({State.PENDING, State.APPROVED, State.ON_STAGE})


def clean_text(text: str, limit: int, what: str) -> str:
    """Trim, drop control characters, and enforce 1..limit characters."""
    cleaned = _CONTROL.sub("", text).strip()
    if not cleaned:
        raise Refused(f"{what} is empty", code="empty")
    if len(cleaned) > limit:
        raise Refused(f"{what} is longer than {limit} characters", code="too_long")
    return cleaned


def normalized(text: str) -> str:
    """The form used to spot the same question sent twice."""
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass(slots=True)
class Room:
    """One session's Q&A room as of event ``seq``."""

    id: str
    seq: int = 0
    mode: str = "premoderated"
    questions: dict[str, Question] = field(default_factory=dict)
    stage: str | None = None
    timer_seconds: int = 0
    timer_started_at: float | None = None

    # ---------------------------------------------------------------- queries

    def get(self, question_id: str) -> Question:
        question = self.questions.get(question_id)
        if question is None:
            raise NotFound(f"no question '{question_id}' in this room")
        return question

    def queue(self) -> list[Question]:
        """Approved questions in the order "next" takes them: pinned, most votes, oldest."""
        waiting = [q for q in self.questions.values() if q.state is State.APPROVED]
        return sorted(waiting, key=lambda q: (-q.rank, -q.votes, q.asked_at, q.id))

    def next_question_id(self) -> str:
        return f"q{self.seq + 1}"

    def room_view(self) -> dict[str, object]:
        """Room-level state every page may see."""
        return {
            "mode": self.mode,
            "stage": self.stage,
            "timer": {"seconds": self.timer_seconds, "started_at": self.timer_started_at},
        }

    # -------------------------------------------------------------- decisions

    def decide_ask(
        self,
        *,
        by: str,
        text: str,
        name: str,
        language: ev.Language,
        origin: ev.Origin,
        origin_venue: str | None,
        now: float,
    ) -> ev.Asked:
        body = clean_text(text, MAX_TEXT, "question")
        shown_name = _CONTROL.sub("", name).strip()[:MAX_NAME]
        key = normalized(body)
        for question in self.questions.values():
            if (
                question.asker == by
                and question.state is not State.DISMISSED
                and normalized(question.text) == key
            ):
                raise Refused("you already asked this question", code="duplicate")
        return ev.Asked(
            at=now,
            by=by,
            question=self.next_question_id(),
            text=body,
            name=shown_name,
            language=language,
            origin=origin,
            origin_venue=origin_venue,
            approved=self.mode == "open",
        )

    def decide_vote(self, *, by: str, question_id: str, on: bool, now: float) -> ev.Voted:
        question = self.get(question_id)
        if question.state not in (State.APPROVED, State.ON_STAGE):
            raise Refused(f"cannot vote on a question that is {question.state}", code="state")
        if on and by in question.voters:
            raise Refused("you already voted for this question", code="already_voted")
        if not on and by not in question.voters:
            raise Refused("you have not voted for this question", code="not_voted")
        return ev.Voted(at=now, by=by, question=question_id, on=on)

    def decide_approve(self, *, by: str, question_id: str, now: float) -> ev.Approved:
        self._require(question_id, {State.PENDING}, "approve")
        return ev.Approved(at=now, by=by, question=question_id)

    def decide_dismiss(self, *, by: str, question_id: str, reason: str, now: float) -> ev.Dismissed:
        self._require(question_id, OPEN_STATES, "dismiss")
        why = clean_text(reason, MAX_REASON, "reason")
        return ev.Dismissed(at=now, by=by, question=question_id, reason=why)

    def decide_edit(self, *, by: str, question_id: str, text: str, now: float) -> ev.Edited:
        question = self._require(question_id, LIVE_STATES, "edit")
        body = clean_text(text, MAX_TEXT, "question")
        if body == question.text:
            raise Refused("the text did not change", code="unchanged")
        return ev.Edited(at=now, by=by, question=question_id, text=body)

    def decide_merge(self, *, by: str, question_id: str, into: str, now: float) -> ev.Merged:
        if question_id == into:
            raise Refused("a question cannot be merged into itself", code="state")
        self._require(question_id, OPEN_STATES, "merge")
        self._require(into, LIVE_STATES | {State.ANSWERED}, "merge into")
        return ev.Merged(at=now, by=by, question=question_id, into=into)

    def decide_translate(
        self, *, by: str, question_id: str, language: ev.Language, text: str, now: float
    ) -> ev.Translated:
        question = self._require(question_id, LIVE_STATES | {State.ANSWERED}, "translate")
        if language == question.language:
            raise Refused(f"the question is already in {language}", code="same_language")
        body = clean_text(text, MAX_TEXT, "translation")
        return ev.Translated(at=now, by=by, question=question_id, language=language, text=body)

    def decide_stage(self, *, by: str, question_id: str, now: float) -> ev.Staged:
        self._require(question_id, {State.APPROVED}, "put on stage")
        return ev.Staged(at=now, by=by, question=question_id)

    def decide_next(self, *, by: str, now: float) -> ev.Staged:
        queue = self.queue()
        if not queue:
            raise Refused("the queue is empty", code="empty_queue")
        return ev.Staged(at=now, by=by, question=queue[0].id)

    def decide_unstage(self, *, by: str, now: float) -> ev.Unstaged:
        if self.stage is None:
            raise Refused("no question is on stage", code="state")
        return ev.Unstaged(at=now, by=by, question=self.stage)

    def decide_answered(self, *, by: str, question_id: str, now: float) -> ev.Answered:
        self._require(question_id, {State.APPROVED, State.ON_STAGE}, "mark answered")
        return ev.Answered(at=now, by=by, question=question_id)

    def decide_prioritize(self, *, by: str, question_id: str, now: float) -> ev.Prioritized:
        self._require(question_id, {State.APPROVED}, "move to the front")
        top = max((q.rank for q in self.questions.values()), default=0)
        return ev.Prioritized(at=now, by=by, question=question_id, rank=top + 1)

    def decide_mode(self, *, by: str, mode: ev.Mode, now: float) -> ev.ModeSet:
        if mode == self.mode:
            raise Refused(f"the room is already {mode}", code="unchanged")
        return ev.ModeSet(at=now, by=by, mode=mode)

    def decide_timer(self, *, by: str, seconds: int, now: float) -> ev.TimerSet:
        if not 0 <= seconds <= MAX_TIMER:
            raise Refused(f"the countdown must be 0..{MAX_TIMER} seconds", code="range")
        return ev.TimerSet(at=now, by=by, seconds=seconds)

    def _require(
        self, question_id: str, states: set[State] | frozenset[State], what: str
    ) -> Question:
        question = self.get(question_id)
        if question.state not in states:
            raise Refused(f"cannot {what} a question that is {question.state}", code="state")
        return question

    # ------------------------------------------------------------------- fold

    def apply(self, event: ev.RoomEvent, seq: int) -> set[str]:
        """Fold ``event`` (number ``seq``) into the state; return the questions it touched."""
        if seq != self.seq + 1:
            raise ValueError(f"room {self.id}: event {seq} after {self.seq}")
        self.seq = seq
        return _apply(self, event)


def _apply(room: Room, event: ev.RoomEvent) -> set[str]:
    if isinstance(event, ev.Asked):
        room.questions[event.question] = Question(
            id=event.question,
            text=event.text,
            name=event.name,
            language=event.language,
            origin=event.origin,
            origin_venue=event.origin_venue,
            asker=event.by,
            asked_at=event.at,
            state=State.APPROVED if event.approved else State.PENDING,
            approved_at=event.at if event.approved else None,
        )
        return {event.question}
    if isinstance(event, ev.ModeSet):
        room.mode = event.mode
        return set()
    if isinstance(event, ev.TimerSet):
        room.timer_seconds = event.seconds
        room.timer_started_at = event.at if event.seconds else None
        return set()
    question = room.questions[event.question]
    if isinstance(event, ev.Voted):
        if event.on:
            question.voters.add(event.by)
        else:
            question.voters.discard(event.by)
    elif isinstance(event, ev.Approved):
        question.state, question.approved_at = State.APPROVED, event.at
    elif isinstance(event, ev.Dismissed):
        question.state, question.dismiss_reason = State.DISMISSED, event.reason
        question.closed_at = event.at
    elif isinstance(event, ev.Edited):
        question.edits.append(EditRecord(event.at, event.by, question.text, event.text))
        question.text = event.text
    elif isinstance(event, ev.Merged):
        return _merge(room, question, room.questions[event.into], event.at)
    elif isinstance(event, ev.Translated):
        question.translations[event.language] = event.text
    elif isinstance(event, ev.Staged):
        return _stage(room, question, event.at)
    elif isinstance(event, ev.Unstaged):
        question.state, question.staged_at = State.APPROVED, None
        room.stage = None
    elif isinstance(event, ev.Answered):
        question.state, question.answered_at = State.ANSWERED, event.at
        if room.stage == question.id:
            room.stage = None
    elif isinstance(event, ev.Prioritized):
        question.rank = event.rank
    elif isinstance(event, ev.Flagged):
        question.suspect = f"{event.votes} votes from one network within {event.seconds} s"
    return {question.id}


def _merge(room: Room, source: Question, target: Question, at: float) -> set[str]:
    source.state, source.merged_into, source.closed_at = State.MERGED, target.id, at
    # Votes combine as a union: an identity that voted for both still counts once.
    target.voters |= source.voters
    target.merged_from.append(source.id)
    return {source.id, target.id}


def _stage(room: Room, question: Question, at: float) -> set[str]:
    touched = {question.id}
    previous = room.stage
    if previous is not None and previous in room.questions:
        # A question taken off the stage by the next one has been answered.
        before = room.questions[previous]
        before.state, before.answered_at = State.ANSWERED, at
        touched.add(previous)
    question.state, question.staged_at = State.ON_STAGE, at
    room.stage = question.id
    return touched

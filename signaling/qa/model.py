"""A question and how it is shown: to everyone, to its asker, to moderators."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class State(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    ON_STAGE = "on_stage"
    ANSWERED = "answered"
    DISMISSED = "dismissed"
    MERGED = "merged"


# What the audience may see: the moderated, public part of the room.
PUBLIC_STATES = frozenset({State.APPROVED, State.ON_STAGE, State.ANSWERED})


@dataclass(frozen=True, slots=True)
class EditRecord:
    at: float
    by: str
    old_text: str
    new_text: str


@dataclass(slots=True)
class Question:
    id: str
    text: str
    name: str
    language: str
    origin: str
    origin_venue: str | None
    asker: str
    asked_at: float
    state: State
    voters: set[str] = field(default_factory=set)
    rank: int = 0
    dismiss_reason: str | None = None
    merged_into: str | None = None
    merged_from: list[str] = field(default_factory=list)
    edits: list[EditRecord] = field(default_factory=list)
    translations: dict[str, str] = field(default_factory=dict)
    approved_at: float | None = None
    staged_at: float | None = None
    answered_at: float | None = None
    closed_at: float | None = None  # dismissed or merged
    # Why its votes look stuffed (a burst from one address); for moderators only.
    suspect: str | None = None

    @property
    def votes(self) -> int:
        return len(self.voters)

    def visible_to(self, identity: str, moderator: bool) -> bool:
        """Whether this question may be shown to ``identity``."""
        return moderator or self.state in PUBLIC_STATES or self.asker == identity

    def public_view(self) -> dict[str, Any]:
        """What every viewer may know. Text is data: the pages insert it as text only."""
        return {
            "id": self.id,
            "text": self.text,
            "name": self.name,
            "language": self.language,
            "origin": self.origin,
            "origin_venue": self.origin_venue,
            "state": self.state.value,
            "votes": self.votes,
            "asked_at": self.asked_at,
            "translations": dict(self.translations),
            "edited": bool(self.edits),
            "merged_from": list(self.merged_from),
        }

    def asker_view(self) -> dict[str, Any]:
        """The public view plus what the asker is told: why it was dismissed, where merged."""
        view = self.public_view()
        view["mine"] = True
        view["dismiss_reason"] = self.dismiss_reason
        view["merged_into"] = self.merged_into
        return view

    def moderator_view(self) -> dict[str, Any]:
        """Everything, for the moderation console and the exports."""
        view = self.public_view()
        view.update(
            asker=self.asker,
            rank=self.rank,
            dismiss_reason=self.dismiss_reason,
            merged_into=self.merged_into,
            approved_at=self.approved_at,
            staged_at=self.staged_at,
            answered_at=self.answered_at,
            closed_at=self.closed_at,
            suspect=self.suspect is not None,
            suspect_reason=self.suspect,
            edits=[
                {"at": e.at, "by": e.by, "old_text": e.old_text, "new_text": e.new_text}
                for e in self.edits
            ],
        )
        return view

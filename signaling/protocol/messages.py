"""Client -> server messages: frozen structs in one tagged union, validated once at the edge.

Every message is ``{"type": ..., "v": 1, ...}``; ``ref`` is an optional client-chosen
correlation id echoed in the ``ack`` or ``error`` frame that answers it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

PROTOCOL_VERSION = 1
MAX_TEXT = 500
MAX_REASON = 200
MAX_NAME = 60

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]
Ref = Annotated[str, msgspec.Meta(max_length=40)]
# Lengths are checked after trimming in the Q&A core; this bound only stops abuse early.
RawText = Annotated[str, msgspec.Meta(max_length=4 * MAX_TEXT)]
Language = Literal["zh", "en"]
Origin = Literal["remote", "sub_venue", "in_room"]
# A language track's code (zh, en, ja, pt-BR); which ones an event has is checked later.
TrackLanguage = Annotated[
    str, msgspec.Meta(min_length=2, max_length=20, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
]
Mode = Literal["premoderated", "open"]


class Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type"):
    v: int = PROTOCOL_VERSION
    ref: Ref | None = None


class Join(Message, frozen=True, tag="join"):
    """Enter a session's Q&A room; ``last_event_id`` asks for what was missed since."""

    room: Id = ""
    last_event_id: Annotated[int, msgspec.Meta(ge=0)] = 0


class Leave(Message, frozen=True, tag="leave"):
    room: Id = ""


class Present(Message, frozen=True, tag="present"):
    """Say what this page is watching, for presence counts."""

    channel: Id | None = None
    venue: Id | None = None


class WatchPresence(Message, frozen=True, tag="watch_presence"):
    pass


class Talkback(Message, frozen=True, tag="talkback"):
    """A line between a venue's operators and the directors; a director names the venue."""

    venue: Id | None = None
    text: RawText = ""


class Ask(Message, frozen=True, tag="ask"):
    room: Id = ""
    text: RawText = ""
    name: Annotated[str, msgspec.Meta(max_length=4 * MAX_NAME)] = ""
    language: Language = "en"
    origin: Origin = "remote"


class Vote(Message, frozen=True, tag="vote"):
    room: Id = ""
    question: Id = ""
    on: bool = True


class Approve(Message, frozen=True, tag="approve"):
    room: Id = ""
    question: Id = ""


class Dismiss(Message, frozen=True, tag="dismiss"):
    room: Id = ""
    question: Id = ""
    reason: RawText = ""


class Edit(Message, frozen=True, tag="edit"):
    room: Id = ""
    question: Id = ""
    text: RawText = ""


class Merge(Message, frozen=True, tag="merge"):
    room: Id = ""
    question: Id = ""
    into: Id = ""


class Translate(Message, frozen=True, tag="translate"):
    room: Id = ""
    question: Id = ""
    language: Language = "en"
    text: RawText = ""


class Stage(Message, frozen=True, tag="stage"):
    """Push one question to the stage."""

    room: Id = ""
    question: Id = ""


class Next(Message, frozen=True, tag="next"):
    """Push the first question of the ordered queue to the stage."""

    room: Id = ""


class Unstage(Message, frozen=True, tag="unstage"):
    room: Id = ""


class Answered(Message, frozen=True, tag="answered"):
    room: Id = ""
    question: Id = ""


class Prioritize(Message, frozen=True, tag="prioritize"):
    """Move an approved question to the front of the queue."""

    room: Id = ""
    question: Id = ""


class SetMode(Message, frozen=True, tag="set_mode"):
    room: Id = ""
    mode: Mode = "premoderated"


class SetTimer(Message, frozen=True, tag="set_timer"):
    """Start the stage countdown; 0 clears it."""

    room: Id = ""
    seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 0


class WatchRouting(Message, frozen=True, tag="watch_routing"):
    """Receive the routing matrix now and on every change."""


class Route(Message, frozen=True, tag="route"):
    """A director's crosspoint: ``channel`` (or nothing) onto ``venue``'s output."""

    venue: Id = ""
    channel: Id | None = None


class SetAutomation(Message, frozen=True, tag="set_automation"):
    """Pause (``on: false``) or resume the schedule automation of one venue."""

    venue: Id = ""
    on: bool = True


class UseSource(Message, frozen=True, tag="use_source"):
    """A director's failover choice: which publisher of ``channel`` feeds the outputs."""

    channel: Id = ""
    source: Literal["primary", "backup"] = "primary"


class SetOutputLanguage(Message, frozen=True, tag="set_output_language"):
    """What ``venue``'s output plays: a language track, or ``null`` for the floor.

    Directors set any venue's; a venue's operator only their own."""

    venue: Id = ""
    language: TrackLanguage | None = None


# A caption language as event files spell it (zh, en, ja, ko, ru, pt-br).
CaptionLanguage = Annotated[
    str, msgspec.Meta(min_length=2, max_length=12, pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
]


class WatchCaptions(Message, frozen=True, tag="watch_captions"):
    """Receive a session's caption lines in one language (``language: null`` stops)."""

    session: Id = ""
    language: CaptionLanguage | None = None


class Caption(Message, frozen=True, tag="caption"):
    """A captioner's lines: one typed line, or several pasted at once, in order."""

    session: Id = ""
    language: CaptionLanguage = "en"
    # Bounded here against abuse only; the captions core gives the clear limits.
    lines: Annotated[list[RawText], msgspec.Meta(max_length=200)] = []


ClientMessage = (
    Join
    | Leave
    | Present
    | WatchPresence
    | Talkback
    | Ask
    | Vote
    | Approve
    | Dismiss
    | Edit
    | Merge
    | Translate
    | Stage
    | Next
    | Unstage
    | Answered
    | Prioritize
    | SetMode
    | SetTimer
    | WatchRouting
    | Route
    | SetAutomation
    | UseSource
    | SetOutputLanguage
    | WatchCaptions
    | Caption
)

# Commands a moderator of the room (or an admin) may send.
MODERATION = (
    Approve,
    Dismiss,
    Edit,
    Merge,
    Translate,
    Stage,
    Next,
    Unstage,
    Answered,
    Prioritize,
    SetMode,
    SetTimer,
)

"""Facts about a Q&A room. A room's state is the fold of its events, in order.

Events are what the store keeps and the bus carries; commands are checked against the
state first (``signaling.qa.room``), so applying an event never fails.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Language = Literal["zh", "en"]
Origin = Literal["remote", "sub_venue", "in_room"]
Mode = Literal["premoderated", "open"]


class Event(msgspec.Struct, frozen=True, tag_field="kind"):
    at: float  # unix seconds, UTC
    by: str  # identity of the actor


class Asked(Event, frozen=True, tag="asked"):
    question: str
    text: str
    name: str
    language: Language
    origin: Origin
    origin_venue: str | None
    approved: bool  # open rooms approve on arrival


class Voted(Event, frozen=True, tag="voted"):
    question: str
    on: bool


class Approved(Event, frozen=True, tag="approved"):
    question: str


class Dismissed(Event, frozen=True, tag="dismissed"):
    question: str
    reason: str


class Edited(Event, frozen=True, tag="edited"):
    question: str
    text: str


class Merged(Event, frozen=True, tag="merged"):
    question: str
    into: str


class Translated(Event, frozen=True, tag="translated"):
    question: str
    language: Language
    text: str


class Staged(Event, frozen=True, tag="staged"):
    question: str


class Unstaged(Event, frozen=True, tag="unstaged"):
    question: str


class Answered(Event, frozen=True, tag="answered"):
    question: str


class Prioritized(Event, frozen=True, tag="prioritized"):
    question: str
    rank: int


class ModeSet(Event, frozen=True, tag="mode_set"):
    mode: Mode


class TimerSet(Event, frozen=True, tag="timer_set"):
    seconds: int  # 0 clears the countdown


class Flagged(Event, frozen=True, tag="flagged"):
    """The node saw ``votes`` votes for ``question`` from one address within ``seconds``."""

    question: str
    votes: int
    seconds: int


RoomEvent = (
    Asked
    | Voted
    | Approved
    | Dismissed
    | Edited
    | Merged
    | Translated
    | Staged
    | Unstaged
    | Answered
    | Prioritized
    | ModeSet
    | TimerSet
    | Flagged
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(RoomEvent)


def dump_event(event: RoomEvent) -> str:
    """An event as JSON text, as stores keep it."""
    return _encoder.encode(event).decode()


def load_event(text: str | bytes) -> RoomEvent:
    """The inverse of ``dump_event``."""
    event: RoomEvent = _decoder.decode(text)
    return event

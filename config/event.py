"""The event model: venues, channels and the sessions of the programme.

Plain frozen data. Times are aware ``datetime``s; ``ZoneInfo`` objects carry the zones.
Loading and validation live in ``config.event_file``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


class Part(enum.Enum):
    """The eight parts of the programme of a convention like the reference event."""

    SUMMIT_FORUMS = "summit_forums"
    EXHIBITION = "exhibition"
    PROJECT_EXCHANGE = "project_exchange"
    TALENT_RECRUITMENT = "talent_recruitment"
    PROFESSIONAL_MEETINGS = "professional_meetings"
    FIELD_INVESTIGATION = "field_investigation"
    OVERSEAS_VENUES = "overseas_venues"
    ANNIVERSARY = "anniversary"

    @property
    def label(self) -> str:
        return _PART_LABELS[self]


_PART_LABELS = {
    Part.SUMMIT_FORUMS: "Summit forums",
    Part.EXHIBITION: "Exhibition",
    Part.PROJECT_EXCHANGE: "Project exchange",
    Part.TALENT_RECRUITMENT: "Talent recruitment",
    Part.PROFESSIONAL_MEETINGS: "Professional meetings",
    Part.FIELD_INVESTIGATION: "Field investigation",
    Part.OVERSEAS_VENUES: "Overseas venues",
    Part.ANNIVERSARY: "Anniversary commemoration",
}


class VenueKind(enum.Enum):
    MAIN = "main"
    SUB = "sub"


class ChannelKind(enum.Enum):
    PROGRAMME = "programme"
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    name: str
    kind: VenueKind
    time_zone: ZoneInfo
    region: str
    # The node that serves this venue's output and takes its return feed (``node.id``);
    # None: whichever node the venue's operator reaches (one node, or no steering).
    home_node: str | None = None
    # The language this venue's output plays by default (a language track of the
    # programme; the floor when that language is not live). None: the floor.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    title: str
    venue: str
    kind: ChannelKind


# Who may vote in a session's Q&A room (the event file's ``qa_votes``).
QA_VOTERS = ("anyone", "signed_in")


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    title: str
    part: Part
    start: datetime
    end: datetime
    channel: str
    venues: tuple[str, ...]
    languages: tuple[str, ...]
    qa: bool
    # "anyone" (anonymous viewers too) or "signed_in" (only people with an invite token).
    qa_votes: str = "anyone"


@dataclass(frozen=True, slots=True)
class Event:
    """A whole event, already validated: every reference resolves."""

    id: str
    name: str
    time_zone: ZoneInfo
    venues: tuple[Venue, ...]
    channels: tuple[Channel, ...]
    sessions: tuple[Session, ...]

    def venue(self, venue_id: str) -> Venue | None:
        return next((v for v in self.venues if v.id == venue_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    @property
    def main_venue(self) -> Venue:
        return next(v for v in self.venues if v.kind is VenueKind.MAIN)

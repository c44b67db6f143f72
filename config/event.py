"""The event model: venues, channels and the sessions of the programme.

Plain frozen data. Times are aware ``datetime``s; ``ZoneInfo`` objects carry the zones.
Loading and validation live in ``config.event_file``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from config.languages import primary_subtag

# The language of plain-string titles when an event file names none ([event] default_language).
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class LocalText:
    """A name or title in one or more languages.

    ``str()`` is the text in the event's default language, so code that needs one
    string (logs, CSV, the command line) keeps one meaning; pages pick with ``get``.
    """

    # (language, text) pairs; the first is the event's default language.
    texts: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not self.texts or any(not text for _, text in self.texts):
            raise ValueError("a LocalText needs a non-empty text in its default language")

    @classmethod
    def plain(cls, text: str, language: str = DEFAULT_LANGUAGE) -> LocalText:
        """One text, in ``language`` (a plain string in an event file)."""
        return cls(((language, text),))

    @classmethod
    def of(cls, default_language: str, texts: dict[str, str]) -> LocalText:
        """From a language -> text table that has ``default_language``; it comes first."""
        first = (default_language, texts[default_language])
        return cls((first, *((k, v) for k, v in texts.items() if k != default_language)))

    def __str__(self) -> str:
        return self.texts[0][1]

    @property
    def default_language(self) -> str:
        return self.texts[0][0]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(language for language, _ in self.texts)

    def get(self, language: str | None) -> str:
        """The text in ``language`` (``zh-CN`` finds ``zh``), else the default language's."""
        if language:
            for code, text in self.texts:
                if code == language:
                    return text
            wanted = primary_subtag(language)
            for code, text in self.texts:
                if primary_subtag(code) == wanted:
                    return text
        return self.texts[0][1]

    def as_dict(self) -> dict[str, str]:
        """Language -> text, the default language first (the JSON the pages read)."""
        return dict(self.texts)


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
        """The English label (exports, the command line, the schedule importer)."""
        return str(_PART_LABELS[self])

    @property
    def local_label(self) -> LocalText:
        """The label in English and Chinese, for pages."""
        return _PART_LABELS[self]


# The parts as the convention's own Chinese outline names them.
_PART_LABELS = {
    Part.SUMMIT_FORUMS: LocalText((("en", "Summit forums"), ("zh", "高峰论坛"))),
    Part.EXHIBITION: LocalText((("en", "Exhibition"), ("zh", "展览展示"))),
    Part.PROJECT_EXCHANGE: LocalText((("en", "Project exchange"), ("zh", "项目交流"))),
    Part.TALENT_RECRUITMENT: LocalText((("en", "Talent recruitment"), ("zh", "人才招聘"))),
    Part.PROFESSIONAL_MEETINGS: LocalText((("en", "Professional meetings"), ("zh", "专业会议"))),
    Part.FIELD_INVESTIGATION: LocalText((("en", "Field investigation"), ("zh", "实地考察"))),
    Part.OVERSEAS_VENUES: LocalText((("en", "Overseas venues"), ("zh", "海外分会场"))),
    Part.ANNIVERSARY: LocalText((("en", "Anniversary commemoration"), ("zh", "20周年纪念活动"))),
}


def _as_local(item: object, field: str) -> None:
    """Lets a plain string stand for a one-language ``LocalText`` (tests, ``replace()``)."""
    value = getattr(item, field)
    if isinstance(value, str):
        object.__setattr__(item, field, LocalText.plain(value))


class VenueKind(enum.Enum):
    MAIN = "main"
    SUB = "sub"


class ChannelKind(enum.Enum):
    PROGRAMME = "programme"
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    name: LocalText
    kind: VenueKind
    time_zone: ZoneInfo
    region: str
    # The node that serves this venue's output and takes its return feed (``node.id``);
    # None: whichever node the venue's operator reaches (one node, or no steering).
    home_node: str | None = None
    # The language this venue's output plays by default (a language track of the
    # programme; the floor when that language is not live). None: the floor.
    language: str | None = None

    def __post_init__(self) -> None:
        _as_local(self, "name")


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    title: LocalText
    venue: str
    kind: ChannelKind

    def __post_init__(self) -> None:
        _as_local(self, "title")


# Who may vote in a session's Q&A room (the event file's ``qa_votes``).
QA_VOTERS = ("anyone", "signed_in")


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    title: LocalText
    part: Part
    start: datetime
    end: datetime
    channel: str
    venues: tuple[str, ...]
    languages: tuple[str, ...]
    qa: bool
    # "anyone" (anonymous viewers too) or "signed_in" (only people with an invite token).
    qa_votes: str = "anyone"

    def __post_init__(self) -> None:
        _as_local(self, "title")


@dataclass(frozen=True, slots=True)
class Event:
    """A whole event, already validated: every reference resolves."""

    id: str
    name: LocalText
    time_zone: ZoneInfo
    venues: tuple[Venue, ...]
    channels: tuple[Channel, ...]
    sessions: tuple[Session, ...]
    # The language of plain-string titles, and the fallback for a language a title lacks.
    default_language: str = DEFAULT_LANGUAGE

    def __post_init__(self) -> None:
        _as_local(self, "name")

    def venue(self, venue_id: str) -> Venue | None:
        return next((v for v in self.venues if v.id == venue_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    @property
    def main_venue(self) -> Venue:
        return next(v for v in self.venues if v.kind is VenueKind.MAIN)

"""Reading an event file (TOML) into a validated ``Event``.

Every problem is collected, not just the first, and each names the file, the key
(``sessions[3].channel``) and the reason, so a whole file can be fixed in one pass.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.event import (
    DEFAULT_LANGUAGE,
    QA_VOTERS,
    Channel,
    ChannelKind,
    Event,
    LocalText,
    Part,
    Session,
    Venue,
    VenueKind,
)
from config.event_text import local_text
from config.languages import language_code as _language
from config.languages import language_codes as _languages
from config.setting_sections import NODE_ID, NODE_ID_RULE

REFERENCE_EVENT = "coet2018.toml"

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TOP_KEYS = {"event", "venues", "channels", "sessions"}
_EVENT_KEYS = {"id", "name", "time_zone", "default_language"}
_VENUE_KEYS = {"id", "name", "kind", "time_zone", "region", "home_node", "language"}
_CHANNEL_KEYS = {"id", "title", "venue", "kind"}
_SESSION_KEYS = {
    "id",
    "title",
    "part",
    "start",
    "end",
    "channel",
    "venues",
    "languages",
    "qa",
    "qa_votes",
}

_NO_VENUES: tuple[str, ...] = ()
_DEFAULT_LANGUAGES: tuple[str, ...] = ("zh", "en")

T = TypeVar("T")
# Reads a name or title (a string, or a table of language = text) into a LocalText.
_Text = Callable[[object], LocalText]


class EventFileError(ValueError):
    """An event file is unreadable or invalid; ``problems`` lists every finding."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {source}: {problem}" for problem in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the event file\n{lines}")


class _Reader:
    """Collects problems while reading one table at a time."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, key: str, reason: str) -> None:
        self.problems.append(f"{key}: {reason}")

    def table(self, value: object, key: str, allowed: set[str]) -> Mapping[str, object]:
        if not isinstance(value, dict):
            self.fail(key, "expected a table")
            return {}
        for name in sorted(set(value) - allowed):
            self.fail(f"{key}.{name}", "unknown key")
        return value

    def tables(self, root: Mapping[str, object], key: str) -> list[object]:
        value = root.get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"expected an array of tables ([[{key}]])")
            return []
        return value

    def get(
        self,
        table: Mapping[str, object],
        key: str,
        name: str,
        parse: Callable[[object], T],
        default: T | None = None,
    ) -> T | None:
        if name not in table:
            if default is None:
                self.fail(f"{key}.{name}", "is required")
            return default
        try:
            return parse(table[name])
        except ValueError as error:
            self.fail(f"{key}.{name}", str(error))
            return None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _identifier(value: object) -> str:
    text = _text(value)
    if not _ID.match(text):
        raise ValueError(f"'{text}' is not a valid id (lower-case letters, digits, - and _)")
    return text


def _node_id(value: object) -> str:
    text = _text(value)
    if not NODE_ID.fullmatch(text):
        raise ValueError(f"'{text}' is not a node id: {NODE_ID_RULE}")
    return text


def _zone(value: object) -> ZoneInfo:
    text = _text(value)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{text}' (use an IANA name like Asia/Tokyo)") from None


def _enum(kind: type[Any]) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        text = _text(value)
        try:
            return kind(text)
        except ValueError:
            choices = ", ".join(member.value for member in kind)
            raise ValueError(f"'{text}' is not one of {choices}") from None

    return parse


def _ids(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expected a list of ids")
    return tuple(_identifier(item) for item in value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _qa_votes(value: object) -> str:
    if value not in QA_VOTERS:
        raise ValueError(f"expected one of {', '.join(QA_VOTERS)}")
    return str(value)


def _moment(zone: ZoneInfo) -> Callable[[object], datetime]:
    """TOML date-times; a local one (no offset) is read in the event's time zone."""

    def parse(value: object) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"'{value}' is not an ISO 8601 date-time") from None
        if isinstance(value, (date, time)) and not isinstance(value, datetime):
            raise ValueError("expected a date and a time, like 2018-12-21T09:00:00")
        if not isinstance(value, datetime):
            raise ValueError("expected a date-time, like 2018-12-21T09:00:00")
        return value.replace(tzinfo=zone) if value.tzinfo is None else value

    return parse


def parse_event(root: Mapping[str, object], source: str) -> Event:
    """Validate a decoded event table; raise ``EventFileError`` listing every problem."""
    reader = _Reader()
    for name in sorted(set(root) - _TOP_KEYS):
        reader.fail(name, "unknown key")
    head = reader.table(root.get("event", {}), "event", _EVENT_KEYS)
    event_id = reader.get(head, "event", "id", _identifier)
    language = reader.get(head, "event", "default_language", _language, DEFAULT_LANGUAGE)
    text = local_text(language or DEFAULT_LANGUAGE)
    event_name = reader.get(head, "event", "name", text)
    event_zone = reader.get(head, "event", "time_zone", _zone)
    zone = event_zone or ZoneInfo("UTC")

    # Ids that parsed count as known even when the rest of their table is broken,
    # so one bad venue does not also report every reference to it.
    venues = _read_venues(reader, root, text)
    venue_ids = _declared_ids(root, "venues")
    channels = _read_channels(reader, root, venue_ids, text)
    sessions = _read_sessions(
        reader, root, (zone, text), venue_ids, channels, _declared_ids(root, "channels")
    )

    mains = [v for v in venues if v.kind is VenueKind.MAIN]
    if len(mains) != 1:
        reader.fail("venues", f"exactly one venue must have kind = 'main' (found {len(mains)})")
    if reader.problems or event_id is None or event_name is None or event_zone is None:
        raise EventFileError(source, reader.problems)
    return Event(
        id=event_id,
        name=event_name,
        time_zone=event_zone,
        venues=tuple(venues),
        channels=tuple(channels.values()),
        sessions=tuple(sorted(sessions, key=lambda s: (s.start, s.channel, s.id))),
        default_language=language or DEFAULT_LANGUAGE,
    )


def _declared_ids(root: Mapping[str, object], key: str) -> set[str]:
    tables = root.get(key)
    if not isinstance(tables, list):
        return set()
    return {t["id"] for t in tables if isinstance(t, dict) and isinstance(t.get("id"), str)}


def _unique(reader: _Reader, key: str, seen: set[str], item_id: str) -> bool:
    if item_id in seen:
        reader.fail(f"{key}.id", f"duplicate id '{item_id}'")
        return False
    seen.add(item_id)
    return True


def _read_venues(reader: _Reader, root: Mapping[str, object], text: _Text) -> list[Venue]:
    venues: list[Venue] = []
    seen: set[str] = set()
    for index, raw in enumerate(reader.tables(root, "venues")):
        key = f"venues[{index}]"
        table = reader.table(raw, key, _VENUE_KEYS)
        venue_id = reader.get(table, key, "id", _identifier)
        name = reader.get(table, key, "name", text)
        kind = reader.get(table, key, "kind", _enum(VenueKind))
        zone = reader.get(table, key, "time_zone", _zone)
        region = reader.get(table, key, "region", _text, default="")
        home = reader.get(table, key, "home_node", _node_id) if "home_node" in table else None
        language = reader.get(table, key, "language", _language) if "language" in table else None
        if venue_id is None or name is None or kind is None or zone is None or region is None:
            continue
        if _unique(reader, key, seen, venue_id):
            venues.append(Venue(venue_id, name, kind, zone, region, home, language))
    if not venues and not reader.problems:
        reader.fail("venues", "at least one venue is required")
    return venues


def _read_channels(
    reader: _Reader, root: Mapping[str, object], venue_ids: set[str], text: _Text
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    seen: set[str] = set()
    for index, raw in enumerate(reader.tables(root, "channels")):
        key = f"channels[{index}]"
        table = reader.table(raw, key, _CHANNEL_KEYS)
        channel_id = reader.get(table, key, "id", _identifier)
        title = reader.get(table, key, "title", text)
        venue = reader.get(table, key, "venue", _identifier)
        kind = reader.get(table, key, "kind", _enum(ChannelKind))
        if venue is not None and venue not in venue_ids:
            reader.fail(f"{key}.venue", f"unknown venue '{venue}'")
            continue
        if channel_id is None or title is None or venue is None or kind is None:
            continue
        if _unique(reader, key, seen, channel_id):
            channels[channel_id] = Channel(channel_id, title, venue, kind)
    return channels


def _read_sessions(
    reader: _Reader,
    root: Mapping[str, object],
    readers: tuple[ZoneInfo, _Text],
    venue_ids: set[str],
    channels: Mapping[str, Channel],
    channel_ids: set[str],
) -> list[Session]:
    sessions: list[Session] = []
    seen: set[str] = set()
    zone, text = readers
    for index, raw in enumerate(reader.tables(root, "sessions")):
        key = f"sessions[{index}]"
        table = reader.table(raw, key, _SESSION_KEYS)
        session_id = reader.get(table, key, "id", _identifier)
        title = reader.get(table, key, "title", text)
        part = reader.get(table, key, "part", _enum(Part))
        start = reader.get(table, key, "start", _moment(zone))
        end = reader.get(table, key, "end", _moment(zone))
        channel = reader.get(table, key, "channel", _identifier)
        targets = reader.get(table, key, "venues", _ids, default=_NO_VENUES)
        languages = reader.get(table, key, "languages", _languages, default=_DEFAULT_LANGUAGES)
        qa = reader.get(table, key, "qa", _flag, default=True)
        qa_votes = reader.get(table, key, "qa_votes", _qa_votes, default="anyone")
        valid = True
        if channel is not None and channel not in channels:
            if channel not in channel_ids:
                reader.fail(f"{key}.channel", f"unknown channel '{channel}'")
            valid = False
        for target in targets or ():
            if target not in venue_ids:
                reader.fail(f"{key}.venues", f"unknown venue '{target}'")
                valid = False
        if start is not None and end is not None and end <= start:
            reader.fail(f"{key}.end", f"ends at {end.isoformat()}, not after its start")
            valid = False
        if (
            not valid
            or session_id is None
            or title is None
            or part is None
            or start is None
            or end is None
            or channel is None
            or targets is None
            or languages is None
            or qa is None
            or qa_votes is None
        ):
            continue
        if _unique(reader, key, seen, session_id):
            sessions.append(
                Session(
                    session_id, title, part, start, end, channel, targets, languages, qa, qa_votes
                )
            )
    _check_overlaps(reader, sessions)
    return sessions


def _check_overlaps(reader: _Reader, sessions: list[Session]) -> None:
    by_channel: dict[str, list[Session]] = {}
    for session in sessions:
        by_channel.setdefault(session.channel, []).append(session)
    for channel, items in by_channel.items():
        items.sort(key=lambda s: s.start)
        for before, after in itertools.pairwise(items):
            if after.start < before.end:
                reader.fail(
                    f"sessions '{after.id}'",
                    f"overlaps '{before.id}' on channel '{channel}' "
                    f"({after.start.isoformat()} < {before.end.isoformat()})",
                )
    # A venue output carries one channel at a time, so a venue cannot receive two
    # sessions at once: the schedule automation would not know which to route.
    by_venue: dict[str, list[Session]] = {}
    for session in sessions:
        for venue in session.venues:
            by_venue.setdefault(venue, []).append(session)
    for venue, items in by_venue.items():
        items.sort(key=lambda s: s.start)
        for before, after in itertools.pairwise(items):
            if after.start < before.end:
                reader.fail(
                    f"sessions '{after.id}'.venues",
                    f"venue '{venue}' already receives '{before.id}' then; "
                    "a venue output carries one session at a time",
                )


def load_event(path: Path | None = None) -> Event:
    """Load and validate an event file; ``None`` loads the shipped reference event."""
    if path is None:
        resource = resources.files("config").joinpath("events", REFERENCE_EVENT)
        source = f"<reference event {REFERENCE_EVENT}>"
        data = resource.read_bytes()
    else:
        source = str(path)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise EventFileError(source, [f"cannot read the file: {error.strerror}"]) from None
    try:
        root = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise EventFileError(source, ["the file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as error:
        raise EventFileError(source, [f"not valid TOML: {error}"]) from None
    return parse_event(root, source)

"""Turning a pretalx / frab schedule export (``schedule.json``) into our event file.

Rooms become programme channels of one main venue, talks become sessions. The result
is checked with the same validator as any event file before it is written, so a bad
export is refused with a message naming the talk and the reason, never half-converted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from config.event import Event, Part
from config.event_file import parse_event


class ScheduleImportError(ValueError):
    """The export cannot be turned into an event file; ``problems`` says why."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {source}: {problem}" for problem in problems)
        super().__init__(f"{source}: cannot import the schedule\n{lines}")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the export does not say: the venue it happens at and how tracks map to parts."""

    venue_id: str = "main"
    venue_name: str = "Main venue"
    time_zone: str | None = None  # used when the export names none
    default_part: Part = Part.PROFESSIONAL_MEETINGS
    track_parts: Mapping[str, Part] = field(default_factory=dict)


def slug(text: str, fallback: str) -> str:
    """A lower-case id made of letters, digits and dashes (ASCII only), or ``fallback``."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:63].strip("-") or fallback


def _duration(text: object) -> timedelta:
    if not isinstance(text, str) or not re.fullmatch(r"\d{1,3}:\d{2}(:\d{2})?", text.strip()):
        raise ValueError(f"duration {text!r} is not HH:MM")
    parts = [int(p) for p in text.strip().split(":")]
    hours, minutes, seconds = [*parts, 0][:3]
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _moment(talk: Mapping[str, Any], day: str, zone: ZoneInfo) -> datetime:
    """The talk's start: its full ``date`` if present, else the day plus ``start``."""
    raw = talk.get("date")
    if isinstance(raw, str) and raw.strip():
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(f"date {raw!r} is not an ISO 8601 date-time") from None
    else:
        start = talk.get("start")
        if not isinstance(start, str) or not re.fullmatch(r"\d{1,2}:\d{2}", start.strip()):
            raise ValueError(f"start {start!r} is not HH:MM")
        moment = datetime.fromisoformat(f"{day}T{start.strip():0>5}:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _part_for(track: object, options: ImportOptions) -> Part:
    if isinstance(track, str) and track.strip():
        name = track.strip()
        if name in options.track_parts:
            return options.track_parts[name]
        for part in Part:
            if slug(name, "") in (part.value.replace("_", "-"), slug(part.label, "")):
                return part
    return options.default_part


class _Converter:
    def __init__(self, options: ImportOptions, prefix: str) -> None:
        self.options = options
        self.prefix = prefix
        self.problems: list[str] = []
        self.channels: dict[str, str] = {}  # room name -> channel id
        self.sessions: list[dict[str, Any]] = []
        self.session_ids: set[str] = set()

    def channel_for(self, room: str) -> str:
        if room not in self.channels:
            base = slug(room, f"room-{len(self.channels) + 1}")
            channel_id, n = base, 2
            while channel_id in self.channels.values():
                channel_id, n = f"{base}-{n}", n + 1
            self.channels[room] = channel_id
        return self.channels[room]

    def session_id(self, talk: Mapping[str, Any], key: str, prefix: str) -> str:
        raw = talk.get("slug") or talk.get("code") or talk.get("id") or key
        # pretalx slugs start with the event's acronym; inside one event that is noise.
        base = slug(str(raw), slug(key, "talk")).removeprefix(prefix) or slug(key, "talk")
        session_id, n = base, 2
        while session_id in self.session_ids:
            session_id, n = f"{base}-{n}", n + 1
        self.session_ids.add(session_id)
        return session_id

    def talk(self, talk: object, key: str, day: str, room: str, zone: ZoneInfo) -> None:
        if not isinstance(talk, dict):
            self.problems.append(f"{key}: expected a talk object")
            return
        title = talk.get("title")
        if not isinstance(title, str) or not title.strip():
            self.problems.append(f"{key}.title: a talk needs a title")
            return
        try:
            start = _moment(talk, day, zone)
            end = start + _duration(talk.get("duration"))
        except ValueError as error:
            self.problems.append(f"{key} ({title.strip()!r}): {error}")
            return
        if end <= start:
            self.problems.append(f"{key} ({title.strip()!r}): duration must be positive")
            return
        language = talk.get("language")
        languages = [language.strip().lower()] if isinstance(language, str) and language else []
        self.sessions.append(
            {
                "id": self.session_id(talk, key, self.prefix),
                "title": title.strip(),
                "part": _part_for(talk.get("track"), self.options).value,
                "start": start,
                "end": end,
                "channel": self.channel_for(room),
                "languages": languages or ["en"],
                "qa": True,
            }
        )


def _zone(conference: Mapping[str, Any], options: ImportOptions) -> ZoneInfo:
    name = conference.get("time_zone_name") or options.time_zone
    if not isinstance(name, str) or not name:
        raise ValueError("the export names no time zone (conference.time_zone_name); pass one")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def convert(export: object, options: ImportOptions, source: str = "<schedule>") -> dict[str, Any]:
    """The event-file table for a decoded export; raises ``ScheduleImportError``."""
    schedule = export.get("schedule") if isinstance(export, dict) else None
    conference = schedule.get("conference") if isinstance(schedule, dict) else None
    if not isinstance(conference, dict):
        raise ScheduleImportError(
            source, ["no schedule.conference object: not a pretalx/frab export"]
        )
    days = conference.get("days")
    if not isinstance(days, list) or not days:
        raise ScheduleImportError(source, ["schedule.conference.days is missing or empty"])
    try:
        zone = _zone(conference, options)
    except ValueError as error:
        raise ScheduleImportError(source, [str(error)]) from None
    title = conference.get("title")
    event_id = slug(str(conference.get("acronym") or title or ""), "imported")
    converter = _Converter(options, prefix=f"{event_id}-")
    for room in conference.get("rooms") or []:
        if isinstance(room, dict) and isinstance(room.get("name"), str):
            converter.channel_for(room["name"])
    for index, day in enumerate(days):
        key = f"days[{index}]"
        if not isinstance(day, dict) or not isinstance(day.get("rooms"), dict):
            converter.problems.append(f"{key}: expected a day with a rooms object")
            continue
        day_date = day.get("date")
        try:
            date.fromisoformat(str(day_date))
        except ValueError:
            converter.problems.append(f"{key}.date: {day_date!r} is not a date")
            continue
        for room, talks in day["rooms"].items():
            if not isinstance(talks, list):
                converter.problems.append(f"{key}.rooms[{room!r}]: expected a list of talks")
                continue
            for number, talk in enumerate(talks):
                converter.talk(talk, f"{key}.rooms[{room!r}][{number}]", str(day_date), room, zone)
    if converter.problems:
        raise ScheduleImportError(source, converter.problems)
    return {
        "event": {
            "id": event_id,
            "name": title.strip() if isinstance(title, str) and title.strip() else "Imported event",
            "time_zone": zone.key,
        },
        "venues": [
            {
                "id": options.venue_id,
                "name": options.venue_name,
                "kind": "main",
                "time_zone": zone.key,
            }
        ],
        "channels": [
            {"id": channel_id, "title": room, "venue": options.venue_id, "kind": "programme"}
            for room, channel_id in converter.channels.items()
        ],
        "sessions": converter.sessions,
    }


def import_schedule(text: str, options: ImportOptions, source: str) -> tuple[str, Event]:
    """Convert export text to event-file TOML, validated; returns the TOML and the event."""
    try:
        export = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScheduleImportError(source, [f"not valid JSON: {error}"]) from None
    table = convert(export, options, source)
    event = parse_event(table, source)  # the same checks as a hand-written file
    header = (
        f"# Imported from {source} by venuebridge import-schedule.\n"
        "# Add sub-venues, return channels and target venues by hand.\n\n"
    )
    return header + tomli_w.dumps(table), event

"""Questions asked of an event's schedule: what a venue sees, by day and hall, in which zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from config.event import Channel, Event, Session


def sessions_for_venue(event: Event, venue_id: str) -> list[Session]:
    """Sessions a venue takes part in: sent to it, or carried on one of its own channels."""
    own = {c.id for c in event.channels if c.venue == venue_id}
    return [s for s in event.sessions if venue_id in s.venues or s.channel in own]


@dataclass(frozen=True, slots=True)
class HallDay:
    """One channel's sessions on one day."""

    channel: Channel
    sessions: tuple[Session, ...]


@dataclass(frozen=True, slots=True)
class ScheduleDay:
    day: date
    halls: tuple[HallDay, ...]


def by_day_and_hall(event: Event, sessions: Iterable[Session], zone: ZoneInfo) -> list[ScheduleDay]:
    """Group sessions by their start day in ``zone``, then by channel in event order."""
    order = {c.id: index for index, c in enumerate(event.channels)}
    days: dict[date, dict[str, list[Session]]] = {}
    for session in sorted(sessions, key=lambda s: s.start):
        day = session.start.astimezone(zone).date()
        days.setdefault(day, {}).setdefault(session.channel, []).append(session)
    result = []
    for day in sorted(days):
        halls = []
        for channel_id in sorted(days[day], key=lambda c: order.get(c, len(order))):
            channel = event.channel(channel_id)
            if channel is not None:
                halls.append(HallDay(channel, tuple(days[day][channel_id])))
        result.append(ScheduleDay(day, tuple(halls)))
    return result


def local_time(moment: datetime, zone: ZoneInfo, day: date | None = None) -> str:
    """``HH:MM`` in ``zone``, with the date in front when it is not ``day``."""
    local = moment.astimezone(zone)
    text = local.strftime("%H:%M")
    if day is not None and local.date() != day:
        text = f"{local.strftime('%a %d %b')} {text}"
    return text


def zone_label(moment: datetime, zone: ZoneInfo) -> str:
    """The zone's name and its UTC offset at ``moment``, e.g. ``Asia/Tokyo (UTC+09:00)``."""
    offset = moment.astimezone(zone).strftime("%z")
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"

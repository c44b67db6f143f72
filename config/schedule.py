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


@dataclass(frozen=True, slots=True)
class ChannelNow:
    """The session a channel's viewers see at a moment, and when that may change."""

    session: Session | None
    state: str  # "on_air", "next" (later that day), "last" (most recent), "upcoming" or "none"
    recheck_at: datetime | None  # the next moment the choice can change; None: never


def _midnight_before(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), datetime.min.time(), zone)


def session_on_channel(event: Event, channel_id: str, at: datetime) -> ChannelNow:
    """What ``/watch/{channel}`` shows at ``at``: the session on air, else the next one
    that day (the hall's zone), else the most recent, else the first still to come."""
    channel = event.channel(channel_id)
    venue = event.venue(channel.venue) if channel else None
    zone = venue.time_zone if venue else event.time_zone
    sessions = sorted((s for s in event.sessions if s.channel == channel_id), key=lambda s: s.start)
    today = at.astimezone(zone).date()
    # The choice changes only at a start, an end, or midnight before a session's day.
    moments = {m for s in sessions for m in (s.start, s.end, _midnight_before(s.start, zone))}
    recheck_at = min((m for m in moments if m > at), default=None)
    on_air = [s for s in sessions if s.start <= at < s.end]
    later = [s for s in sessions if s.start > at]
    over = sorted((s for s in sessions if s.end <= at), key=lambda s: s.end)
    if on_air:
        return ChannelNow(on_air[0], "on_air", recheck_at)
    if later and later[0].start.astimezone(zone).date() == today:
        return ChannelNow(later[0], "next", recheck_at)
    if over:
        return ChannelNow(over[-1], "last", recheck_at)
    if later:
        return ChannelNow(later[0], "upcoming", recheck_at)
    return ChannelNow(None, "none", None)

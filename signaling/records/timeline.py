"""Geometry of the per-venue timeline on /records: scheduled and actual bars. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config.event import Event
from signaling.records.airing import Airing

WIDTH = 1000.0  # SVG user units for the time axis


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class TimelineRow:
    label: str
    status: str
    scheduled: Bar
    actual: Bar | None
    title: str  # tooltip text
    off_air: tuple[Bar, ...] = ()  # stretches the venue saw the slate or nothing


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    venue: str
    rows: tuple[TimelineRow, ...]
    ticks: tuple[Tick, ...]


def _bar(start: datetime, end: datetime, origin: datetime, span: float) -> Bar:
    x = (start - origin).total_seconds() / span * WIDTH
    width = max((end - start).total_seconds() / span * WIDTH, 1.5)
    return Bar(round(x, 2), round(width, 2))


def venue_timeline(event: Event, venue_id: str, airings: list[Airing], now: datetime) -> Timeline:
    """Rows for a venue's airings on one axis spanning all of them, with readable ticks."""
    venue = event.venue(venue_id)
    if venue is None:
        raise KeyError(venue_id)
    mine = sorted((a for a in airings if a.venue == venue_id), key=lambda a: a.scheduled_start)
    if not mine:
        return Timeline(venue_id, (), ())
    moments = [a.scheduled_start for a in mine] + [a.scheduled_end for a in mine]
    moments += [m for a in mine for m in (a.actual_start, a.actual_end) if m is not None]
    zone = venue.time_zone
    first, last = min(moments).astimezone(zone), max(moments).astimezone(zone)
    step = _tick_step(last - first)
    origin = _floor(first, step)
    end = _floor(last, step) + step
    span = (end - origin).total_seconds()
    rows = []
    for airing in mine:
        session = event.session(airing.session)
        actual = None
        if airing.actual_start is not None:
            actual = _bar(airing.actual_start, airing.actual_end or now, origin, span)
        off_air = tuple(_bar(i.start, i.end or now, origin, span) for i in airing.off_air)
        title = str(session.title) if session else "Unscheduled" if airing.unscheduled else ""
        title = title or airing.session
        rows.append(
            TimelineRow(
                label=title,
                status=airing.status.value,
                scheduled=_bar(airing.scheduled_start, airing.scheduled_end, origin, span),
                actual=actual,
                title=f"{title} · {airing.status.value.replace('_', ' ')}"
                + (f" · {airing.seconds_off_air(now):.0f} s off air" if airing.off_air else ""),
                off_air=off_air,
            )
        )
    ticks = []
    moment = origin
    label = "%a %H:%M" if step >= timedelta(minutes=1) else "%H:%M:%S"
    while moment <= end:
        x = (moment - origin).total_seconds() / span * WIDTH
        ticks.append(Tick(round(x, 2), moment.strftime(label)))
        moment += step
    return Timeline(venue_id, tuple(rows), tuple(ticks))


_STEPS = [timedelta(seconds=s) for s in (10, 60, 300, 900, 3600, 3 * 3600, 6 * 3600)]


def _tick_step(span: timedelta) -> timedelta:
    """The smallest step that puts at most 12 ticks on the axis."""
    return next((step for step in _STEPS if span / step <= 12), _STEPS[-1])


def _floor(moment: datetime, step: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = (moment - midnight) // step
    return midnight + steps * step

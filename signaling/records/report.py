"""Reports from as-run records: rows for export, totals, a terminal table. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config.csv_export import csv_text
from config.event import Event
from signaling.records.airing import Airing, Status

CSV_COLUMNS = (
    "airing",
    "session",
    "title",
    "part",
    "venue",
    "venue_time_zone",
    "channel",
    "status",
    "scheduled_start_utc",
    "scheduled_end_utc",
    "actual_start_utc",
    "actual_end_utc",
    "scheduled_start_local",
    "scheduled_end_local",
    "actual_start_local",
    "actual_end_local",
    "start_delta_seconds",
    "end_delta_seconds",
    "routed_by",
    "node",
    "language",
    "language_changes",
    "rehearsal",
    "peak_venue_viewers",
    "peak_channel_viewers",
    "reconnects",
    "longest_source_loss_seconds",
    "off_air_seconds",
    "off_air",
    "unscheduled",
    "questions_asked",
    "questions_answered",
    "note",
    # Filled by the web layer from the recording index (web/recording_links.py).
    "player_url",
    "recorded_seconds",
    "recordings",
)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


def _local(moment: datetime | None, event: Event, venue_id: str) -> str:
    venue = event.venue(venue_id)
    if moment is None or venue is None:
        return ""
    return moment.astimezone(venue.time_zone).isoformat()


def _delta(actual: datetime | None, scheduled: datetime) -> float | None:
    return round((actual - scheduled).total_seconds(), 3) if actual else None


def airing_title(event: Event, airing: Airing) -> str:
    """The session's title, or for an unscheduled airing what it carried."""
    session = event.session(airing.session)
    if session is not None:
        return str(session.title)  # records speak the event's default language
    if airing.unscheduled:
        channel = event.channel(airing.channel or "")
        return f"Unscheduled: {channel.title if channel else airing.channel or 'nothing'}"
    return airing.session


def off_air_text(airing: Airing) -> str:
    """The off-air intervals in one cell: ``cause start/end; ...`` (UTC, end empty if open)."""
    return "; ".join(
        f"{interval.cause} {_utc(interval.start)}/{_utc(interval.end)}"
        for interval in airing.off_air
    )


def off_air_json(airing: Airing) -> list[dict[str, Any]]:
    return [
        {
            "cause": interval.cause,
            "start_utc": _utc(interval.start),
            "end_utc": _utc(interval.end) or None,
            "seconds": round(interval.seconds(), 3) if interval.end else None,
        }
        for interval in airing.off_air
    ]


def languages_text(airing: Airing) -> str:
    """Every language change after the start, as ``HH:MM:SSZ ko; HH:MM:SSZ floor``."""
    return "; ".join(
        f"{_utc(change.at)} {change.language or 'floor'}" for change in airing.languages[1:]
    )


def languages_json(airing: Airing) -> list[dict[str, Any]]:
    """The start language and every change: ``{"at_utc", "language"}`` (None: the floor)."""
    return [{"at_utc": _utc(c.at), "language": c.language} for c in airing.languages]


def airing_row(event: Event, airing: Airing) -> dict[str, Any]:
    """One airing as an export row: UTC and venue-local times, deltas, counters."""
    session = event.session(airing.session)
    venue = event.venue(airing.venue)
    # An unscheduled airing has no schedule to compare with: those cells stay empty.
    scheduled = not airing.unscheduled
    return {
        "airing": airing.id,
        "session": airing.session,
        "title": airing_title(event, airing),
        "part": session.part.value if session else "",
        "venue": airing.venue,
        "venue_time_zone": venue.time_zone.key if venue else "",
        "channel": airing.channel or "",
        "status": airing.status.value,
        "scheduled_start_utc": _utc(airing.scheduled_start) if scheduled else "",
        "scheduled_end_utc": _utc(airing.scheduled_end) if scheduled else "",
        "actual_start_utc": _utc(airing.actual_start),
        "actual_end_utc": _utc(airing.actual_end),
        "scheduled_start_local": _local(airing.scheduled_start, event, airing.venue)
        if scheduled
        else "",
        "scheduled_end_local": _local(airing.scheduled_end, event, airing.venue)
        if scheduled
        else "",
        "actual_start_local": _local(airing.actual_start, event, airing.venue),
        "actual_end_local": _local(airing.actual_end, event, airing.venue),
        "start_delta_seconds": _delta(airing.actual_start, airing.scheduled_start)
        if scheduled
        else None,
        "end_delta_seconds": _delta(airing.actual_end, airing.scheduled_end) if scheduled else None,
        "routed_by": airing.routed_by,
        # The node whose output aired it ("" before nodes were named, or never on air).
        "node": airing.node,
        # The output's language track at the start (empty: the floor), then each change.
        "language": airing.language or "",
        "language_changes": languages_text(airing),
        "rehearsal": airing.rehearsal,
        "peak_venue_viewers": airing.peak_venue_viewers,
        "peak_channel_viewers": airing.peak_channel_viewers,
        "reconnects": airing.reconnects,
        "longest_source_loss_seconds": airing.longest_source_loss,
        "off_air_seconds": airing.seconds_off_air(),
        "off_air": off_air_text(airing),
        "unscheduled": airing.unscheduled,
        "questions_asked": airing.questions_asked,
        "questions_answered": airing.questions_answered,
        "note": airing.note,
    }


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV (the shared writer: formula-like text is neutralised)."""
    return csv_text(CSV_COLUMNS, rows)


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts of airings by status, minutes actually on air, seconds off air within them."""

    by_status: dict[str, int]
    minutes_on_air: float
    seconds_off_air: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def _totals(airings: Iterable[Airing]) -> Totals:
    counts: Counter[str] = Counter()
    minutes = 0.0
    off_air = 0.0
    for airing in airings:
        counts[airing.status.value] += 1
        off_air += airing.seconds_off_air()
        if airing.actual_start and airing.actual_end:
            minutes += (airing.actual_end - airing.actual_start).total_seconds() / 60
    by_status = {s.value: counts.get(s.value, 0) for s in Status}
    return Totals(by_status, round(minutes, 1), round(off_air, 1))


def totals_by_venue(event: Event, airings: list[Airing]) -> dict[str, Totals]:
    return {v.id: _totals(a for a in airings if a.venue == v.id) for v in event.venues}


def totals_by_part(event: Event, airings: list[Airing]) -> dict[str, Totals]:
    part_of = {s.id: s.part.value for s in event.sessions}
    part_of[""] = "unscheduled"
    parts = sorted({part_of.get(a.session, "") for a in airings})
    return {p: _totals(a for a in airings if part_of.get(a.session, "") == p) for p in parts}


def terminal_report(event: Event, airings: list[Airing]) -> str:
    """A per-venue table for ``venuebridge report``: times in each venue's own zone."""
    lines = [f"As-run report: {event.name}", ""]
    for venue in event.venues:
        mine = [a for a in airings if a.venue == venue.id]
        lines.append(f"{venue.name} ({venue.time_zone.key}): {len(mine)} airing(s)")
        if not mine:
            lines.append("  (nothing recorded)")
        for airing in mine:
            zone = venue.time_zone
            planned = (
                f"{airing.scheduled_start.astimezone(zone):%m-%d %H:%M}"
                f"-{airing.scheduled_end.astimezone(zone):%H:%M}"
            )
            if airing.unscheduled:
                planned = "unscheduled"
            actual = "—"
            if airing.actual_start:
                end = f"{airing.actual_end.astimezone(zone):%H:%M:%S}" if airing.actual_end else "…"
                actual = f"{airing.actual_start.astimezone(zone):%H:%M:%S}-{end}"
            flag = " [rehearsal]" if airing.rehearsal else ""
            flag += f" [node {airing.node}]" if airing.node else ""
            title = airing_title(event, airing)
            lines.append(
                f"  {planned:<17} {actual:<19} {airing.status.value:<9} "
                f"{airing.routed_by or '-':<14} {title[:60]}{flag}"
            )
            for interval in airing.off_air:
                end = f"{interval.end.astimezone(zone):%H:%M:%S}" if interval.end else "…"
                lasted = f"{interval.seconds():.1f} s" if interval.end else "still"
                lines.append(
                    f"  {'':<17} off air {interval.start.astimezone(zone):%H:%M:%S}-{end} "
                    f"({lasted}, {interval.cause.replace('_', ' ')})"
                )
        total = _totals(mine)
        summary = ", ".join(f"{k} {v}" for k, v in total.by_status.items() if v)
        lines.append(
            f"  total: {summary or 'none'}; {total.minutes_on_air} min on air, "
            f"{total.seconds_off_air} s off air"
        )
        lines.append("")
    return "\n".join(lines)

"""A venue's schedule as iCalendar (RFC 5545), in the venue's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar

from config.event import Event
from config.schedule import sessions_for_venue


def venue_calendar(
    event: Event,
    venue_id: str,
    base_url: str | None = None,
    stamp: datetime | None = None,
    language: str | None = None,
) -> bytes:
    """The sessions a venue receives or sends, with a VTIMEZONE for the venue's zone.

    Titles and names are in ``language`` where the event has them, else in the event's
    default language; the words around them stay English.
    """
    venue = event.venue(venue_id)
    if venue is None:
        raise KeyError(venue_id)
    zone = venue.time_zone
    stamp = stamp or datetime.now(UTC)
    calendar = icalendar.Calendar.new(
        prodid="-//venuebridge//schedule//EN",
        name=f"{event.name.get(language)} · {venue.name.get(language)}",
        uid=f"{event.id}-{venue.id}",
    )
    for session in sessions_for_venue(event, venue.id):
        channel = event.channel(session.channel)
        direction = "sent from this venue" if channel and channel.venue == venue.id else "received"
        hall = channel.title.get(language) if channel else session.channel
        part = session.part.local_label.get(language)
        lines = [
            part,
            f"Channel: {hall} ({direction})",
            f"Languages: {', '.join(session.languages)}",
        ]
        url = None
        if base_url:
            url = f"{base_url.rstrip('/')}/watch/{session.channel}"
            lines.append(f"Watch: {url}")
        calendar.add_component(
            icalendar.Event.new(
                uid=f"{session.id}.{venue.id}@{event.id}.venuebridge",
                summary=session.title.get(language),
                start=session.start.astimezone(zone),
                end=session.end.astimezone(zone),
                stamp=stamp,
                location=hall if channel else None,
                description="\n".join(lines),
                categories=[part],
                url=url,
            )
        )
    if event.sessions:
        first = min(s.start for s in event.sessions).date() - timedelta(days=1)
        last = max(s.end for s in event.sessions).date() + timedelta(days=1)
    else:
        first = last = date.today()
    calendar.add_missing_timezones(first_date=first, last_date=last)
    ical: bytes = calendar.to_ical()
    return ical

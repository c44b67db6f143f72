"""Server-rendered pages."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config.event import Part
from config.schedule import by_day_and_hall, local_time, sessions_for_venue, zone_label
from web.display_names import LANGUAGE_NAMES
from web.errors import http_error
from web.keys import EVENT
from web.page_language import WORDS, day_heading, language_context, page_language


def short_name(name: str) -> str:
    """``United States sub-venue`` for ``United States sub-venue (Silicon Valley)``."""
    return name.split(" (")[0].split("（")[0]


@aiohttp_jinja2.template("schedule.html")
async def schedule_page(request: web.Request) -> dict[str, Any]:
    event = request.app[EVENT]
    venue_id = request.query.get("venue") or None
    venue = event.venue(venue_id) if venue_id else None
    if venue_id and venue is None:
        raise http_error(web.HTTPNotFound, f"There is no venue '{venue_id}' in this event.")
    sessions = sessions_for_venue(event, venue.id) if venue else list(event.sessions)
    days = by_day_and_hall(event, sessions, event.time_zone)
    first = event.sessions[0].start if event.sessions else None
    lang = page_language(request)
    return {
        **language_context(request),
        "words": WORDS[lang],
        "day_heading": lambda day: day_heading(day, lang),
        "short_names": {v.id: short_name(v.name.get(lang)) for v in event.venues},
        "event": event,
        "venue": venue,
        "days": days,
        "parts": list(Part),
        "zone": event.time_zone,
        "zone_label": zone_label(first, event.time_zone) if first else event.time_zone.key,
        "local_time": local_time,
        "venues_by_id": {v.id: v for v in event.venues},
        "language_names": LANGUAGE_NAMES,
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/", schedule_page, name="schedule")

"""API endpoints: the schedule (JSON, iCalendar) and liveness."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from config import Event, Session
from config.calendar_export import venue_calendar
from config.schedule import sessions_for_venue
from signaling.clock import Clock
from signaling.rehearsal import RehearsalClock
from web.client import public_base
from web.errors import http_error
from web.keys import CLOCK, EVENT, NODE, STARTED_AT
from web.recording_wiring import RECORDER


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def session_json(event: Event, session: Session) -> dict[str, Any]:
    """A session as the API shows it: UTC times plus the event-local ones.

    ``title`` is the event's default language (what it always was); ``titles`` has
    every language the event file gives, for pages that pick their own.
    """
    return {
        "id": session.id,
        "title": str(session.title),
        "titles": session.title.as_dict(),
        "part": session.part.value,
        "part_label": session.part.label,
        "part_labels": session.part.local_label.as_dict(),
        "start": _utc(session.start),
        "end": _utc(session.end),
        "start_local": session.start.astimezone(event.time_zone).isoformat(),
        "end_local": session.end.astimezone(event.time_zone).isoformat(),
        "channel": session.channel,
        "venues": list(session.venues),
        "languages": list(session.languages),
        "qa": session.qa,
    }


def clock_json(clock: Clock | None) -> dict[str, Any]:
    """The server's clock for pages: event time = ``virtual + (now - real) * speed``.

    Outside a rehearsal it is the wall clock (``rehearsal`` false, speed 1).
    """
    if isinstance(clock, RehearsalClock):
        return clock.as_json()
    return {"rehearsal": False, "real": None, "virtual": None, "speed": 1.0}


def schedule_json(
    event: Event, venue_id: str | None = None, clock: Clock | None = None
) -> dict[str, Any]:
    """The event and its sessions; with ``venue_id``, only the sessions of that venue."""
    sessions = event.sessions if venue_id is None else sessions_for_venue(event, venue_id)
    return {
        "clock": clock_json(clock),
        "event": {
            "id": event.id,
            "name": str(event.name),
            "names": event.name.as_dict(),
            "default_language": event.default_language,
            "time_zone": event.time_zone.key,
        },
        "venues": [
            {
                "id": v.id,
                "name": str(v.name),
                "names": v.name.as_dict(),
                "kind": v.kind.value,
                "time_zone": v.time_zone.key,
                "region": v.region,
            }
            for v in event.venues
        ],
        "channels": [
            {
                "id": c.id,
                "title": str(c.title),
                "titles": c.title.as_dict(),
                "venue": c.venue,
                "kind": c.kind.value,
            }
            for c in event.channels
        ],
        "sessions": [session_json(event, s) for s in sessions],
    }


async def get_schedule(request: web.Request) -> web.Response:
    event = request.app[EVENT]
    venue_id = request.query.get("venue")
    if venue_id is not None and event.venue(venue_id) is None:
        raise http_error(web.HTTPNotFound, f"unknown venue '{venue_id}'")
    return web.json_response(schedule_json(event, venue_id, request.app.get(CLOCK)))


async def get_venue_calendar(request: web.Request) -> web.Response:
    event = request.app[EVENT]
    venue_id = request.match_info["venue"]
    if event.venue(venue_id) is None:
        raise http_error(web.HTTPNotFound, f"unknown venue '{venue_id}'")
    # ?lang=zh: titles in Chinese where the event has them (the default language else).
    language = request.query.get("lang") or None
    body = venue_calendar(event, venue_id, base_url=public_base(request), language=language)
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.id}-{venue_id}.ics"'},
    )


async def get_healthz(request: web.Request) -> web.Response:
    body: dict[str, object] = {
        "status": "ok",
        "event": request.app[EVENT].id,
        "node": request.app[NODE].id,
        "region": request.app[NODE].region,
        "uptime_seconds": round(time.monotonic() - request.app[STARTED_AT], 3),
    }
    recorder = request.app.get(RECORDER)
    if recorder is not None:
        # The process is alive either way; the alarm says recording has stopped and why.
        status = recorder.status()
        body["recording"] = {
            "running": status.alarm is None,
            "alarm": status.alarm,
            "free_mb": round(status.free_mb),
            "open_files": status.open_files,
        }
        body["alarms"] = [status.alarm] if status.alarm else []
    return web.json_response(body)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/schedule", get_schedule)
    app.router.add_get("/api/venues/{venue}/schedule.ics", get_venue_calendar)
    app.router.add_get("/healthz", get_healthz)

"""As-run records for directors: the /records page and the CSV / JSON exports."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config.event import Part
from signaling.auth.grants import Grant
from signaling.records.airing import Airing
from signaling.records.interpreting import OnAir, interpreting_rows
from signaling.records.interpreting_store import InterpretingStore
from signaling.records.report import (
    airing_row,
    airing_title,
    languages_json,
    off_air_json,
    to_csv,
    totals_by_part,
    totals_by_venue,
)
from signaling.records.store import AiringStore
from signaling.records.timeline import WIDTH, venue_timeline
from web.auth import require_director
from web.keys import CLOCK, EVENT, INTERPRETING, ROUTING, STORE
from web.recording_links import RecordingLinks


def _require_director(request: web.Request) -> Grant:
    return require_director(request, "The as-run record")


async def airings_of(request: web.Request) -> list[Airing]:
    """The node that runs routing holds the log in memory; others fold the stored stream."""
    routing = request.app.get(ROUTING)
    if routing is not None:
        return routing.log.airings()
    event = request.app[EVENT]
    airings = await AiringStore(request.app[STORE], event.id).load()
    return sorted(airings, key=lambda a: (a.scheduled_start, a.venue, a.id))


async def intervals_of(request: web.Request) -> list[OnAir]:
    """Interpreters' turns: in memory on the routing node, else folded from the store."""
    recorder = request.app.get(INTERPRETING)
    if recorder is not None:
        return recorder.log.intervals()
    return await InterpretingStore(request.app[STORE], request.app[EVENT].id).load()


async def get_records_json(request: web.Request) -> web.Response:
    _require_director(request)
    event = request.app[EVENT]
    links = await RecordingLinks.read(request)
    rows = [
        airing_row(event, a)
        | {"off_air": off_air_json(a), "languages": languages_json(a)}
        | links.json_fields(a)
        for a in await airings_of(request)
    ]
    return web.json_response({"event": event.id, "airings": rows})


async def get_records_csv(request: web.Request) -> web.Response:
    _require_director(request)
    event = request.app[EVENT]
    links = await RecordingLinks.read(request)
    rows = [airing_row(event, a) | links.csv_fields(a) for a in await airings_of(request)]
    return web.Response(
        text=to_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.id}-as-run.csv"'},
    )


@aiohttp_jinja2.template("records.html")
async def records_page(request: web.Request) -> dict[str, Any]:
    _require_director(request)
    event = request.app[EVENT]
    airings = await airings_of(request)
    now = request.app[CLOCK].now()
    links = await RecordingLinks.read(request)
    cells: dict[tuple[str, str], list[Airing]] = {}
    for airing in airings:
        cells.setdefault((airing.session, airing.venue), []).append(airing)
    scheduled = {(s.id, v) for s in event.sessions for v in s.venues}
    sessions = [s for s in event.sessions if s.venues or any(k[0] == s.id for k in cells)]
    return {
        "event": event,
        "sessions": sessions,
        "cells": cells,
        "scheduled": scheduled,
        "timelines": [venue_timeline(event, v.id, airings, now) for v in event.venues],
        "unscheduled": [a for a in airings if a.unscheduled],
        "language_changes": [a for a in airings if len(a.languages) > 1],
        "interpreting": interpreting_rows(event, await intervals_of(request), airings, now),
        "off_air": [a for a in airings if a.off_air],
        "title_of": lambda airing: airing_title(event, airing),
        "now": now,
        "venue_totals": totals_by_venue(event, airings),
        "part_totals": totals_by_part(event, airings),
        "part_labels": {p.value: p.label for p in Part},
        "width": WIDTH,
        "count": len(airings),
        "played": {a.id: url for a in airings if (url := links.player_path(a))},
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/records", records_page)
    app.router.add_get("/api/records.json", get_records_json)
    app.router.add_get("/api/records.csv", get_records_csv)

"""``/api/records/interpreting.csv`` and ``.json``: interpreters' turns on air, per
session and language, with the venues that played them (directors and admins)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.records.interpreting import interpreting_rows, to_csv
from web.auth import require_director
from web.keys import CLOCK, EVENT
from web.records_api import airings_of, intervals_of


async def _rows(request: web.Request) -> list[dict[str, Any]]:
    require_director(request, "The interpreting record")
    event = request.app[EVENT]
    airings = await airings_of(request)
    return interpreting_rows(event, await intervals_of(request), airings, request.app[CLOCK].now())


async def interpreting_csv(request: web.Request) -> web.Response:
    rows = await _rows(request)
    event = request.app[EVENT]
    return web.Response(
        text=to_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.id}-interpreting.csv"'},
    )


async def interpreting_json(request: web.Request) -> web.Response:
    rows = await _rows(request)
    return web.json_response({"event": request.app[EVENT].id, "turns": rows})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/records/interpreting.csv", interpreting_csv)
    app.router.add_get("/api/records/interpreting.json", interpreting_json)

"""The director's page: the routing matrix, automation per venue, on air now and next."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config import ChannelKind
from web.api import schedule_json
from web.auth import require_director
from web.display_names import display_names, track_options
from web.keys import CLOCK, EVENT, SETTINGS


@aiohttp_jinja2.template("director.html")
async def director_page(request: web.Request) -> dict[str, Any]:
    grant = require_director(request, "The director's page")
    event = request.app[EVENT]
    return {
        "event": event,
        "grant": grant,
        "programme": [c for c in event.channels if c.kind is ChannelKind.PROGRAMME],
        "returns": [c for c in event.channels if c.kind is ChannelKind.RETURN],
        # For "now / next", written by the template's ``tojson``: it escapes every "<", so
        # no title (not "</script>", nor "<!--<script>", which would swallow the rest of
        # the page) can end the data block early.
        "schedule": schedule_json(event, clock=request.app.get(CLOCK)),
        "names": display_names(event),
        "track_options": track_options(event),
        # Whether the page offers "use backup / use primary" (``[failover] mode``).
        "failover_mode": request.app[SETTINGS].failover.mode,
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/director", director_page)

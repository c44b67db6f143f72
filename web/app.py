"""The one wiring point: builds the aiohttp application from settings and an event."""

from __future__ import annotations

import time
from importlib import metadata
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from config import Event, Settings, load_event
from signaling.hub import HubOptions
from web import api, control, media, metrics, pages, routing, venue_pages
from web.errors import error_pages, signaling_errors
from web.keys import EVENT, SETTINGS, STARTED_AT

HERE = Path(__file__).parent
MAX_REQUEST_BYTES = 1024 * 1024


def version() -> str:
    try:
        return metadata.version("venuebridge")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def create_app(
    settings: Settings, event: Event | None = None, hub_options: HubOptions | None = None
) -> web.Application:
    """Build the application; ``event`` defaults to the one the settings name."""
    # error_pages is outermost: it renders what signaling_errors made of a refusal.
    app = web.Application(
        middlewares=[error_pages, signaling_errors], client_max_size=MAX_REQUEST_BYTES
    )
    app[SETTINGS] = settings
    app[EVENT] = event if event is not None else load_event(settings.event_file)
    app[STARTED_AT] = time.monotonic()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_static("/static/", HERE / "static", name="static")
    pages.setup(app)
    api.setup(app)
    metrics.setup(app, version())
    control.setup(app, hub_options)
    media.setup(app)
    routing.setup(app)
    venue_pages.setup(app)
    return app

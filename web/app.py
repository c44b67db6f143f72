"""The one wiring point: builds the application and, while it runs, both planes.

``create_app`` adds the routes. ``_planes`` (the app's cleanup context) is the
composition root: it opens the backends (``web/backends.py``), builds the control plane's
hub, the media plane's hub and the routing service, connects them through
``web/adapters.py``, and closes everything in reverse order on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from importlib import metadata
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from config import Event, Settings, load_event
from signaling.auth import Credentials, TokenMediaAccess
from signaling.clock import SystemClock
from signaling.hub import Hub, HubOptions
from signaling.records.airing import Judgement
from signaling.records.recovery import open_asrun_log
from signaling.records.store import AiringStore
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from signaling.store import EventStore
from streaming.hub import MediaHub
from streaming.metrics import MediaCollector
from streaming.watchdog import WatchSettings
from web import (
    api,
    director_page,
    exports,
    media_api,
    media_pages,
    metrics,
    pages,
    qa_pages,
    records_api,
    routing_api,
    venue_pages,
    whep,
    whip,
    ws,
)
from web.adapters import HubQuestionCounts, MediaPlaneView, SwitchesToRouting
from web.backends import open_backends
from web.errors import error_pages, signaling_errors
from web.keys import (
    AUTHORITY,
    CREDENTIALS,
    EVENT,
    HUB,
    HUB_OPTIONS,
    MEDIA,
    METRICS,
    ROUTING,
    SETTINGS,
    STARTED_AT,
    STORE,
)

HERE = Path(__file__).parent
MAX_REQUEST_BYTES = 1024 * 1024
logger = logging.getLogger(__name__)


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
    app[HUB_OPTIONS] = hub_options or HubOptions()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_static("/static/", HERE / "static", name="static")
    if settings.ice.udp_port_min is not None:
        logger.warning(
            "ice.udp_port_min/max are not honoured: aioice 0.13 binds every candidate to an "
            "ephemeral port and has no port-range option (see README)"
        )
    metrics.setup(app, version())
    for routes in (pages, api, ws, qa_pages, exports, whip, whep, media_api, media_pages):
        routes.setup(app)
    for routes in (routing_api, records_api, director_page, venue_pages):
        routes.setup(app)
    app.cleanup_ctx.append(_planes)
    app.on_shutdown.append(ws.close_all)
    return app


async def _planes(app: web.Application) -> AsyncIterator[None]:
    """Everything that runs while the app serves, started in order, stopped in reverse."""
    settings, event = app[SETTINGS], app[EVENT]
    async with open_backends(settings, event) as backends, contextlib.AsyncExitStack() as stack:
        # The ingest key becomes a grant here, once: every check then sees only grants.
        credentials = Credentials(backends.authority, settings.producer_secret)
        app[AUTHORITY] = backends.authority
        app[CREDENTIALS] = credentials
        app[STORE] = backends.store

        hub = Hub(event, backends.store, backends.bus, app[HUB_OPTIONS])
        app[HUB] = hub
        app[METRICS].register(metrics.HubCollector(hub))
        await hub.start()
        stack.push_async_callback(hub.stop)

        media = MediaHub(
            event,
            settings.video_codec,
            TokenMediaAccess(credentials, event),
            settings.ice.advertised_addresses,
            watch=WatchSettings(
                lost_after=settings.health.lost_after,
                failover_after=settings.failover.after,
                failover_mode=settings.failover.mode,
            ),
        )
        app[MEDIA] = media
        app[METRICS].register(MediaCollector(media))
        media.start()
        stack.push_async_callback(media.aclose)

        if settings.routing:
            routing = _routing(settings, event, backends.store, hub, media)
            app[ROUTING] = await stack.enter_async_context(routing)
        yield


@contextlib.asynccontextmanager
async def _routing(
    settings: Settings, event: Event, events: EventStore, hub: Hub, media: MediaHub
) -> AsyncIterator[RoutingService]:
    """The schedule automation and as-run records, on the node that runs them."""
    clock = SystemClock()
    store = AiringStore(events, event.id)
    rules = Judgement(
        tolerance=timedelta(seconds=settings.asrun_tolerance_seconds),
        source_lost_limit=timedelta(seconds=settings.source_lost_seconds),
    )
    log = await open_asrun_log(store, event, rules, clock.now(), rehearsal=settings.rehearsal)
    service = RoutingService(
        Router(event, pre_roll=timedelta(seconds=settings.pre_roll_seconds)),
        log,
        MediaPlaneView(media),
        clock,
        store,
        on_change=hub.push_routing,
        questions=HubQuestionCounts(hub),
    )
    hub.routing = service
    switches = SwitchesToRouting(service)
    media.add_switch_listener(switches)
    runner = asyncio.get_running_loop().create_task(service.run(), name="routing")
    try:
        yield service
    finally:
        hub.routing = None
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await switches.aclose()

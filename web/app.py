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
from signaling.clock import Clock, SystemClock
from signaling.hub import Hub, HubOptions
from signaling.records.airing import Judgement
from signaling.records.recovery import open_asrun_log
from signaling.records.store import AiringStore
from signaling.rehearsal import RehearsalPlan, rehearsal_clock
from signaling.routing.persisted import RoutingStateKeeper
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from signaling.store import EventStore
from streaming.hub import MediaHub
from streaming.metrics import MediaCollector
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
    CLOCK,
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
        clock = app[CLOCK] = await _clock(settings, event, backends.store)

        hub = Hub(
            event,
            backends.store,
            backends.bus,
            app[HUB_OPTIONS],
            clock=lambda: clock.now().timestamp(),
        )
        app[HUB] = hub
        app[METRICS].register(metrics.HubCollector(hub))
        await hub.start()
        stack.push_async_callback(hub.stop)

        media = MediaHub(
            event,
            settings.video_codec,
            TokenMediaAccess(credentials, event),
            settings.ice.advertised_addresses,
        )
        app[MEDIA] = media
        app[METRICS].register(MediaCollector(media))
        media.start()
        stack.push_async_callback(media.aclose)

        if settings.routing:
            routing = _routing(settings, event, backends.store, hub, media, clock)
            app[ROUTING] = await stack.enter_async_context(routing)
        yield


async def _clock(settings: Settings, event: Event, store: EventStore) -> Clock:
    """The system clock, or in a rehearsal the event's time shifted to start soon."""
    if not settings.rehearsal:
        return SystemClock()
    plan = RehearsalPlan(
        lead=timedelta(seconds=settings.rehearsal_lead_seconds),
        from_session=settings.rehearsal_from,
        speed=settings.rehearsal_speed,
    )
    clock = await rehearsal_clock(store, event, plan, SystemClock().now())
    logger.info(
        "rehearsal clock: event time %s now, %gx real time",
        clock.now().isoformat(timespec="seconds"),
        clock.speed,
    )
    return clock


@contextlib.asynccontextmanager
async def _routing(
    settings: Settings, event: Event, events: EventStore, hub: Hub, media: MediaHub, clock: Clock
) -> AsyncIterator[RoutingService]:
    """The schedule automation and as-run records, on the node that runs them."""
    store = AiringStore(events, event.id)
    rules = Judgement(
        tolerance=timedelta(seconds=settings.asrun_tolerance_seconds),
        source_lost_limit=timedelta(seconds=settings.source_lost_seconds),
    )
    # The grace is real time; on a sped-up rehearsal clock it covers more event time.
    grace = timedelta(seconds=settings.asrun_restart_grace) * clock.speed
    log = await open_asrun_log(
        store, event, rules, clock.now(), rehearsal=settings.rehearsal, restart_grace=grace
    )
    service = RoutingService(
        Router(event, pre_roll=timedelta(seconds=settings.pre_roll_seconds)),
        log,
        MediaPlaneView(media),
        clock,
        store,
        on_change=hub.push_routing,
        questions=HubQuestionCounts(hub),
        keeper=RoutingStateKeeper(events, event.id),
    )
    hub.routing = service
    switches = SwitchesToRouting(service)
    media.add_switch_listener(switches)
    # The media plane's source health (issue 11, resmedia) comes with add_source_listener.
    add_source_listener = getattr(media, "add_source_listener", None)
    if add_source_listener is not None:
        add_source_listener(switches)
    await service.restore()
    runner = asyncio.get_running_loop().create_task(service.run(), name="routing")
    try:
        yield service
    finally:
        hub.routing = None
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await switches.aclose()
        await service.stop()

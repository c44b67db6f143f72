"""The one wiring point: builds the application and, while it runs, both planes.

``create_app`` adds the routes. ``_planes`` (the app's cleanup context) is the
composition root: it opens the backends (``web/backends.py``), builds the control plane's
hub and the media plane's hub, connects them through ``web/adapters.py``, adds what makes
a node one of several (``web/node_wiring.py``: directory, home venues, the routing
service), and closes everything in reverse order on shutdown.
"""

from __future__ import annotations

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
from config.node import home_venues, node_identity
from signaling.auth import Credentials, TokenMediaAccess
from signaling.auth.anonymous import AnonymousMinter
from signaling.auth.relay_token import RelayToken
from signaling.clock import Clock, SystemClock
from signaling.hub import Hub, HubOptions
from signaling.invites import InviteDesk, InviteLog, UseRecorder
from signaling.rehearsal import RehearsalPlan, rehearsal_clock
from signaling.store import EventStore
from streaming.hls.channels import HlsChannels
from streaming.hub import MediaHub
from streaming.ice_ports import open_ice_ports
from streaming.metrics import MediaCollector, UdpMuxCollector
from streaming.udp_mux import UdpMux
from streaming.watchdog import WatchSettings
from web import (
    api,
    captions_http,
    director_page,
    exports,
    hls_http,
    hls_subtitles,
    hygiene,
    interpret_page,
    interpreting_api,
    invites_page,
    join,
    languages_http,
    media_api,
    media_pages,
    metrics,
    nodes_api,
    page_language,
    pages,
    qa_pages,
    recordings_http,
    records_api,
    routing_api,
    tokens_api,
    venue_pages,
    whep,
    whip,
    ws,
)
from web.adapters import (
    SourcesToDirectory,
)
from web.backends import open_backends
from web.captions_wiring import speech_captions
from web.errors import error_pages, signaling_errors
from web.hls_subtitles import SUBTITLES, SessionCaptions
from web.hls_wiring import hls_packaging
from web.hub_options import hub_options_for
from web.hygiene import body_deadline
from web.keys import (
    ANONYMOUS,
    AUTHORITY,
    CLOCK,
    CREDENTIALS,
    DIRECTORY,
    EVENT,
    HUB,
    HUB_OPTIONS,
    ICE_PORTS,
    INVITE_USES,
    INVITES,
    MEDIA,
    METRICS,
    NODE,
    SETTINGS,
    STARTED_AT,
    STORE,
)
from web.node_wiring import media_upstream, node_parts, open_directory
from web.origin import same_origin
from web.recording_wiring import recording
from web.remux_wiring import shared_frames
from web.worker_wiring import worker_parts

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
    # same_origin and body_deadline run before any handler, inside error_pages so their
    # refusals are rendered like the others.
    app = web.Application(
        middlewares=[error_pages, signaling_errors, same_origin, body_deadline],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[SETTINGS] = settings
    app[EVENT] = event if event is not None else load_event(settings.event_file)
    app[STARTED_AT] = time.monotonic()
    # One node id for the bus, the directory and /healthz, fixed for the app's life.
    app[NODE] = node_identity(settings)
    # A venue in node.venues that the event lacks stops start-up here, naming the key.
    home_venues(settings, app[EVENT])
    app[HUB_OPTIONS] = hub_options or hub_options_for(settings)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        # Titles and names print in the page's language (web/page_language.py).
        finalize=page_language.show_in_page_language,
        filters={"in_page_language": page_language.in_page_language},
    )
    app.router.add_static("/static/", HERE / "static", name="static")
    metrics.setup(app, version())
    hygiene.setup(app)
    for routes in (pages, api, ws, qa_pages, join, exports, whip, whep, media_api, media_pages):
        routes.setup(app)
    for routes in (routing_api, records_api, director_page, venue_pages, tokens_api, invites_page):
        routes.setup(app)
    interpreting_api.setup(app)
    nodes_api.setup(app)
    captions_http.setup(app)
    languages_http.setup(app)
    interpret_page.setup(app)
    recordings_http.setup(app)
    # CMAF HLS of the programme channels, for the crowd behind an HTTP cache.
    hls_subtitles.setup(app, settings.hls)
    hls_http.setup(app, HlsChannels(settings.hls))
    app.cleanup_ctx.append(_planes)
    app.on_shutdown.append(ws.close_all)
    return app


async def _planes(app: web.Application) -> AsyncIterator[None]:
    """Everything that runs while the app serves, started in order, stopped in reverse."""
    settings, event = app[SETTINGS], app[EVENT]
    async with open_backends(settings, event) as backends, contextlib.AsyncExitStack() as stack:
        # Every token that verifies is noted as its invite's last use (written in batches).
        invite_limits = settings.invites
        uses = UseRecorder(
            backends.store,
            event.id,
            interval=float(invite_limits.last_use_seconds),
            # Two kinds of use (link opened, token seen) for each invite the event may have.
            max_pending=2 * invite_limits.max_per_event,
        )
        app[INVITE_USES] = uses
        app[INVITES] = InviteDesk(
            backends.authority, InviteLog(backends.store, event.id), invite_limits, uses
        )
        uses.start()
        stack.push_async_callback(uses.stop)
        # The ingest key becomes a grant here, once: every check then sees only grants.
        credentials = Credentials(backends.authority, settings.producer_secret, on_use=uses.note)
        app[AUTHORITY] = backends.authority
        app[CREDENTIALS] = credentials
        app[STORE] = backends.store
        clock = app[CLOCK] = await _clock(settings, event, backends.store)

        options = app[HUB_OPTIONS]
        app[ANONYMOUS] = AnonymousMinter(backends.authority, options.limits.anonymous_per_address)
        # The hub's revoker keeps the authority's revocation set current.
        revocations = backends.authority.revocations
        hub = Hub(
            event,
            backends.store,
            backends.bus,
            options,
            clock=lambda: clock.now().timestamp(),
            revocations=revocations,
            node=app[NODE].id,
        )
        app[HUB] = hub
        app[SUBTITLES] = SessionCaptions(event, hub.captions, clock.now)
        app[METRICS].register(metrics.HubCollector(hub))
        await hub.start()
        stack.push_async_callback(hub.stop)

        directory = app[DIRECTORY] = open_directory(settings, event, backends, app[NODE])
        await directory.start()
        stack.push_async_callback(directory.stop)

        # Several workers: ids naming this one, sibling pulls first (web/worker_wiring.py).
        workers = await stack.enter_async_context(worker_parts(app, backends))
        # A busy media port stops start-up here (SettingsError naming ice.udp_port).
        ice_ports = app[ICE_PORTS] = await stack.enter_async_context(open_ice_ports(settings.ice))
        if isinstance(ice_ports, UdpMux):
            app[METRICS].register(UdpMuxCollector(ice_ports))
        media = MediaHub(
            event,
            settings.video_codec,
            TokenMediaAccess(credentials, event),
            settings.ice.advertised_addresses,
            limits=settings.media,
            watch=WatchSettings(
                lost_after=settings.health.lost_after,
                failover_after=settings.failover.after,
                failover_mode=settings.failover.mode,
            ),
            # The slate names each venue's next session: on the rehearsal clock too.
            now=clock.now,
            ice_ports=ice_ports,
            upstream=workers.upstream(media_upstream(settings, directory, app[NODE].id)),
            relay=settings.relay,
            # This node's own relay token, unless relay.token overrides it.
            relay_token=None
            if settings.relay.token
            else RelayToken(
                backends.authority, app[NODE].id, settings.relay.token_ttl_seconds
            ).current,
            session_ids=workers.session_ids,
        )
        app[MEDIA] = media
        workers.attach(media)
        app[METRICS].register(MediaCollector(media))
        # A revoked token ends the WHIP/WHEP sessions it opened, on every node.
        hub.revoker.add_listener(media.end_revoked)
        # Which channels this node holds goes into the node directory.
        media.add_source_listener(SourcesToDirectory(directory))
        media.start()
        stack.push_async_callback(media.aclose)
        await stack.enter_async_context(node_parts(app, backends, hub, media, directory))
        await stack.enter_async_context(speech_captions(app, hub, media, clock))
        # One depacketizing pass per channel for the next two.
        await stack.enter_async_context(shared_frames(app))
        await stack.enter_async_context(recording(app, media, clock))
        await stack.enter_async_context(hls_packaging(app, media))
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

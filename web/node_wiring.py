"""The parts of the wiring that make one node among several (``web/app.py`` calls these).

The node directory and where relays pull from; the pulls of nodes that died; this node's
home venues (orders from the routing node over the bus, reports back); and the routing
service with its as-run log, on the node that runs it. Without Redis the node is alone:
no directory peers, every venue served here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from aiohttp import web

from config import Event, Settings
from config.node import NodeIdentity, home_venues
from signaling.clock import Clock
from signaling.hub import Hub
from signaling.nodes import Directory, LocalDirectory, RedisDirectory
from signaling.records.airing import Judgement
from signaling.records.booth_bus import BoothReports, hear_booths
from signaling.records.interpreting_store import (
    InterpretingRecorder,
    InterpretingStore,
    open_interpreting_log,
)
from signaling.records.recovery import open_asrun_log
from signaling.records.store import AiringStore
from signaling.routing.home_agent import HomeAgent
from signaling.routing.homes import HomeBook
from signaling.routing.persisted import RoutingStateKeeper
from signaling.routing.remote import RemoteVenues
from signaling.routing.router import Router
from signaling.routing.service import MediaView, RoutingService
from signaling.store import EventStore
from streaming.hub import MediaHub
from streaming.ports import UpstreamLocator
from streaming.relay import StaticUpstream
from web.adapters import (
    HomeReports,
    HubQuestionCounts,
    MediaPlaneView,
    SwitchesToRouting,
    VenueRoutes,
)
from web.backends import Backends, redis_prefix
from web.departures import DepartedPulls
from web.keys import (
    CLOCK,
    EVENT,
    HOMES,
    INTERPRETING,
    NODE,
    PEERS,
    ROUTING,
    SETTINGS,
    WORKER,
    WORKER_LOAD,
)
from web.peers import PeerOrigins
from web.upstreams import DirectoryUpstreams
from web.worker_routes import RoutesToSiblings, SiblingRoutes, add_counts

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def node_parts(
    app: web.Application, backends: Backends, hub: Hub, media: MediaHub, directory: Directory
) -> AsyncIterator[None]:
    """Departed pulls, home venues and (where ``routing``) the routing service, until exit."""
    settings, event = app[SETTINGS], app[EVENT]
    async with contextlib.AsyncExitStack() as stack:
        if not isinstance(directory, LocalDirectory):
            app[PEERS] = PeerOrigins(app[NODE].url)
            # Pulls of a node that died end when the directory drops it, not 30 s later.
            departed = DepartedPulls(
                directory,
                media,
                backends.authority,
                app[NODE].id,
                interval=settings.node.heartbeat_seconds,
                ttl=settings.node.ttl_seconds,
                peers=app[PEERS],
            )
            departed.start()
            stack.push_async_callback(departed.aclose)

        # Every node is home to some venues (maybe none): it applies the routing node's
        # orders for them and reports back over the bus.
        mine = home_venues(settings, event)
        # Without Redis there is no other node: every venue is served here.
        book = app[HOMES] = HomeBook(event, app[NODE].id, mine, alone=backends.redis is None)
        if book.alone and any(v.home_node for v in event.venues):
            logger.warning(
                "the event names venues' home nodes, but without redis_url this "
                "node is alone: it serves every venue"
            )
        routes = VenueRoutes(media)
        players: Callable[[], dict[str, int]] = routes.players
        if app.get(WORKER) is not None:
            # Each worker reports the node's players: its own and its siblings'.
            load = app[WORKER_LOAD]

            def players() -> dict[str, int]:
                return add_counts(routes.players(), load.siblings_players()[0])

        agent = HomeAgent(
            hub.bus,
            book,
            event,
            routes,
            mine,
            settings.routing,
            audience=players,
            audience_every=settings.node.heartbeat_seconds,
        )
        media.add_switch_listener(reports := HomeReports(agent))
        media.add_source_listener(reports)
        await agent.start()
        stack.push_async_callback(agent.aclose)

        view: MediaView = MediaPlaneView(media)
        siblings: RoutesToSiblings | None = None
        if app.get(WORKER) is not None:
            # Several workers: the others' venue outputs follow this one's (web/worker_routes.py).
            if settings.routing:
                view = siblings = RoutesToSiblings(
                    view, hub.bus, hub, app[WORKER_LOAD].siblings_players
                )
                siblings.start()
                stack.push_async_callback(siblings.aclose)
            else:
                await SiblingRoutes(hub.bus, event, media, hub).start()
        if settings.routing:
            remote = RemoteVenues(
                hub.bus,
                book,
                event,
                view,
                directory,
                settings.node.heartbeat_seconds,
            )
            agent.hello_listeners.append(remote.home_said_hello)
            # Opened before the routing plane: its first heartbeat would hide the last one.
            interpreting = interpreting_records(event, backends.store, hub, media, app[CLOCK])
            app[INTERPRETING] = await stack.enter_async_context(interpreting)
            routing = routing_plane(
                settings, event, backends.store, hub, media, app[CLOCK], remote, app[INTERPRETING]
            )
            app[ROUTING] = await stack.enter_async_context(routing)
            if siblings is not None:
                siblings.announce_matrix()
        else:
            # Interpreters publishing here are recorded by the routing process.
            booths = BoothReports(hub.bus)
            booths.start()
            stack.push_async_callback(booths.aclose)
            media.add_language_listener(booths)
        yield


def media_upstream(settings: Settings, directory: Directory, me: str) -> UpstreamLocator | None:
    """``relay.upstream`` (chains), else on Redis the channel's holder in the directory."""
    if settings.relay.upstream:
        return StaticUpstream(settings.relay.upstream)
    if isinstance(directory, LocalDirectory):
        return None
    return DirectoryUpstreams(directory, me)


def open_directory(
    settings: Settings, event: Event, backends: Backends, node: NodeIdentity
) -> Directory:
    """On Redis, the shared directory every node heartbeats into; else just this node."""
    if backends.redis is None:
        return LocalDirectory(node)
    return RedisDirectory(
        backends.redis,
        redis_prefix(event),
        node,
        tuple(channel.id for channel in event.channels),
        heartbeat=settings.node.heartbeat_seconds,
        ttl=settings.node.ttl_seconds,
    )


@contextlib.asynccontextmanager
async def interpreting_records(
    event: Event, events: EventStore, hub: Hub, media: MediaHub, clock: Clock
) -> AsyncIterator[InterpretingRecorder]:
    """Interpreters' on-air turns from the booths here and, over the bus, elsewhere."""
    store = InterpretingStore(events, event.id)
    last_alive = await AiringStore(events, event.id).last_alive()
    recorder = InterpretingRecorder(
        await open_interpreting_log(store, last_alive), store, clock.from_real
    )
    recorder.start()
    media.add_language_listener(recorder)
    hear_booths(hub.bus, event, recorder)
    try:
        yield recorder
    finally:
        await recorder.aclose(clock.now())


@contextlib.asynccontextmanager
async def routing_plane(
    settings: Settings,
    event: Event,
    events: EventStore,
    hub: Hub,
    media: MediaHub,
    clock: Clock,
    remote: RemoteVenues,
    booths: InterpretingRecorder,
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
        # Venues whose home is another node are switched there, over the bus.
        remote,
        clock,
        store,
        on_change=hub.push_routing,
        questions=HubQuestionCounts(hub),
        keeper=RoutingStateKeeper(events, event.id),
        node=hub.node,
        homes=remote,
        booths=booths,
    )
    booths.on_change = service.booths_changed
    remote.attach(service)
    hub.routing = service
    switches = SwitchesToRouting(service, remote.serves_here)
    media.add_switch_listener(switches)
    media.add_source_listener(switches)
    await service.restore()
    await remote.start()
    runner = asyncio.get_running_loop().create_task(service.run(), name="routing")
    try:
        yield service
    finally:
        hub.routing = None
        booths.on_change = None
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await remote.aclose()
        await switches.aclose()
        await service.stop()

"""Wires the control plane into the app: backends from settings, the hub, its lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from config import Event, Settings
from signaling.auth import TokenAuthority, TokenMediaAccess, load_or_create_secret
from signaling.auth.secret import shared_secret
from signaling.bus import Bus
from signaling.bus.local import LocalBus
from signaling.bus.redis import RedisBus
from signaling.hub import Hub, HubOptions
from signaling.store import EventStore
from signaling.store.redis import RedisEventStore
from signaling.store.sqlite import SqliteEventStore
from web import exports, qa_pages, ws
from web.keys import AUTHORITY, EVENT, HUB, HUB_OPTIONS, MEDIA_ACCESS, METRICS, SETTINGS, STORE

STORE_FILE = "venuebridge.sqlite3"


def redis_prefix(event: Event) -> str:
    return f"venuebridge:{event.id}"


async def authority_for(settings: Settings, event: Event, redis: Redis | None) -> TokenAuthority:
    """The token authority: the data dir's secret, or the one all nodes share on Redis."""
    secret = load_or_create_secret(settings.data_dir)
    if redis is not None:
        secret = await shared_secret(redis, f"{redis_prefix(event)}:secret", secret)
    return TokenAuthority(secret, audience=event.id)


async def _control_plane(app: web.Application) -> AsyncIterator[None]:
    settings, event = app[SETTINGS], app[EVENT]
    redis: Redis | None = None
    store: EventStore
    bus: Bus
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        store = RedisEventStore(redis, redis_prefix(event))
        bus = RedisBus(redis, f"{redis_prefix(event)}:bus")
    else:
        store = await SqliteEventStore.open(settings.data_dir / STORE_FILE)
        bus = LocalBus()
    try:
        authority = await authority_for(settings, event, redis)
        app[AUTHORITY] = authority
        app[MEDIA_ACCESS] = TokenMediaAccess(authority, event)
        app[STORE] = store
        hub = Hub(event, store, bus, app[HUB_OPTIONS])
        app[HUB] = hub
        app[METRICS].register(HubCollector(hub))
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
    finally:
        await store.aclose()
        if redis is not None:
            await redis.aclose()


class HubCollector(Collector):
    """The hub's counters, read at scrape time (no metric objects on the hot path)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        stats = self._hub.stats
        yield GaugeMetricFamily(
            "venuebridge_ws_connections", "Open signaling websockets.", value=self._hub.connections
        )
        yield CounterMetricFamily(
            "venuebridge_ws_dropped_slow",
            "Websockets closed because their outbox was full or a send timed out.",
            value=stats.dropped_slow,
        )
        yield CounterMetricFamily(
            "venuebridge_ws_frames_sent", "Frames queued to websockets.", value=stats.frames_sent
        )
        yield CounterMetricFamily(
            "venuebridge_ws_errors_sent", "Error frames sent to clients.", value=stats.errors_sent
        )


def setup(app: web.Application, options: HubOptions | None = None) -> None:
    """Routes and the lifetime of the hub (started and stopped with the app)."""
    app[HUB_OPTIONS] = options or HubOptions()
    app.cleanup_ctx.append(_control_plane)
    app.on_shutdown.append(ws.close_all)
    ws.setup(app)
    qa_pages.setup(app)
    exports.setup(app)

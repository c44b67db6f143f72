"""Wires the control plane into the app: its backends (``web/backends.py``), the hub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from signaling.auth import Credentials, TokenMediaAccess
from signaling.hub import Hub, HubOptions
from web import exports, qa_pages, ws
from web.backends import open_backends
from web.keys import (
    AUTHORITY,
    CREDENTIALS,
    EVENT,
    HUB,
    HUB_OPTIONS,
    MEDIA_ACCESS,
    METRICS,
    SETTINGS,
    STORE,
)


async def _control_plane(app: web.Application) -> AsyncIterator[None]:
    settings, event = app[SETTINGS], app[EVENT]
    async with open_backends(settings, event) as backends:
        # The ingest key becomes a grant here, once: every check then sees only grants.
        credentials = Credentials(backends.authority, settings.producer_secret)
        app[AUTHORITY] = backends.authority
        app[CREDENTIALS] = credentials
        app[MEDIA_ACCESS] = TokenMediaAccess(credentials, event)
        app[STORE] = backends.store
        hub = Hub(event, backends.store, backends.bus, app[HUB_OPTIONS])
        app[HUB] = hub
        app[METRICS].register(HubCollector(hub))
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()


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

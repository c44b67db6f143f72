"""Prometheus metrics: one registry per application, served at /metrics."""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from signaling.hub import Hub
from web.keys import EVENT, METRICS


def new_registry(event_id: str, version: str) -> CollectorRegistry:
    """A registry with the process, platform and GC collectors and a build info metric."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    info = Info("venuebridge", "Build and event of this node.", registry=registry)
    info.info({"version": version, "event": event_id})
    return registry


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


async def get_metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def setup(app: web.Application, version: str) -> None:
    app[METRICS] = new_registry(app[EVENT].id, version)
    app.router.add_get("/metrics", get_metrics)

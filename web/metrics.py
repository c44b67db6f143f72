"""Prometheus metrics: one registry per application, served at /metrics."""

from __future__ import annotations

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


async def get_metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def setup(app: web.Application, version: str) -> None:
    app[METRICS] = new_registry(app[EVENT].id, version)
    app.router.add_get("/metrics", get_metrics)

"""What makes one worker process one of a node's several (``web/app.py`` calls this).

To the cluster a machine stays one node: every worker heartbeats the same node entry
and claims its channels under the node's id. Among themselves the workers keep a second,
smaller directory under ``<prefix>:node:<id>:workers`` (the same ``RedisDirectory``):
each worker is an entry whose URL is its private loopback listener, and a channel's
entry names the worker holding its publisher. A worker asked for a channel a sibling
holds pulls it from that sibling once over the relay link, as an edge pulls from its
origin; otherwise it asks the node directory as before.

With one worker (no ``WORKER`` place on the app) nothing here runs but the load sample.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from config.node import NodeIdentity
from signaling.nodes import RedisDirectory
from streaming.http_rules import new_session_id
from streaming.hub import MediaHub
from streaming.ports import UpstreamLocator
from web.adapters import SourcesToDirectory
from web.backends import Backends, redis_prefix
from web.keys import EVENT, METRICS, NODE, SETTINGS, WORKER, WORKER_LINKS, WORKER_LOAD
from web.upstreams import DirectoryUpstreams
from web.worker_metrics import WorkerLoad
from web.worker_place import WorkerLinks


class FirstUpstream:
    """The first locator that names an upstream: a sibling worker, then other nodes."""

    def __init__(self, *locators: UpstreamLocator | None) -> None:
        self._locators = [locator for locator in locators if locator is not None]

    async def upstream_for(self, channel: str) -> str | None:
        for locator in self._locators:
            url = await locator.upstream_for(channel)
            if url is not None:
                return url
        return None


class WorkerRole:
    """What the app's wiring asks of this worker: ids, upstreams, and the media to watch."""

    def __init__(self, app: web.Application, links: WorkerLinks, load: WorkerLoad) -> None:
        self._app = app
        self._links = links
        self._load = load
        place = app.get(WORKER)
        self.session_ids: Callable[[], str] = (
            new_session_id if place is None else place.new_session_id
        )

    def upstream(self, nodes: UpstreamLocator | None) -> UpstreamLocator | None:
        """Siblings first (when there are any), then ``nodes`` (other nodes, a chain)."""
        directory = self._links.directory
        if directory is None:
            return nodes
        return FirstUpstream(DirectoryUpstreams(directory, self._links.me), nodes)

    def attach(self, media: MediaHub) -> None:
        """The channels this worker publishes go into the workers' directory."""
        if self._links.directory is not None:
            media.add_source_listener(SourcesToDirectory(self._links.directory))
        self._load.watch(media)


@contextlib.asynccontextmanager
async def worker_parts(app: web.Application, backends: Backends) -> AsyncIterator[WorkerRole]:
    """The workers' directory (several workers only) and the load sample, until exit."""
    settings, event, node = app[SETTINGS], app[EVENT], app[NODE]
    place = app.get(WORKER)
    directory: RedisDirectory | None = None
    prefix = f"{redis_prefix(event)}:node:{node.id}:workers"
    async with contextlib.AsyncExitStack() as stack:
        if place is not None and backends.redis is not None:
            directory = RedisDirectory(
                backends.redis,
                prefix,
                NodeIdentity(id=str(place.index), region=node.region, url=place.private_url),
                tuple(channel.id for channel in event.channels),
                heartbeat=settings.node.heartbeat_seconds,
                ttl=settings.node.ttl_seconds,
            )
            await directory.start()
            stack.push_async_callback(directory.stop)
        http = None
        if place is not None:  # one worker has no sibling to send anything on to
            http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            stack.push_async_callback(http.close)
        me = "0" if place is None else str(place.index)
        app[WORKER_LINKS] = links = WorkerLinks(directory, me, http)
        load = WorkerLoad(
            me,
            backends.redis if place is not None else None,
            f"{prefix}:load",
            interval=settings.node.heartbeat_seconds,
        )
        app[METRICS].register(load)
        app[WORKER_LOAD] = load
        load.start()
        stack.push_async_callback(load.aclose)
        yield WorkerRole(app, links, load)

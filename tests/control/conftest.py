"""Fixtures for the control plane: a real redis-server, backends, apps and websocket clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from config import Event, Settings
from signaling.bus.local import LocalBus
from signaling.bus.redis import RedisBus
from signaling.hub import HubOptions
from signaling.protocol.budget import MessageRate
from signaling.store.redis import RedisEventStore
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import Backend, Node
from web.app import create_app


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """A store and a bus factory of one kind; the contract tests run against both."""
    if request.param == "sqlite":
        store = await SqliteEventStore.open(tmp_path / "store.sqlite3")
        bus = LocalBus()
        yield Backend(
            "sqlite", store, lambda: bus, lambda: SqliteEventStore.open(tmp_path / "store.sqlite3")
        )
        await bus.aclose()
        await store.aclose()
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}"
    redis = Redis.from_url(url)
    buses: list[RedisBus] = []

    def new_bus() -> RedisBus:
        bus = RedisBus(redis, f"{prefix}:bus")
        buses.append(bus)
        return bus

    async def reopen() -> RedisEventStore:
        return RedisEventStore(redis, prefix)

    yield Backend("redis", RedisEventStore(redis, prefix), new_bus, reopen)
    for bus in buses:
        await bus.aclose()
    await redis.aclose()


@pytest.fixture
def hub_options() -> HubOptions:
    # Shrunk timers and generous limits; rate-limit tests set their own.
    return HubOptions(
        heartbeat=5.0,
        presence_interval=0.05,
        presence_refresh=1.0,
        messages=MessageRate(burst=100_000, per_second=100_000.0),
    )


@pytest.fixture
def control_app(
    settings: Settings, reference_event: Event, hub_options: HubOptions
) -> web.Application:
    return create_app(settings, reference_event, hub_options)


@pytest.fixture
async def node(control_app: web.Application) -> AsyncIterator[Node]:
    async with TestClient(TestServer(control_app, host="127.0.0.1", port=0)) as test_client:
        yield Node(test_client)

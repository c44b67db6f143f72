"""``open_backends``: the one place the app and the CLI get their store, bus and secret."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from config import Event, Settings
from signaling.auth import Grant, Role
from signaling.bus.local import LocalBus
from signaling.bus.redis import RedisBus
from signaling.store.redis import RedisEventStore
from signaling.store.sqlite import SqliteEventStore
from web.backends import (
    NoServerHere,
    open_backends,
    open_existing_store,
    secret_key,
    store_exists,
)


async def test_embedded_default_keeps_store_and_secret_in_the_data_dir(
    tmp_path: Path, reference_event: Event
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert not store_exists(settings)
    grant = Grant("d", Role.DIRECTOR)
    async with open_backends(settings, reference_event) as backends:
        assert isinstance(backends.store, SqliteEventStore)
        assert isinstance(backends.bus, LocalBus)
        assert backends.redis is None
        assert await backends.store.append("room", 0, "first") == 1
        token = backends.authority.mint(grant, ttl=60)
    assert store_exists(settings)
    # Opened again (a restart, or the CLI beside the server): same store, same secret.
    async with open_backends(settings, reference_event) as backends:
        assert await backends.store.read("room") == [(1, "first")]
        assert backends.authority.verify(token) == grant


async def test_nodes_on_one_redis_share_store_and_secret(
    tmp_path: Path, reference_event: Event, redis_url: str
) -> None:
    first = Settings(data_dir=tmp_path / "first", redis_url=redis_url)
    second = Settings(data_dir=tmp_path / "second", redis_url=redis_url)
    assert store_exists(first)  # on Redis there is always somewhere to read
    room = f"backends-{uuid.uuid4().hex}"
    grant = Grant("d", Role.DIRECTOR)
    async with (
        open_backends(first, reference_event) as one,
        open_backends(second, reference_event) as other,
    ):
        assert isinstance(one.store, RedisEventStore)
        assert isinstance(one.bus, RedisBus)
        assert one.redis is not None
        assert await one.store.append(room, 0, "from the first node") == 1
        assert await other.store.read(room) == [(1, "from the first node")]
        # Different data dirs, different local secrets: Redis decides which one signs.
        assert other.authority.verify(one.authority.mint(grant, ttl=60)) == grant
    assert not (tmp_path / "first" / "venuebridge.sqlite3").exists()


async def test_the_cli_side_creates_nothing_where_no_server_ran(
    tmp_path: Path, reference_event: Event
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with pytest.raises(NoServerHere, match=r"no signing key \(signing.key\) in .*data") as refused:
        async with open_backends(settings, reference_event, existing_only=True):
            pass
    assert "--data-dir DIR or VENUEBRIDGE_DATA_DIR" in str(refused.value)
    with pytest.raises(NoServerHere, match="store"):
        async with open_existing_store(settings, reference_event):
            pass
    assert not settings.data_dir.exists()
    # Once the server has run, the same calls find its key and store.
    async with open_backends(settings, reference_event) as server:
        token = server.authority.mint(Grant("d", Role.DIRECTOR), ttl=60)
    async with open_backends(settings, reference_event, existing_only=True) as cli:
        assert cli.authority.verify(token).identity == "d"


async def test_the_cli_side_neither_sets_nor_needs_a_local_key_on_redis(
    tmp_path: Path, reference_event: Event, redis_url: str
) -> None:
    event = dataclasses.replace(reference_event, id=f"cli{uuid.uuid4().hex[:12]}")
    cli = Settings(data_dir=tmp_path / "cli", redis_url=redis_url)
    with pytest.raises(NoServerHere, match=f"no server of event '{event.id}'"):
        async with open_backends(cli, event, existing_only=True):
            pass
    redis = Redis.from_url(redis_url)
    try:
        assert await redis.exists(secret_key(event)) == 0
        server = Settings(data_dir=tmp_path / "server", redis_url=redis_url)
        async with open_backends(server, event) as backends:
            token = backends.authority.mint(Grant("d", Role.DIRECTOR), ttl=60)
        assert await redis.exists(secret_key(event)) == 1
    finally:
        await redis.aclose()
    async with open_backends(cli, event, existing_only=True) as backends:
        assert backends.authority.verify(token).identity == "d"
    assert not cli.data_dir.exists()  # the key on Redis was enough

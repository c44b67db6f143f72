"""The node directory on a real redis-server, driven directly (no media)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable

import pytest
from redis.asyncio import Redis

from config.node import NodeIdentity
from signaling.nodes import LocalDirectory, RedisDirectory
from tests.helpers import eventually
from web.upstreams import DirectoryUpstreams

CHANNELS = ("gz-hall-1", "gz-hall-2", "gz-stage")
# Short enough for a quick test, long enough that a loaded machine does not miss a TTL.
HEARTBEAT, TTL = 0.2, 1.5


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"venuebridge:dir-{secrets.token_hex(4)}"


def directory(redis: Redis, prefix: str, node: str, region: str = "") -> RedisDirectory:
    identity = NodeIdentity(node, region, f"http://{node}.test:8080")
    return RedisDirectory(redis, prefix, identity, CHANNELS, heartbeat=HEARTBEAT, ttl=TTL)


async def holders(d: RedisDirectory) -> dict[str, tuple[str, ...]]:
    return {n.id: n.channels for n in await d.nodes()}


async def test_nodes_register_with_region_url_and_a_fresh_heartbeat(
    redis: Redis, prefix: str
) -> None:
    a, b = directory(redis, prefix, "origin", "cn"), directory(redis, prefix, "edge-eu", "eu")
    await a.start()
    await b.start()
    try:
        await asyncio.sleep(3 * HEARTBEAT)
        listed = await b.nodes()
        assert [(n.id, n.region, n.url) for n in listed] == [
            ("edge-eu", "eu", "http://edge-eu.test:8080"),
            ("origin", "cn", "http://origin.test:8080"),
        ]
        # The age comes from Redis's countdown: never more than a beat and some slack.
        assert all(0 <= n.age <= TTL for n in listed)
        assert await a.node("nobody") is None
    finally:
        await a.stop()
        await b.stop()
    # Stopping takes a node out at once, without waiting for the TTL.
    assert await redis.exists(f"{prefix}:node:origin", f"{prefix}:node:edge-eu") == 0


async def test_a_node_that_stops_heartbeating_is_gone_after_its_ttl(
    redis: Redis, prefix: str
) -> None:
    a, b = directory(redis, prefix, "origin"), directory(redis, prefix, "edge")
    await a.start()
    await b.start()
    try:
        b.channel_live("gz-hall-2")
        await eventually(
            lambda: _is(holders(a), {"origin": (), "edge": ("gz-hall-2",)}), "b's claim"
        )
        # b dies: its heartbeat task stops without leaving the directory (as a crash).
        assert b._task is not None
        b._task.cancel()
        await asyncio.sleep(HEARTBEAT)
        assert "edge" in await holders(a)  # still there within its TTL
        await eventually(lambda: _is(holders(a), {"origin": ()}), "b to expire", TTL + 2)
        assert await a.owner("gz-hall-2") is None  # its channel went with it
    finally:
        await a.stop()


async def _is(got: Awaitable[object], expected: object) -> bool:
    return await got == expected


async def test_channels_are_claimed_on_live_and_released_on_gone(redis: Redis, prefix: str) -> None:
    a = directory(redis, prefix, "origin")
    await a.start()
    try:
        a.channel_live("gz-hall-1")
        await eventually(lambda: _is(a.owner("gz-hall-1"), "origin"), "the claim")
        # The claim lives with the heartbeat, not longer: refreshed past several TTLs.
        await asyncio.sleep(2 * TTL)
        assert await a.owner("gz-hall-1") == "origin"
        a.channel_gone("gz-hall-1")
        await eventually(lambda: _is(a.owner("gz-hall-1"), None), "the release")
    finally:
        await a.stop()


async def test_the_newest_publisher_wins_and_the_other_never_removes_its_entry(
    redis: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = directory(redis, prefix, "origin"), directory(redis, prefix, "edge")
    await a.start()
    await b.start()
    try:
        a.channel_live("gz-hall-1")
        await eventually(lambda: _is(b.owner("gz-hall-1"), "origin"), "a's claim")
        with caplog.at_level(logging.WARNING, logger="signaling.nodes.redis"):
            b.channel_live("gz-hall-1")
            await eventually(lambda: _is(a.owner("gz-hall-1"), "edge"), "b takes over")
        assert any("was held by node origin" in r.getMessage() for r in caplog.records)
        # a's heartbeat does not take it back while b holds it...
        await asyncio.sleep(3 * HEARTBEAT)
        assert await a.owner("gz-hall-1") == "edge"
        # ...and a's publisher going away does not remove b's entry.
        a.channel_gone("gz-hall-1")
        await asyncio.sleep(3 * HEARTBEAT)
        assert await a.owner("gz-hall-1") == "edge"
        assert await holders(a) == {"origin": (), "edge": ("gz-hall-1",)}
    finally:
        await a.stop()
        await b.stop()


async def test_a_still_live_publisher_reclaims_when_the_winner_leaves(
    redis: Redis, prefix: str
) -> None:
    a, b = directory(redis, prefix, "origin"), directory(redis, prefix, "edge")
    await a.start()
    await b.start()
    try:
        a.channel_live("gz-stage")
        await eventually(lambda: _is(a.owner("gz-stage"), "origin"), "a's claim")
        b.channel_live("gz-stage")
        await eventually(lambda: _is(a.owner("gz-stage"), "edge"), "b's claim")
        b.channel_gone("gz-stage")
        # a still has a live publisher: its next heartbeat re-creates the entry.
        await eventually(lambda: _is(b.owner("gz-stage"), "origin"), "a's claim again")
    finally:
        await a.stop()
        await b.stop()


async def test_entries_lost_from_redis_come_back_on_the_next_heartbeat(
    redis: Redis, prefix: str
) -> None:
    a = directory(redis, prefix, "origin")
    await a.start()
    try:
        a.channel_live("gz-hall-1")
        await eventually(lambda: _is(a.owner("gz-hall-1"), "origin"), "the claim")
        # What a Redis that restarted empty looks like to the directory.
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        await redis.delete(*keys)
        assert await a.nodes() == []
        await eventually(
            lambda: _is(holders(a), {"origin": ("gz-hall-1",)}), "re-registered", 3 * HEARTBEAT + 2
        )
    finally:
        await a.stop()


async def test_a_heartbeat_against_a_dead_redis_is_logged_once_and_retried(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.media_peers import free_port

    nowhere = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    d = directory(nowhere, prefix, "origin")
    try:
        with caplog.at_level(logging.WARNING, logger="signaling.nodes.redis"):
            await d.start()  # does not raise: the heartbeat keeps trying
            d.channel_live("gz-hall-1")
            await asyncio.sleep(5 * HEARTBEAT)
        failures = [r for r in caplog.records if "heartbeat failed" in r.getMessage()]
        assert len(failures) == 1
        assert d._claims.fresh == {"gz-hall-1"}  # kept for when Redis answers
    finally:
        await d.stop()
        await nowhere.aclose()


async def test_the_upstream_is_the_holders_url_unless_it_is_this_node(
    redis: Redis, prefix: str
) -> None:
    a, b = directory(redis, prefix, "origin"), directory(redis, prefix, "edge")
    await a.start()
    await b.start()
    try:
        a.channel_live("gz-hall-1")
        b.channel_live("gz-hall-2")
        await eventually(lambda: _is(a.owner("gz-hall-2"), "edge"), "b's claim")
        await eventually(lambda: _is(b.owner("gz-hall-1"), "origin"), "a's claim")
        on_edge = DirectoryUpstreams(b, "edge")
        assert await on_edge.upstream_for("gz-hall-1") == "http://origin.test:8080"
        assert await on_edge.upstream_for("gz-hall-2") is None  # held here
        assert await on_edge.upstream_for("gz-stage") is None  # held nowhere
    finally:
        await b.stop()
        # The holder's node entry is gone (stopped) though its claim may linger: no URL.
        assert await redis.set(f"{prefix}:channel:gz-hall-2", "edge", px=10_000)
        assert await DirectoryUpstreams(a, "origin").upstream_for("gz-hall-2") is None
        await a.stop()


async def test_the_local_directory_holds_just_this_node() -> None:
    local = LocalDirectory(NodeIdentity("solo", "cn", None))
    local.channel_live("gz-hall-1")
    local.channel_live("gz-stage")
    local.channel_gone("gz-stage")
    [me] = await local.nodes()
    assert (me.id, me.region, me.url, me.channels) == ("solo", "cn", None, ("gz-hall-1",))
    assert await local.owner("gz-hall-1") == "solo"
    assert await local.owner("gz-stage") is None
    assert await DirectoryUpstreams(local, "solo").upstream_for("gz-hall-1") is None

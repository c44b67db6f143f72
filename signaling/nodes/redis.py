"""The node directory on the Redis every node shares: entries that expire by themselves.

Keys, under the event's prefix:
- ``node:<id>``: this node's id, region, URL and TTL (JSON), written every heartbeat
  with an expiry of ``ttl``; a node that stops heartbeating drops out on its own.
- ``nodes``: the set of ids ever registered; an id whose ``node:`` key expired is pruned
  by the next reader.
- ``channel:<id>``: the node holding the channel's live publisher, with the same expiry,
  refreshed by the holder's heartbeat, so a dead node's channels go with it.

A node's age is read from Redis's own countdown (``ttl - PTTL``): one clock for every
node, so skewed node clocks do not make a live node look stale.

Two publishers of one channel on two nodes: the newest live one wins. Its claim replaces
the entry (with a warning in the log); the other node's heartbeat only refreshes an entry
that is its own, or re-creates a missing one (Redis restarted, or the winner's publisher
went away while this one is still live). No consensus protocol: Redis decides each write
atomically, and every entry expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.node import NodeIdentity
from signaling.nodes.directory import ChannelClaims, DirectoryUnavailable, NodeEntry

logger = logging.getLogger(__name__)

# Claim on going live: write, and return the holder it replaced.
_CLAIM = """
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return old
"""
# The heartbeat's refresh: extend our own entry, re-create a missing one, leave another's.
_REFRESH = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Release: remove the entry only while it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


# A read waits this long for Redis before the caller is told to try again.
READ_TIMEOUT = 2.0


@asynccontextmanager
async def _reading() -> AsyncIterator[None]:
    """Redis errors and hangs while reading, as ``DirectoryUnavailable``."""
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            yield
    except (RedisError, OSError, TimeoutError) as error:
        raise DirectoryUnavailable(f"the node directory is unavailable ({error})") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisDirectory:
    """``Directory`` on Redis; ``start``/``stop`` own the heartbeat task."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        identity: NodeIdentity,
        channels: tuple[str, ...],
        *,
        heartbeat: float,
        ttl: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._identity = identity
        self._channels = channels  # the event's channels: the ones a node may hold
        self._heartbeat = heartbeat
        self._ttl_ms = int(ttl * 1000)
        self._now = now
        self._claims = ChannelClaims()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._stopping = False
        self._claim: Any = redis.register_script(_CLAIM)
        self._refresh: Any = redis.register_script(_REFRESH)
        self._release: Any = redis.register_script(_RELEASE)

    def _node_key(self, node_id: str) -> str:
        return f"{self._prefix}:node:{node_id}"

    def _channel_key(self, channel: str) -> str:
        return f"{self._prefix}:channel:{channel}"

    @property
    def _index(self) -> str:
        return f"{self._prefix}:nodes"

    # --- what the media plane tells us (synchronous: the packet path never waits) ---

    def channel_live(self, channel: str) -> None:
        self._claims.live(channel)
        self._wake.set()

    def channel_gone(self, channel: str) -> None:
        self._claims.gone(channel)
        self._wake.set()

    # --- the heartbeat ---

    async def start(self) -> None:
        """Register now (a Redis that is down is retried by the heartbeat), then beat."""
        await self._beat_logged()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="node-heartbeat")

    async def stop(self) -> None:
        """Stop beating and take this node and its channels out of the directory."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            # Not ``await task``: a cancellation swallowed inside the Redis client would
            # leave it running; the flag ends the loop, and this wait is bounded anyway.
            done, _ = await asyncio.wait({task}, timeout=self._ttl_ms / 1000 + 1)
            if not done:
                logger.warning("the node heartbeat did not stop in time; left behind")
            elif not task.cancelled() and task.exception() is not None:
                logger.warning("the node heartbeat had failed: %s", task.exception())
        held = self._claims.held | self._claims.fresh
        try:
            async with asyncio.timeout(2.0):
                for channel in held:
                    await self._release(keys=[self._channel_key(channel)], args=[self._me])
                await self._redis.delete(self._node_key(self._me))
                await self._redis.srem(self._index, self._me)
        except Exception as error:
            # Without Redis the entries expire after the TTL anyway.
            logger.warning("could not leave the node directory (%s); entries will expire", error)

    @property
    def _me(self) -> str:
        return self._identity.id

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._heartbeat):
                    await self._wake.wait()
            self._wake.clear()
            if not self._stopping:
                await self._beat_logged()

    async def _beat_logged(self) -> None:
        try:
            # A Redis that hangs must not stall the heartbeat past the entries' expiry.
            async with asyncio.timeout(self._ttl_ms / 1000):
                await self._beat()
        except Exception as error:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            if not self._failing:
                logger.warning("node heartbeat failed (%s); retrying every beat", error)
            self._failing = True
            return
        if self._failing:
            logger.info("node heartbeat written again: node %s is back in the directory", self._me)
        self._failing = False

    async def _beat(self) -> None:
        me = self._identity
        record = json.dumps({"id": me.id, "region": me.region, "url": me.url, "ttl": self._ttl_ms})
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._node_key(me.id), record, px=self._ttl_ms)
            pipe.sadd(self._index, me.id)
            await pipe.execute()
        fresh, released = self._claims.take()
        try:
            for channel in released:
                await self._release(keys=[self._channel_key(channel)], args=[me.id])
            for channel in fresh:
                old = _text(
                    await self._claim(keys=[self._channel_key(channel)], args=[me.id, self._ttl_ms])
                )
                if old is not None and old != me.id:
                    logger.warning(
                        "channel %s was held by node %s; this node's newer publisher takes it",
                        channel,
                        old,
                    )
            for channel in self._claims.held - fresh:
                await self._refresh(keys=[self._channel_key(channel)], args=[me.id, self._ttl_ms])
        except BaseException:
            self._claims.give_back(fresh, released)
            raise

    # --- reading ---

    async def _entries(self, ids: list[str]) -> dict[str, tuple[dict[str, Any], int]]:
        """The records of ``ids`` whose keys are still there, with their remaining ms."""
        if not ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for node_id in ids:
                pipe.get(self._node_key(node_id))
                pipe.pttl(self._node_key(node_id))
            replies = await pipe.execute()
        found: dict[str, tuple[dict[str, Any], int]] = {}
        for index, node_id in enumerate(ids):
            raw, remaining = _text(replies[2 * index]), int(replies[2 * index + 1])
            if raw is None or remaining < 0:
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                logger.warning("node %s has an unreadable directory entry; skipped", node_id)
                continue
            if isinstance(record, dict):
                found[node_id] = (record, remaining)
        return found

    def _entry(
        self, node_id: str, record: dict[str, Any], remaining: int, holders: dict[str, list[str]]
    ) -> NodeEntry:
        ttl = record.get("ttl")
        age = max(0.0, (int(ttl) - remaining) / 1000) if isinstance(ttl, int) else 0.0
        url = record.get("url")
        return NodeEntry(
            id=node_id,
            region=str(record.get("region", "")),
            url=url if isinstance(url, str) else None,
            heartbeat=self._now() - timedelta(seconds=age),
            age=round(age, 3),
            channels=tuple(sorted(holders.get(node_id, []))),
        )

    async def _holders(self) -> dict[str, list[str]]:
        if not self._channels:
            return {}
        values = await self._redis.mget([self._channel_key(c) for c in self._channels])
        holders: dict[str, list[str]] = {}
        for channel, value in zip(self._channels, values, strict=True):
            holder = _text(value)
            if holder is not None:
                holders.setdefault(holder, []).append(channel)
        return holders

    async def nodes(self) -> list[NodeEntry]:
        async with _reading():
            members = await self._redis.smembers(self._index)
            ids = sorted(t for t in (_text(v) for v in members) if t)
            entries = await self._entries(ids)
            gone = [node_id for node_id in ids if node_id not in entries]
            if gone:
                await self._redis.srem(self._index, *gone)
            holders = await self._holders()
        return [self._entry(i, *entries[i], holders) for i in ids if i in entries]

    async def node(self, node_id: str) -> NodeEntry | None:
        async with _reading():
            entries = await self._entries([node_id])
            if node_id not in entries:
                return None
            holders = await self._holders()
        return self._entry(node_id, *entries[node_id], holders)

    async def owner(self, channel: str) -> str | None:
        async with _reading():
            return _text(await self._redis.get(self._channel_key(channel)))

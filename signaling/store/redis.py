"""The shared store for several nodes: one Redis list per room, appended by a Lua script.

The script compares the list's length with the caller's last event number and appends
only if they match, atomically, so two nodes cannot both write event N.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

_APPEND = """
local length = redis.call('LLEN', KEYS[1])
if length ~= tonumber(ARGV[1]) then return -1 end
redis.call('RPUSH', KEYS[1], ARGV[2])
return length + 1
"""


class RedisEventStore:
    """``EventStore`` on Redis; ``prefix`` keeps one event's keys apart from another's."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script: Any = redis.register_script(_APPEND)

    def _key(self, room: str) -> str:
        return f"{self._prefix}:room:{room}"

    async def append(self, room: str, expected_seq: int, event: str) -> int | None:
        result = int(await self._script(keys=[self._key(room)], args=[expected_seq, event]))
        return None if result < 0 else result

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]:
        items = await self._redis.lrange(self._key(room), after, -1)
        return [
            (after + index + 1, item.decode() if isinstance(item, bytes) else item)
            for index, item in enumerate(items)
        ]

    async def last_seq(self, room: str) -> int:
        return int(await self._redis.llen(self._key(room)))

    async def put_value(self, key: str, value: str) -> None:
        await self._redis.set(f"{self._prefix}:value:{key}", value)

    async def get_value(self, key: str) -> str | None:
        value = await self._redis.get(f"{self._prefix}:value:{key}")
        return value.decode() if isinstance(value, bytes) else value

    async def push_recent(self, key: str, item: str, keep: int) -> None:
        name = f"{self._prefix}:recent:{key}"
        # One round trip, applied as a unit: the list never holds more than ``keep``.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(name, item)
            pipe.ltrim(name, -keep, -1)
            await pipe.execute()

    async def recent(self, key: str) -> list[str]:
        items = await self._redis.lrange(f"{self._prefix}:recent:{key}", 0, -1)
        return [item.decode() if isinstance(item, bytes) else item for item in items]

    async def aclose(self) -> None:
        """The connection belongs to whoever made it; nothing to release here."""

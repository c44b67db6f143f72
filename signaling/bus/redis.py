"""The bus between nodes: one Redis pub/sub channel per event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis


class RedisBus:
    """``Bus`` on Redis pub/sub; each subscriber holds its own subscription."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._closed = asyncio.Event()

    async def publish(self, message: str) -> None:
        await self._redis.publish(self._channel, message)

    async def subscribe(self) -> AsyncIterator[str]:
        pubsub: Any = self._redis.pubsub()
        await pubsub.subscribe(self._channel)
        # Wait for Redis to confirm: from then on nothing published is missed.
        while True:
            reply = await pubsub.get_message(timeout=5.0)
            if reply is not None and reply["type"] == "subscribe":
                break
        return self._drain(pubsub)

    async def _drain(self, pubsub: Any) -> AsyncIterator[str]:
        try:
            while not self._closed.is_set():
                # A short timeout lets ``aclose`` end the iteration without cancelling.
                reply = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if reply is not None and reply["type"] == "message":
                    data = reply["data"]
                    yield data.decode() if isinstance(data, bytes) else str(data)
        finally:
            await pubsub.aclose()

    async def aclose(self) -> None:
        self._closed.set()

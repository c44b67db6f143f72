"""The in-process bus of the embedded default: one node, no services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

_CLOSED = object()


class LocalBus:
    """``Bus`` inside one process: a queue per listener."""

    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[object]] = set()
        self._closed = False

    async def publish(self, message: str) -> None:
        for queue in self._listeners:
            queue.put_nowait(message)

    async def subscribe(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        if self._closed:
            queue.put_nowait(_CLOSED)
        self._listeners.add(queue)
        return self._drain(queue)

    async def _drain(self, queue: asyncio.Queue[object]) -> AsyncIterator[str]:
        try:
            while True:
                item = await queue.get()
                if item is _CLOSED:
                    return
                assert isinstance(item, str)
                yield item
        finally:
            self._listeners.discard(queue)

    async def aclose(self) -> None:
        self._closed = True
        for queue in self._listeners:
            queue.put_nowait(_CLOSED)

"""Bus messages about home venues: queued by synchronous callers, published by one task.

Switches and health changes are reported from the media plane's packet path, which must
never wait on the bus; a bounded queue takes them and one task publishes them in order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from config.event import Event
from signaling.bus.node import BusMessage, NodeBus
from signaling.routing.homes import BadHomeMessage, HomeMessage, parse_home_message
from signaling.tasks import cancel_and_wait

logger = logging.getLogger(__name__)
OUTBOX_LIMIT = 1024  # messages waiting for the bus; beyond this they are dropped (logged)
# A stop waits this long for the task, and as long for what is left to be published.
STOP_WAIT = 5.0


class Outbox:
    """Bus messages queued by synchronous callers, published in order by one task."""

    def __init__(self, bus: NodeBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(OUTBOX_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def put(self, kind: str, fields: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait((kind, fields))
        except asyncio.QueueFull:
            self.dropped += 1
            logger.warning("bus outbox full: %s dropped (%d so far)", kind, self.dropped)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="home-outbox")

    async def _run(self) -> None:
        while True:
            kind, fields = await self._queue.get()
            await self._bus.publish(kind, fields)  # logs its own failures

    async def drain(self) -> None:
        """Publish what is queued now (tests, and a clean stop)."""
        while not self._queue.empty():
            kind, fields = self._queue.get_nowait()
            await self._bus.publish(kind, fields)

    async def aclose(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await cancel_and_wait(task, STOP_WAIT, "the home outbox")
        try:
            async with asyncio.timeout(STOP_WAIT):
                await self.drain()
        except TimeoutError:
            logger.warning("the home outbox could not publish what was left; dropped")


def wire(struct: msgspec.Struct) -> dict[str, Any]:
    fields: dict[str, Any] = msgspec.to_builtins(struct)
    fields.pop("node", None)  # NodeBus adds the sender
    return fields


def parsed(message: BusMessage, event: Event) -> HomeMessage | None:
    try:
        return parse_home_message(message, event)
    except BadHomeMessage as error:
        # A forged or broken message: one line, then carry on.
        logger.warning("ignored a bus message from %s: %s", str(message.get("node"))[:70], error)
        return None

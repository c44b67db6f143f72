"""This node on the bus: publish by kind, hand each message to the handler of its kind.

Messages are ``{"kind": ..., "node": <sender>, "from": <instance>, ...}``. A handler says
whether it also wants its own messages back (presence does: the board counts every node
alike). "Own" means this very bus object, not this node id: the worker processes of one
node (web/workers.py) share the node's id and must hear each other.
If the subscription breaks (Redis restarted) the bus subscribes again and then calls
``on_resubscribed``, so owners of state can catch up with what they missed.

This module sits at the bottom of the control plane: it knows no hub, room or client.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from signaling.bus import Bus
from signaling.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

BusMessage = dict[str, Any]
Handler = Callable[[BusMessage], Awaitable[None] | None]

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class _Route:
    handler: Handler
    own: bool


# How long ``stop`` waits for the listener to end (a subscription read times out in 0.5 s).
STOP_WAIT = 5.0


class NodeBus:
    """One node's publisher and listener; ``start``/``stop`` own the listening task."""

    def __init__(self, bus: Bus, node: str, retry: float = 1.0) -> None:
        self.node = node
        # Tells this process's messages from its sibling workers' (same node id).
        self.instance = secrets.token_hex(6)
        self._bus = bus
        self._retry = retry
        self._routes: dict[str, _Route] = {}
        self._resubscribed: list[Callable[[], Awaitable[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def on(self, kind: str, handler: Handler, *, own: bool = False) -> None:
        """Give messages of ``kind`` to ``handler`` (this node's own too when ``own``)."""
        self._routes[kind] = _Route(handler, own)

    def on_resubscribed(self, catch_up: Callable[[], Awaitable[None]]) -> None:
        """Run ``catch_up`` after a lost subscription was made again."""
        self._resubscribed.append(catch_up)

    async def publish(self, kind: str, fields: BusMessage) -> None:
        """Send one message to every node; a failure is logged, never raised."""
        try:
            await self._bus.publish(
                _encoder.encode(
                    {"kind": kind, "node": self.node, "from": self.instance, **fields}
                ).decode()
            )
        except Exception:
            # redis-py may turn a cancellation into a connection error: never swallow that.
            reraise_if_cancelling()
            # The store has any event; other nodes catch up on their next read.
            logger.exception("bus publish failed")

    async def start(self) -> None:
        messages = await self._bus.subscribe()
        self._task = asyncio.create_task(self._listen(messages), name="hub-bus")

    async def stop(self) -> None:
        self._stopping = True
        await self._bus.aclose()
        if self._task is not None:
            task, self._task = self._task, None
            # The closed bus and the flag end the loop even if Redis swallowed the cancel.
            await cancel_and_wait(task, STOP_WAIT, "the bus listener")

    async def _listen(self, messages: AsyncIterator[str]) -> None:
        while True:
            try:
                async for raw in messages:
                    try:
                        await self._dispatch(msgspec.json.decode(raw))
                    except Exception:
                        reraise_if_cancelling()
                        logger.exception("bad bus message")
                return  # the bus was closed: we are stopping
            except Exception as error:
                reraise_if_cancelling()
                # Redis went away: expected on an event day, so one line, no traceback.
                logger.warning("bus subscription lost (%s); subscribing again", error)
            resubscribed = await self._subscribe_again()
            if resubscribed is None:
                return
            messages = resubscribed

    async def _subscribe_again(self) -> AsyncIterator[str] | None:
        while not self._stopping:
            await asyncio.sleep(self._retry)
            try:
                messages = await self._bus.subscribe()
                for catch_up in self._resubscribed:
                    await catch_up()
                return messages
            except Exception as error:
                reraise_if_cancelling()
                logger.warning("bus still unavailable (%s); retrying", error)
        return None

    async def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise ValueError("a bus message is a JSON object")
        route = self._routes.get(str(message.get("kind")))
        sender = message.get("from")
        mine = sender == self.instance if sender is not None else message.get("node") == self.node
        if route is None or (mine and not route.own):
            return
        outcome = route.handler(message)
        if outcome is not None:
            await outcome


def reraise_if_cancelling() -> None:
    """Inside ``except Exception``: re-raise when the task is being cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError

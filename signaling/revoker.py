"""Keeps one node's revocation set in step with the store and closes revoked websockets.

Revocations spread two ways: the node that takes one (the admin API) applies it at once
and nudges the others over the bus; every node also re-reads the list every ``refresh``
seconds, which is how a revocation written by the CLI (or missed on the bus) arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from signaling.auth.revocation import Revocation, RevocationLog, Revocations
from signaling.bus.node import BusMessage, NodeBus, reraise_if_cancelling
from signaling.registry import ClientRegistry

logger = logging.getLogger(__name__)
# ``Client.drop`` reasons starting with this close the socket with 4401 (web/ws.py).
REVOKED = "revoked: the token was revoked"


class Revoker:
    """Applies revocations on this node; ``start``/``stop`` own the refresh task."""

    def __init__(
        self,
        log: RevocationLog,
        revocations: Revocations,
        clients: ClientRegistry,
        bus: NodeBus,
        refresh: float,
    ) -> None:
        self._log = log
        self._revocations = revocations
        self._clients = clients
        self._bus = bus
        self._refresh = refresh
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], object]] = []
        bus.on("revoked", self._heard)

    def add_listener(self, listener: Callable[[], object]) -> None:
        """Called each time new revocations were applied here (the media plane ends the
        sessions their tokens opened)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Load the list once (before serving), then keep re-reading it."""
        await self.catch_up()
        self._task = asyncio.create_task(self._refresh_loop(), name="revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def revoke(self, entry: Revocation) -> int:
        """Record ``entry``, apply it here, tell the other nodes; websockets closed here."""
        await self._log.add(entry)
        closed = await self.catch_up()
        await self._bus.publish("revoked", {})
        logger.warning("revoked %s (by %s)", entry.describe(), entry.by)
        return closed

    async def catch_up(self) -> int:
        """Fold in entries not seen yet; close the sockets they revoke. Returns how many."""
        async with self._lock:  # the timer, the bus and the API may all ask at once
            entries = await self._log.read_new()
        if not entries:
            return 0
        for entry in entries:
            self._revocations.add(entry)
        for listener in self._listeners:
            listener()
        closed = 0
        for client in self._clients.everyone():
            if not client.dropped and self._revocations.revokes(client.grant):
                client.drop(REVOKED)
                closed += 1
        return closed

    async def _heard(self, message: BusMessage) -> None:
        await self.catch_up()

    async def _refresh_loop(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.catch_up()
            except Exception as error:
                reraise_if_cancelling()
                # A store hiccup must not end the loop; the next round tries again. One
                # line when it starts failing, not a traceback every round.
                if not failing:
                    logger.warning("could not re-read the revocation list: %s", error)
                failing = True
            else:
                if failing:
                    logger.info("the revocation list can be read again")
                failing = False

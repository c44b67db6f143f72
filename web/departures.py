"""Ends the relay pulls of nodes that left the directory (killed, or cut off); keeps the
other nodes' origins (``PeerOrigins``, for the pages' CSP) current from the same reading.

A pull from a node that died holds a WHEP session here until ICE notices (about 30 s of
failed consent checks in aioice). The directory knows sooner: once the node has been
gone for its TTL (``signaling/nodes/departures.py``), the sessions opened with its relay
token end here, so ``/api/streams`` shows one pull per live node and the capacity is free.
"""

from __future__ import annotations

import asyncio
import logging
import time

from signaling.auth import Role, TokenAuthority
from signaling.auth.relay_token import relay_identity
from signaling.nodes import Directory, DirectoryUnavailable
from signaling.nodes.departures import Departures
from signaling.tasks import cancel_and_wait
from streaming.hub import MediaHub
from web.peers import PeerOrigins

logger = logging.getLogger(__name__)

# How long stopping waits for the background task (see signaling/tasks.py).
STOP_WAIT = 5.0


class DepartedPulls:
    """Owns the task that reads the directory each heartbeat and ends departed pulls."""

    def __init__(
        self,
        directory: Directory,
        media: MediaHub,
        authority: TokenAuthority,
        me: str,
        *,
        interval: float,
        ttl: float,
        peers: PeerOrigins | None = None,
    ) -> None:
        self._directory = directory
        self._media = media
        self._authority = authority
        self._departures = Departures(me, ttl)
        self._interval = interval
        self._peers = peers
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="departed-pulls")

    async def aclose(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await cancel_and_wait(task, STOP_WAIT, "the departed-pulls watch")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                nodes = await self._directory.nodes()
            except DirectoryUnavailable:
                continue  # no listing: nobody counts as gone
            if self._peers is not None:
                self._peers.update(nodes)
            gone = self._departures.seen((n.id for n in nodes), time.monotonic())
            if gone:
                self.end_pulls_of(gone)

    def end_pulls_of(self, gone: set[str]) -> int:
        """End the sessions opened here with the relay token of a node in ``gone``."""
        identities = {relay_identity(node_id) for node_id in gone}

        def departed(token: str) -> bool:
            grant = self._authority.holder(token)
            return grant is not None and grant.role is Role.RELAY and grant.identity in identities

        ended = self._media.end_opened_with(departed, "its node left the directory")
        level = logging.WARNING if ended else logging.INFO
        logger.log(level, "node(s) %s left the directory; %d pull(s) ended", sorted(gone), ended)
        return ended

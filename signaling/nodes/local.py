"""The directory of the embedded default: one node, this one, kept in process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from config.node import NodeIdentity
from signaling.nodes.directory import ChannelClaims, NodeEntry


class LocalDirectory:
    """``Directory`` without Redis: there are no other nodes to tell.

    The node is up while it answers, so its heartbeat is "now" and its age zero.
    """

    def __init__(
        self, identity: NodeIdentity, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._identity = identity
        self._now = now
        self._claims = ChannelClaims()

    def channel_live(self, channel: str) -> None:
        self._claims.live(channel)
        self._claims.take()

    def channel_gone(self, channel: str) -> None:
        self._claims.gone(channel)
        self._claims.take()

    def _entry(self) -> NodeEntry:
        me = self._identity
        held = tuple(sorted(self._claims.held))
        return NodeEntry(me.id, me.region, me.url, self._now(), 0.0, held)

    async def nodes(self) -> list[NodeEntry]:
        return [self._entry()]

    async def node(self, node_id: str) -> NodeEntry | None:
        return self._entry() if node_id == self._identity.id else None

    async def owner(self, channel: str) -> str | None:
        return self._identity.id if channel in self._claims.held else None

    async def start(self) -> None:
        """Nothing runs in the background here."""

    async def stop(self) -> None:
        """Nothing to take down."""

"""What a node directory answers, and the channels this node claims in it.

The media plane says when a channel's publisher goes live here or goes away (through an
adapter in ``web``); the directory turns that into "channel -> node" entries other nodes
read to find a channel's publisher. Notes arrive on the packet path, so they are plain
method calls that only change ``ChannelClaims``; the directory writes them out later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class DirectoryUnavailable(Exception):
    """The directory could not be read (Redis is down or not answering): try again soon."""


@dataclass(frozen=True, slots=True)
class NodeEntry:
    """A node as the directory shows it: ``age`` is seconds since its last heartbeat."""

    id: str
    region: str
    url: str | None
    heartbeat: datetime  # UTC
    age: float
    channels: tuple[str, ...]


class Directory(Protocol):
    """The nodes that are up and the node holding each live channel's publisher.

    The reading methods raise ``DirectoryUnavailable`` when the shared store cannot answer.
    """

    def channel_live(self, channel: str) -> None:
        """This node's publisher of ``channel`` is live: claim the channel."""
        ...

    def channel_gone(self, channel: str) -> None:
        """This node's publisher of ``channel`` is lost or ended: drop the claim if ours."""
        ...

    async def nodes(self) -> list[NodeEntry]:
        """Every node with a current heartbeat, by id, with the channels each holds."""
        ...

    async def node(self, node_id: str) -> NodeEntry | None:
        """One node, or None when it is not up (never registered, or its entry expired)."""
        ...

    async def owner(self, channel: str) -> str | None:
        """The id of the node holding ``channel``'s live publisher, or None."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ChannelClaims:
    """The channels this node holds, and the changes not yet written to the directory.

    ``fresh`` went live since the last write (a claim that replaces another node's);
    ``released`` went away (removed only where the entry is still this node's).
    """

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.fresh: set[str] = set()
        self.released: set[str] = set()

    def live(self, channel: str) -> None:
        self.held.add(channel)
        self.fresh.add(channel)
        self.released.discard(channel)

    def gone(self, channel: str) -> None:
        if channel not in self.held and channel not in self.fresh:
            return  # never claimed here: nothing to release
        self.held.discard(channel)
        self.fresh.discard(channel)
        self.released.add(channel)

    def take(self) -> tuple[set[str], set[str]]:
        """The pending changes, handed to one write; ``give_back`` if it fails."""
        fresh, released = self.fresh, self.released
        self.fresh, self.released = set(), set()
        return fresh, released

    def give_back(self, fresh: set[str], released: set[str]) -> None:
        """A failed write: keep what still applies for the next attempt."""
        self.fresh |= {c for c in fresh if c in self.held}
        self.released |= {c for c in released if c not in self.held}

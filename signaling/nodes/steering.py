"""Which node should answer a WHIP/WHEP request: pure decisions, no I/O.

A venue's output and its return feed live on the venue's home node. A channel's viewers
are spread over the live nodes of the region they ask for (``?region=``; there is no
GeoIP guess), by rendezvous hashing of the client's address: the same client lands on
the same node while the region's nodes stay the same, clients spread evenly, and when a
node dies only its own clients move. The answer is None whenever this node should serve
the request itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from config import ChannelKind, Event
from signaling.nodes.directory import NodeEntry
from signaling.routing.homes import HomeBook


def home_node_of(event: Event, venue: str, homes: HomeBook | None = None) -> str | None:
    """The id of the node where ``venue``'s output and return feed are served, if set.

    ``homes`` (the routing's ``HomeBook``: nodes' ``node.venues`` settings over the
    event file) when this node keeps one; else the event file's ``home_node``.
    """
    if homes is not None:
        return homes.home(venue)
    found = event.venue(venue)
    return found.home_node if found is not None else None


def venue_of_return_feed(event: Event, channel: str) -> str | None:
    """The venue whose return feed ``channel`` is; None for programme channels."""
    found = event.channel(channel)
    if found is None or found.kind is not ChannelKind.RETURN:
        return None
    return found.venue


def to_home_node(home: str | None, me: str, node: NodeEntry | None) -> NodeEntry | None:
    """The home node to redirect to: set, not this node, up, and with a public URL."""
    if home is None or home == me or node is None or node.id != home or node.url is None:
        return None
    return node


def _weight(node_id: str, key: str) -> bytes:
    return hashlib.sha256(f"{node_id}\n{key}".encode()).digest()


def in_region(
    nodes: Sequence[NodeEntry], region: str, my_region: str, me: str, key: str
) -> NodeEntry | None:
    """The node of ``region`` for the client ``key`` (its address); None: serve here.

    This node serves when it is in that region itself, and when no node of the region
    is up with a public URL.
    """
    if not region or region == my_region:
        return None
    candidates = [n for n in nodes if n.region == region and n.url is not None and n.id != me]
    if not candidates:
        return None
    return max(candidates, key=lambda n: _weight(n.id, key))

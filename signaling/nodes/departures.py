"""Which nodes have left the directory for good: a pure fold over successive listings.

A node is gone when it has been missing from every listing for at least ``ttl`` seconds
while this node itself was listed. Its own presence shows the listing is trustworthy (a
Redis that restarted empty lists nobody, this node included, until the heartbeats write
the entries again), and a live node heartbeats more often than ``ttl``, so one missing
from listings that long is not coming back under that registration.
"""

from __future__ import annotations

from collections.abc import Iterable


class Departures:
    """Feed it every listing (``seen``); it answers the ids that have just left."""

    def __init__(self, me: str, ttl: float) -> None:
        self._me = me
        self._ttl = ttl
        self._known: set[str] = set()
        self._missing_since: dict[str, float] = {}

    def seen(self, ids: Iterable[str], now: float) -> set[str]:
        """One listing at ``now``; the nodes that count as gone from it (each reported once)."""
        listed = set(ids)
        if self._me not in listed:
            self._missing_since.clear()  # an untrustworthy listing: start counting afresh
            return set()
        self._known |= listed - {self._me}
        for node_id in listed:
            self._missing_since.pop(node_id, None)
        gone: set[str] = set()
        for node_id in self._known - listed:
            since = self._missing_since.setdefault(node_id, now)
            if now - since >= self._ttl:
                gone.add(node_id)
        self._known -= gone
        for node_id in gone:
            del self._missing_since[node_id]
        return gone

"""Presence: who is connected, counted per node and summed over nodes. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from signaling.auth.grants import Role
from signaling.clients import Client


@dataclass(frozen=True, slots=True)
class Counts:
    """Viewers per channel and venue, operators per venue, moderators per room."""

    viewers_by_channel: dict[str, int]
    viewers_by_venue: dict[str, int]
    operators_by_venue: dict[str, int]
    moderators_by_room: dict[str, int]
    connections: int

    def as_json(self) -> dict[str, object]:
        return {
            "viewers_by_channel": self.viewers_by_channel,
            "viewers_by_venue": self.viewers_by_venue,
            "operators_by_venue": self.operators_by_venue,
            "moderators_by_room": self.moderators_by_room,
            "connections": self.connections,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Counts:
        def table(name: str) -> dict[str, int]:
            value = data.get(name)
            if not isinstance(value, dict):
                return {}
            return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}

        connections = data.get("connections")
        return cls(
            table("viewers_by_channel"),
            table("viewers_by_venue"),
            table("operators_by_venue"),
            table("moderators_by_room"),
            connections if isinstance(connections, int) else 0,
        )


def count(clients: Iterable[Client]) -> Counts:
    """This node's counts."""
    by_channel: Counter[str] = Counter()
    by_venue: Counter[str] = Counter()
    operators: Counter[str] = Counter()
    moderators: Counter[str] = Counter()
    total = 0
    for client in clients:
        total += 1
        grant = client.grant
        if grant.role is Role.OPERATOR and grant.venue:
            operators[grant.venue] += 1
        if client.channel:
            by_channel[client.channel] += 1
        if client.venue:
            by_venue[client.venue] += 1
        for room in client.rooms:
            # Caption rooms (``captions:...``) are not Q&A rooms: nobody moderates them.
            if grant.moderates(room) and not room.startswith("captions:"):
                moderators[room] += 1
    return Counts(dict(by_channel), dict(by_venue), dict(operators), dict(moderators), total)


def combine(parts: Iterable[Counts]) -> Counts:
    """The sum of several nodes' counts."""
    tables: list[Counter[str]] = [Counter(), Counter(), Counter(), Counter()]
    total = 0
    for part in parts:
        tables[0].update(part.viewers_by_channel)
        tables[1].update(part.viewers_by_venue)
        tables[2].update(part.operators_by_venue)
        tables[3].update(part.moderators_by_room)
        total += part.connections
    a, b, c, d = (dict(sorted(t.items())) for t in tables)
    return Counts(a, b, c, d, total)


class PresenceBoard:
    """The latest counts of every node; a node silent for ``stale_after`` seconds is dropped."""

    def __init__(self, stale_after: float) -> None:
        self._stale_after = stale_after
        self._nodes: dict[str, tuple[Counts, float]] = {}

    def update(self, node: str, counts: Counts, now: float) -> None:
        self._nodes[node] = (counts, now)

    def total(self, now: float) -> Counts:
        fresh = {n: v for n, v in self._nodes.items() if now - v[1] <= self._stale_after}
        self._nodes = fresh
        return combine(counts for counts, _ in fresh.values())

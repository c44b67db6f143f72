"""Workers share their load samples, players included, through one Redis hash.

A fake Redis (a dict behind ``hset``/``hgetall``) stands in for the node's; the real one
is met in tests/integration/test_workers.py.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any, cast

from redis.asyncio import Redis

from streaming.snapshots import Audience
from tests.helpers import eventually
from web.worker_metrics import WorkerLoad
from web.worker_routes import add_counts

KEY = "venuebridge:test:node:a:workers:load"


class HashOnly:
    """The two Redis calls ``WorkerLoad`` makes, on a dict."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    async def hset(self, key: str, field: str, value: str) -> None:
        assert key == KEY
        self.fields[field] = value

    async def hgetall(self, key: str) -> dict[bytes, bytes]:
        assert key == KEY
        return {k.encode(): v.encode() for k, v in self.fields.items()}


class Players:
    def __init__(self, venues: dict[str, int], channels: dict[str, int]) -> None:
        self.venues, self.channels = venues, channels

    @property
    def admitted(self) -> int:
        return sum(self.venues.values()) + sum(self.channels.values())

    def audience(self) -> Audience:
        return Audience(MappingProxyType(self.venues), MappingProxyType(self.channels))


async def test_each_worker_sees_its_siblings_players_and_not_its_own() -> None:
    redis = HashOnly()
    loads = [WorkerLoad(str(i), cast(Any, redis), KEY, interval=0.5) for i in range(2)]
    loads[0].watch(Players({"jp": 2}, {"gz-hall-1": 5}))
    loads[1].watch(Players({"jp": 3, "us": 1}, {"gz-hall-1": 7}))
    redis.fields["junk"] = json.dumps({"cpu_seconds": 1, "venues": ["not", "counts"]})
    for load in loads:
        load.start()
    try:
        await eventually(
            lambda: (
                loads[0].siblings_players() == ({"jp": 3, "us": 1}, {"gz-hall-1": 7})
                and loads[1].siblings_players() == ({"jp": 2}, {"gz-hall-1": 5})
            ),
            "both workers to have read the other's sample",
            10,
        )
    finally:
        for load in loads:
            await load.aclose()


def test_counts_add_key_by_key() -> None:
    assert add_counts({"jp": 2, "eu": 1}, {"jp": 3, "us": 4}) == {"jp": 5, "eu": 1, "us": 4}


def test_a_single_worker_has_no_siblings() -> None:
    load = WorkerLoad("0", cast(Redis | None, None), KEY, interval=1)
    load.watch(Players({"jp": 2}, {}))
    assert load.siblings_players() == ({}, {})

"""Per-worker CPU in /metrics: every worker's, whichever worker the scrape lands on.

Each worker samples its own process CPU time and its WHEP subscribers every interval and,
when there are several workers, writes the sample into one Redis hash of the node
(``<prefix>:node:<id>:workers:load``, a field per worker) and reads the others' back. A
scrape then reads only memory: no request fans out to the siblings, and a worker that
died drops out once its sample is three intervals old. The per-subscriber figure is the
share of a core the worker used over the last interval divided by its subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError

from streaming.snapshots import Audience as Players

logger = logging.getLogger(__name__)
STALE_AFTER_INTERVALS = 3


class Audience(Protocol):
    @property
    def admitted(self) -> int: ...

    def audience(self) -> Players: ...


@dataclass(frozen=True, slots=True)
class LoadSample:
    """One worker's CPU seconds so far, share of a core lately, and subscribers, at ``at``."""

    cpu_seconds: float
    cores: float
    subscribers: int
    at: float  # time.time() of the sample
    # Players per venue output and per channel: the routing worker counts the node's
    # whole audience (as-run peaks, the home node's report) from these.
    venues: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)


def _counts(value: object) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    counts = {k: n for k, n in value.items() if isinstance(k, str) and type(n) is int}
    return counts if len(counts) == len(value) else None


def _parse_sample(raw: bytes | str) -> LoadSample | None:
    """A sibling's shared sample, or None for anything else."""
    try:
        data = json.loads(raw)
        venues, channels = _counts(data.pop("venues", {})), _counts(data.pop("channels", {}))
        if venues is None or channels is None:
            return None
        return LoadSample(**data, venues=venues, channels=channels)
    except (ValueError, TypeError, AttributeError):
        return None


class WorkerLoad(Collector):
    """Samples this worker's load, shares it with its siblings, and reports them all."""

    def __init__(self, me: str, redis: Redis | None, key: str, *, interval: float) -> None:
        self._me = me
        self._redis = redis
        self._key = key
        self._interval = max(0.5, interval)
        self._audience: Audience | None = None
        self._last = (time.monotonic(), time.process_time())
        self._samples: dict[str, LoadSample] = {me: self._sample()}
        self._task: asyncio.Task[None] | None = None

    def watch(self, audience: Audience) -> None:
        """Count this media hub's admitted WHEP sessions as the worker's subscribers."""
        self._audience = audience

    def _sample(self) -> LoadSample:
        wall, cpu = time.monotonic(), time.process_time()
        last_wall, last_cpu = self._last
        self._last = (wall, cpu)
        cores = (cpu - last_cpu) / (wall - last_wall) if wall > last_wall else 0.0
        if self._audience is None:
            return LoadSample(cpu, cores, 0, time.time())
        players = self._audience.audience()
        return LoadSample(
            cpu,
            cores,
            self._audience.admitted,
            time.time(),
            dict(players.per_venue),
            dict(players.per_channel),
        )

    def siblings_players(self) -> tuple[dict[str, int], dict[str, int]]:
        """Players per venue and per channel on the other workers, as last shared."""
        venues: Counter[str] = Counter()
        channels: Counter[str] = Counter()
        for worker, sample in self._samples.items():
            if worker != self._me:
                venues.update(sample.venues)
                channels.update(sample.channels)
        return dict(venues), dict(channels)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="worker-load")

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            mine = self._sample()
            self._samples[self._me] = mine
            if self._redis is not None:
                try:
                    await self._share(mine)
                except (RedisError, OSError, TimeoutError) as error:
                    logger.warning("worker load not shared: %s", error)

    async def _share(self, mine: LoadSample) -> None:
        assert self._redis is not None
        async with asyncio.timeout(2.0):
            await self._redis.hset(self._key, self._me, json.dumps(asdict(mine)))
            raw = await self._redis.hgetall(self._key)
        oldest = time.time() - STALE_AFTER_INTERVALS * self._interval
        samples = {self._me: mine}
        for name, value in raw.items():
            worker = name.decode() if isinstance(name, bytes) else str(name)
            if worker == self._me:
                continue
            sample = _parse_sample(value)
            if sample is None:
                continue  # a field written by something else: not ours to read
            if sample.at >= oldest:
                samples[worker] = sample
        self._samples = samples

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        cpu = CounterMetricFamily(
            "venuebridge_worker_cpu_seconds",
            "CPU seconds used by each worker process of this node.",
            labels=["worker"],
        )
        cores = GaugeMetricFamily(
            "venuebridge_worker_cpu_cores",
            "Share of one core each worker used over its last sample interval.",
            labels=["worker"],
        )
        subscribers = GaugeMetricFamily(
            "venuebridge_worker_subscribers", "WHEP sessions on each worker.", labels=["worker"]
        )
        per_subscriber = GaugeMetricFamily(
            "venuebridge_worker_cpu_cores_per_subscriber",
            "Share of a core per subscriber on each worker (workers with subscribers only).",
            labels=["worker"],
        )
        for worker, sample in sorted(self._samples.items()):
            cpu.add_metric([worker], sample.cpu_seconds)
            cores.add_metric([worker], sample.cores)
            subscribers.add_metric([worker], sample.subscribers)
            if sample.subscribers:
                per_subscriber.add_metric([worker], sample.cores / sample.subscribers)
        yield from (cpu, cores, subscribers, per_subscriber)

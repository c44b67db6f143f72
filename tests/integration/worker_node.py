"""One node of two worker processes on a fresh redis-server, and what a test sees of it.

The node is a real ``venuebridge serve --workers 2`` (tests/integration/server_process.py);
each worker's private listener is read from the workers' directory on Redis (the entry
whose URL the siblings use), and a worker's process id from /proc: the child of the
supervisor that listens on that private port.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from tests.integration.server_process import ServerProcess, serve
from tests.redis_server import running_redis

NODE_ID = "two-workers"
EVENT_ID = "coet2018"  # the reference event's id
CHANNEL = "gz-hall-1"
HEARTBEAT, TTL = 0.2, 1.0


@dataclass
class WorkerNode:
    server: ServerProcess
    redis: Redis
    redis_url: str

    def _key(self, index: int) -> str:
        return f"venuebridge:{EVENT_ID}:node:{NODE_ID}:workers:node:{index}"

    async def private_url(self, index: int) -> str | None:
        """Worker ``index``'s loopback listener as its siblings see it (None: not up)."""
        raw = await self.redis.get(self._key(index))
        if raw is None:
            return None
        url = json.loads(raw).get("url")
        return str(url) if url else None

    async def holder(self, channel: str) -> str | None:
        """The index of the worker holding ``channel``'s publisher, as its siblings read it."""
        raw = await self.redis.get(
            f"venuebridge:{EVENT_ID}:node:{NODE_ID}:workers:channel:{channel}"
        )
        return None if raw is None else raw.decode()

    def worker_pid(self, private_url: str) -> int:
        """The worker process listening on ``private_url``'s port."""
        port = int(private_url.rsplit(":", 1)[1])
        for pid in _children(self.server.process.pid):
            if port in _listening_ports(pid):
                return pid
        raise AssertionError(f"no worker listens on {private_url}")


def running(pid: int) -> bool:
    """Whether process ``pid`` exists (a reaped child does not)."""
    return Path(f"/proc/{pid}").exists()


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _listening_ports(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@asynccontextmanager
async def worker_node(tmp_path: Path) -> AsyncIterator[WorkerNode]:
    """``serve --workers 2`` on a fresh Redis, with short heartbeats; stopped at the end."""
    folder = tmp_path / "redis"
    folder.mkdir()
    with running_redis(folder) as redis_url:
        env = {
            "VENUEBRIDGE_REDIS_URL": redis_url,
            "VENUEBRIDGE_WORKERS": "2",
            "VENUEBRIDGE_NODE_ID": NODE_ID,
            "VENUEBRIDGE_VIDEO_CODEC": "VP8",
            "VENUEBRIDGE_ICE_UDP_PORT": "0",
            "VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "VENUEBRIDGE_NODE_TTL_SECONDS": str(TTL),
            "VENUEBRIDGE_RELAY_STALL_SECONDS": "1.5",
            "VENUEBRIDGE_RELAY_RETRY_MAX_SECONDS": "2",
            "VENUEBRIDGE_RELAY_GRACE_SECONDS": "1",
        }
        redis = Redis.from_url(redis_url)
        try:
            async with serve(tmp_path / "data", env) as server:
                yield WorkerNode(server, redis, redis_url)
        finally:
            await redis.aclose()

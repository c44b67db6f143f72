"""Node processes, each in its own network namespace, sharing one real redis-server.

``Topology`` starts ``venuebridge serve`` (through ``tests/topology/launch.py``, which
can add one-way delay towards chosen peers) inside namespaces from ``netns.py``, and a
redis-server in the test namespace that every node reaches through its veth. Nodes keep
the product's default ports (HTTP 8080 here, media UDP/TCP 8189): each namespace has its
own ports, so nothing collides. Everything is stopped, and every namespace removed, by
``aclose`` (also when a test fails), and dies with the test process if it is killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers import eventually
from tests.integration.test_redis_restart_nodes import Redis, cli_token
from tests.topology.netns import Namespace, create_namespace, die_with_parent

ROOT = Path(__file__).resolve().parents[2]
SECRET = "topology-producer-secret-0123456"
HTTP_PORT = 8080
MEDIA_PORT = 8189
UNLIMITED_MEDIA = {
    "VENUEBRIDGE_MEDIA_MAX_SESSIONS": "100000",
    "VENUEBRIDGE_MEDIA_MAX_SESSIONS_PER_CHANNEL": "100000",
    "VENUEBRIDGE_MEDIA_MAX_SESSIONS_PER_ADDRESS": "100000",
    "VENUEBRIDGE_MEDIA_SETUP_RATE_PER_MINUTE": "100000",
    "VENUEBRIDGE_MEDIA_SETUP_BURST": "100000",
}


@dataclass
class Node:
    """One ``venuebridge serve`` in its namespace; it can be stopped and started again."""

    name: str
    namespace: Namespace
    data_dir: Path
    env: dict[str, str]
    delay_ms: float = 0.0
    delay_to: list[str] = field(default_factory=list)
    process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return self.namespace.address

    @property
    def url(self) -> str:
        return f"http://{self.address}:{HTTP_PORT}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        delay = [f"--delay-to={peer}" for peer in self.delay_to]
        if delay:
            delay.append(f"--delay-ms={self.delay_ms}")
        log = (self.data_dir / "server.log").open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.namespace.enter(), sys.executable, "-m", "tests.topology.launch", *delay,
                "--", "serve", "--host", "0.0.0.0", "--port", str(HTTP_PORT),
                "--data-dir", str(self.data_dir),
                env={**os.environ, **self.env}, cwd=ROOT, stdout=log, stderr=log,
                preexec_fn=die_with_parent,
            )  # fmt: skip
        finally:
            log.close()

        async def up() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"node {self.name} exited; see {self.data_dir}/server.log")
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(up, f"node {self.name} to answer /healthz", within=30)

    async def stop(self) -> None:
        """SIGTERM, as an operator stops it."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def log(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


class Topology:
    """A redis-server and nodes in their own namespaces; ``aclose`` removes everything."""

    def __init__(self, root: Path, http: aiohttp.ClientSession) -> None:
        self.root = root
        self.http = http
        self.nodes: dict[str, Node] = {}
        self.namespaces: list[Namespace] = []
        folder = root / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        self.redis = Redis(folder, bind="0.0.0.0")
        self.relay_token: str | None = None

    async def start_redis(self) -> None:
        await self.redis.start()

    def redis_url_for(self, namespace: Namespace) -> str:
        # The test namespace answers on every veth's near end: the node's gateway.
        return f"redis://{namespace.gateway}:{self.redis.port}/0"

    async def add(
        self,
        name: str,
        region: str,
        upstream: Node | None = None,
        *,
        delay_ms: float = 0.0,
        delay_to: tuple[Node, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> Node:
        """Start node ``name`` in a new namespace; an edge of ``upstream`` if given."""
        namespace = create_namespace()
        self.namespaces.append(namespace)
        data_dir = self.root / name
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "VENUEBRIDGE_PRODUCER_SECRET": SECRET,
            "VENUEBRIDGE_LOG_LEVEL": "WARNING",
            "VENUEBRIDGE_REDIS_URL": self.redis_url_for(namespace),
            "VENUEBRIDGE_ICE_UDP_PORT": str(MEDIA_PORT),  # its own namespace: no collision
            "VENUEBRIDGE_NODE_ID": name,
            "VENUEBRIDGE_NODE_REGION": region,
            "VENUEBRIDGE_NODE_URL": f"http://{namespace.address}:{HTTP_PORT}",
            **(env or {}),
        }
        if upstream is not None:
            settings["VENUEBRIDGE_RELAY_UPSTREAM"] = upstream.url
            settings["VENUEBRIDGE_ROUTING"] = "false"  # one node runs the schedule automation
            settings["VENUEBRIDGE_RELAY_TOKEN"] = await self.server_token()
        node = Node(name, namespace, data_dir, settings, delay_ms, [n.address for n in delay_to])
        self.nodes[name] = node
        await node.start(self.http)
        return node

    async def server_token(self) -> str:
        """A director token for node-to-node pulls (nodes share the signing key on Redis)."""
        if self.relay_token is None:
            first = next(iter(self.nodes.values()))
            url = self.redis_url_for(first.namespace)
            self.relay_token = await cli_token(first.data_dir, url, "--role", "director")
        return self.relay_token

    async def get(self, node: Node, path: str) -> Any:
        headers = {"Authorization": f"Bearer {await self.server_token()}"}
        async with self.http.get(f"{node.url}{path}", headers=headers) as response:
            if response.status != 200:
                return None  # e.g. 503 while Redis is away
            return await response.json()

    async def listed_nodes(self, node: Node) -> set[str] | None:
        """The node ids ``node``'s GET /api/nodes shows; None while it cannot say."""
        body = await self.get(node, "/api/nodes")
        return None if body is None else {n["id"] for n in body["nodes"]}

    async def subscribers(self, node: Node, channel: str) -> int:
        """WHEP sessions of ``channel`` at ``node``, from its GET /api/streams."""
        streams = await self.get(node, "/api/streams")
        return sum(1 for s in streams["subscribers"] if s["feed"] == f"channel:{channel}")

    async def live(self, node: Node, channel: str) -> bool:
        """Whether ``node``'s GET /api/streams shows ``channel`` live."""
        streams = await self.get(node, "/api/streams")
        found = [c for c in streams["channels"] if c["id"] == channel] if streams else []
        return bool(found) and found[0]["health"] == "live"

    async def aclose(self) -> None:
        try:
            await asyncio.gather(*(node.stop() for node in self.nodes.values()))
            await self.redis.stop()
        finally:
            for namespace in self.namespaces:
                namespace.close()

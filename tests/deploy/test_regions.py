"""docker/compose.regions.yaml, run without docker: an origin and two edges on one Redis.

The nodes are ``venuebridge serve`` processes with the environment the compose file gives
each service, and Redis runs the file's command (taken over from docker/compose.yaml).
Adjusted, as tests/deploy/stack.py adjusts the single-node stack: free ports instead of
the fixed ones (HTTP, each node's media port, Redis), ``127.0.0.1`` for the service name
``redis``, plain HTTP on each node's port in place of Caddy (so each URL variable is that
node's own address), and 127.0.0.1 as the trusted proxy. Caddy and coturn are not started
here: test_stack.py runs both, and Caddy is only asked to accept Caddyfile.regions.

The edges set no upstream and no relay token: each finds the channel's holder in the Redis
directory and pulls with a relay token it mints itself from the signing secret the origin
left on Redis. The test's own tokens (a director to read the APIs, a producer) are minted
with ``venuebridge token`` from that secret, as an operator would.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as redis

from tests.deploy.compose import REGIONS_FILE, Compose, MissingVariable, load_compose
from tests.deploy.stack import PUBLIC_IP, Ports, Service, base_environ, redis_command, start
from tests.helpers import eventually
from tests.media_peers import Subscriber, free_port, needs_network, publish, subscribe

CHANNEL = "gz-hall-1"
TURN_SECRET = "regions-test-turn-secret-0123456789abcdef"
NODES = {"origin": ("gz-origin", "cn", 8189), "edge-us": ("us-edge", "us", 8190)}
NODES["edge-eu"] = ("eu-edge", "eu", 8191)
URL_VARIABLES = {"origin": "PUBLIC_URL", "edge-us": "EDGE_US_URL", "edge-eu": "EDGE_EU_URL"}
VENUEBRIDGE = str(Path(sys.executable).parent / "venuebridge")


def example_env() -> dict[str, str]:
    return {
        "PUBLIC_URL": "https://live.example.org",
        "EDGE_US_URL": "https://us.live.example.org",
        "EDGE_EU_URL": "https://eu.live.example.org",
        "PUBLIC_IP": "203.0.113.10",
        "TURN_SECRET": TURN_SECRET,
    }


def test_required_variables_stop_compose_with_a_message() -> None:
    load_compose(example_env(), REGIONS_FILE)
    for name in example_env():
        for value in (None, ""):
            env = {k: v for k, v in example_env().items() if k != name}
            if value is not None:
                env[name] = value
            with pytest.raises(MissingVariable, match=f"required variable {name} "):
                load_compose(env, REGIONS_FILE)


def test_each_node_has_its_identity_media_port_and_upstream() -> None:
    compose = load_compose(example_env(), REGIONS_FILE)
    seen_ports = set()
    for service, (node_id, region, port) in NODES.items():
        env = compose.environment(service)
        url = example_env()[URL_VARIABLES[service]]
        assert (env["VENUEBRIDGE_NODE_ID"], env["VENUEBRIDGE_NODE_REGION"]) == (node_id, region)
        assert env["VENUEBRIDGE_NODE_URL"] == env["VENUEBRIDGE_PUBLIC_URL"] == url
        # Its own media port, published as itself (candidates carry that number).
        assert env["VENUEBRIDGE_ICE_UDP_PORT"] == str(port)
        assert compose.ports(service) == [f"{port}:{port}/udp", f"{port}:{port}/tcp"]
        seen_ports.add(port)
        # One Redis (directory, bus, the shared signing secret), one TURN, one proxy.
        assert env["VENUEBRIDGE_REDIS_URL"] == "redis://redis:6379/0"
        assert env["VENUEBRIDGE_ICE_ADVERTISED_ADDRESSES"] == "203.0.113.10"
        assert env["VENUEBRIDGE_ICE_TURN_SECRET"] == TURN_SECRET
        assert env["VENUEBRIDGE_TRUSTED_PROXIES"] == "172.31.251.2"
        assert compose.service(service)["volumes"] == [f"{service}-data:/data"]
        # Edges find each channel's holder in the directory and leave routing to the origin.
        edge = service != "origin"
        assert "VENUEBRIDGE_RELAY_UPSTREAM" not in env  # the directory names the holder
        assert env.get("VENUEBRIDGE_ROUTING") == ("false" if edge else None)
    assert len(seen_ports) == 3
    caddy = compose.service("caddy")
    assert caddy["networks"]["proxy"]["ipv4_address"] == "172.31.251.2"
    # Redis and coturn are docker/compose.yaml's own, secret and all.
    assert compose.command("redis")[:3] == ["redis-server", "--appendonly", "yes"]
    assert f"--static-auth-secret={TURN_SECRET}" in compose.command("coturn")
    assert "--allowed-peer-ip=203.0.113.10" in compose.command("coturn")


@pytest.mark.requires("caddy")
def test_caddy_serves_each_node_at_its_own_address(tmp_path: Path) -> None:
    compose = load_compose(example_env(), REGIONS_FILE)
    assert "./Caddyfile.regions:/etc/caddy/Caddyfile:ro" in compose.service("caddy")["volumes"]
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(REGIONS_FILE.parent / "Caddyfile.regions")],
        env={**base_environ(), **compose.environment("caddy"), "HOME": str(tmp_path)},
        capture_output=True,
        check=True,
        text=True,
    )
    routes = json.loads(adapted.stdout)["apps"]["http"]["servers"]["srv0"]["routes"]
    upstreams = {}
    for route in routes:
        (host,) = route["match"][0]["host"]
        (proxy,) = route["handle"][0]["routes"][0]["handle"]
        assert proxy["flush_interval"] == -1
        upstreams[host] = proxy["upstreams"][0]["dial"]
    assert upstreams == {
        "live.example.org": "origin:8080",
        "us.live.example.org": "edge-us:8080",
        "eu.live.example.org": "edge-eu:8080",
    }


# -- the three nodes as processes --------------------------------------------------------


@dataclass
class Topology:
    http: aiohttp.ClientSession
    urls: dict[str, str]
    folder: Path
    redis_port: int
    services: dict[str, Service]

    def compose(self, relay_token: str = "") -> Compose:
        env = {name: self.urls[service] for service, name in URL_VARIABLES.items()}
        env |= {"PUBLIC_IP": PUBLIC_IP, "TURN_SECRET": TURN_SECRET, "RELAY_TOKEN": relay_token}
        return load_compose(env, REGIONS_FILE)

    def node_env(self, compose: Compose, service: str) -> dict[str, str]:
        env = compose.environment(service)
        assert env["VENUEBRIDGE_REDIS_URL"] == "redis://redis:6379/0"
        env["VENUEBRIDGE_REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"
        env["VENUEBRIDGE_TRUSTED_PROXIES"] = "127.0.0.1"
        assert env["VENUEBRIDGE_ICE_UDP_PORT"] == str(NODES[service][2])
        env["VENUEBRIDGE_ICE_UDP_PORT"] = str(free_port(socket.SOCK_DGRAM))
        return {**base_environ(), **env, "VENUEBRIDGE_LOG_LEVEL": "WARNING"}

    async def start_node(self, compose: Compose, service: str) -> None:
        port = self.urls[service].rsplit(":", 1)[1]
        argv = [VENUEBRIDGE, "serve", "--host", "127.0.0.1", "--port", port]
        argv += ["--data-dir", str(self.folder / service)]
        self.services[service] = await start(
            service, argv, self.folder, self.node_env(compose, service)
        )

    async def healthy(self, service: str) -> None:
        async def up() -> bool:
            self.services[service].alive()
            try:
                async with self.http.get(f"{self.urls[service]}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(up, f"{service} to answer /healthz", within=20)

    async def token(self, compose: Compose, *args: str) -> str:
        """``venuebridge token`` beside the origin (its environment: the shared Redis)."""
        process = await asyncio.create_subprocess_exec(
            VENUEBRIDGE, "token", "--quiet", "--data-dir", str(self.folder / "cli"), *args,
            env=self.node_env(compose, "origin"), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        return out.decode().strip()

    async def get(self, service: str, path: str, token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.get(f"{self.urls[service]}{path}", headers=headers) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
            return body


@pytest.fixture
async def topology(tmp_path: Path) -> AsyncIterator[Topology]:
    urls = {service: f"http://127.0.0.1:{free_port()}" for service in NODES}
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        nodes = Topology(http, urls, tmp_path, free_port(), {})
        redis_dir = tmp_path / "redis"
        redis_dir.mkdir()
        ports = Ports(nodes.redis_port, 0, 0, 0, 0, 0)
        command = redis_command(nodes.compose(), ports, redis_dir)
        nodes.services["redis"] = await start("redis", command, tmp_path, base_environ())
        stack.push_async_callback(nodes.services["redis"].stop)
        client = redis.Redis(port=nodes.redis_port)
        stack.push_async_callback(client.aclose)

        async def pong() -> bool:
            nodes.services["redis"].alive()
            try:
                return bool(await client.ping())
            except redis.ConnectionError:
                return False

        await eventually(pong, "redis-server to answer PING", within=10)
        # Stopped in reverse: the edges (pushed later) before the origin.
        for service in NODES:
            stack.push_async_callback(_stop, nodes, service)
        yield nodes


async def _stop(nodes: Topology, service: str) -> None:
    if service in nodes.services:
        await nodes.services[service].stop()


@pytest.mark.network
@needs_network
@pytest.mark.timeout(60)
async def test_an_origin_and_two_edges_each_region_pulls_the_channel_once(
    topology: Topology,
) -> None:
    await topology.start_node(topology.compose(), "origin")
    await topology.healthy("origin")
    director, producer = await asyncio.gather(
        topology.token(topology.compose(), "--role", "director", "--name", "crew", "--ttl", "1d"),
        topology.token(topology.compose(), "--role", "producer", "--channel", CHANNEL),
    )
    compose = topology.compose()
    for edge in ("edge-us", "edge-eu"):
        await topology.start_node(compose, edge)
    await asyncio.gather(topology.healthy("edge-us"), topology.healthy("edge-eu"))

    http, urls = topology.http, topology.urls
    publisher = await publish(http, f"{urls['origin']}/whip/{CHANNEL}", producer, luma=200)
    viewers: dict[str, list[Subscriber]] = {"edge-us": [], "edge-eu": []}
    try:
        # An edge asked before the origin's claim is in the directory answers 409 (a page
        # retries); the test waits for the claim as an operator would on /api/nodes.
        async def origin_holds() -> bool:
            nodes = (await topology.get("edge-us", "/api/nodes", director))["nodes"]
            return any(n["id"] == "gz-origin" and CHANNEL in n["channels"] for n in nodes)

        await eventually(origin_holds, "the origin's claim in the directory", 10)
        for edge, count in (("edge-us", 3), ("edge-eu", 2)):
            for _ in range(count):
                viewer = await subscribe(http, f"{urls[edge]}/whep/{CHANNEL}")
                viewers[edge].append(viewer)
        everyone = [v for group in viewers.values() for v in group]
        await eventually(
            lambda: all(v.frames >= 10 for v in everyone), "10 frames at every edge viewer", 20
        )

        # Five viewers over two edges: the origin serves one session per edge, no more.
        origin = await topology.get("origin", "/api/streams", director)
        feeds = [s["feed"] for s in origin["subscribers"]]
        assert feeds == [f"channel:{CHANNEL}"] * 2
        assert origin["relays"] == []
        for edge, group in viewers.items():
            streams = await topology.get(edge, "/api/streams", director)
            relays = [(r["channel"], r["upstream"], r["state"]) for r in streams["relays"]]
            assert relays == [(CHANNEL, urls["origin"], "live")]
            assert [s["feed"] for s in streams["subscribers"]] == [f"channel:{CHANNEL}"] * len(
                group
            )

        # The directory (directors only): the edge accepts the token minted from the key
        # the origin left on Redis, so all three sign with one secret though each has its
        # own data directory; and each node has the identity the file gives it.
        nodes = (await topology.get("edge-eu", "/api/nodes", director))["nodes"]
        listed = {(n["id"], n["region"], n["url"]) for n in nodes}
        assert listed == {
            ("gz-origin", "cn", urls["origin"]),
            ("us-edge", "us", urls["edge-us"]),
            ("eu-edge", "eu", urls["edge-eu"]),
        }
        # The origin holds the channel; the edges' relays claim nothing.
        holders = {n["id"]: n["channels"] for n in nodes}
        assert holders == {"gz-origin": [CHANNEL], "us-edge": [], "eu-edge": []}
    finally:
        for viewer in [v for group in viewers.values() for v in group]:
            await viewer.close()
        await publisher.pc.close()

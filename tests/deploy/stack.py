"""The compose stack as local processes: redis-server, coturn, ``venuebridge serve``, Caddy.

Each service is started from what docker/compose.yaml says (after substitution), with only
these adjustments, because one network namespace stands in for the containers:

- every listening port is a free one (compose's fixed 6379, 8080, 8189, 3478, 5349, 443
  and coturn's relay range would collide with other tests), and the service names the file
  uses as host names (``redis``, ``app``) become 127.0.0.1;
- the app gets ``--host 127.0.0.1 --port P --data-dir DIR`` (the Dockerfile's ENV and the
  volume), and trusts 127.0.0.1, where Caddy's fixed address on the ``edge`` network is;
- redis-server's ``--dir /data`` and coturn's certificate paths point into the test's
  folder; coturn writes its pid file there, not to /var/run;
- Caddy gets the test CA's certificate (``tls``) instead of ACME, no admin endpoint, no
  HTTP redirect listener and no attempt to install a root into the system trust store.

``PUBLIC_IP`` is the namespace's own address (10.99.0.1), so coturn's ``allowed-peer-ip``
for it lets relayed media reach the app exactly as it would in production, and every
``denied-peer-ip`` rule stays in force for all other addresses.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis.asyncio as redis

from tests.deploy.compose import CADDYFILE, Compose, load_compose
from tests.helpers import eventually
from tests.media_peers import free_port
from tests.tls_certs import Leaf, TestAuthority

PUBLIC_IP = "10.99.0.1"
TURN_SECRET = "stack-test-turn-secret-0123456789abcdef"
CADDY_ADDRESS = "172.31.250.2"


@dataclass(frozen=True)
class Ports:
    """The free ports standing in for compose's fixed ones."""

    redis: int
    app: int
    https: int
    turn: int
    turns: int
    relay_low: int
    media: int = 0

    @staticmethod
    def pick() -> Ports:
        low = random.randrange(50000, 60000, 200)
        ports = {free_port() for _ in range(5)}
        while len(ports) < 5:
            ports.add(free_port())
        redis_port, app, https, turn, turns = sorted(ports)
        return Ports(redis_port, app, https, turn, turns, low, free_port(socket.SOCK_DGRAM))


def compose_env(ports: Ports) -> dict[str, str]:
    """The variables an operator sets (docker/.env), for this test's stack."""
    return {
        "PUBLIC_URL": f"https://localhost:{ports.https}",
        "PUBLIC_IP": PUBLIC_IP,
        "TURN_SECRET": TURN_SECRET,
        "TURNS_URL": f"turns:{PUBLIC_IP}:5349?transport=tcp",
    }


def _swap(value: str, old: str, new: str) -> str:
    assert old in value, f"expected {old!r} in {value!r}"
    return value.replace(old, new)


def app_environment(compose: Compose, ports: Ports) -> dict[str, str]:
    """The app's compose environment with host names and ports of this machine."""
    env = compose.environment("app")
    env["VENUEBRIDGE_REDIS_URL"] = _swap(
        env["VENUEBRIDGE_REDIS_URL"], "redis:6379", f"127.0.0.1:{ports.redis}"
    )
    assert env["VENUEBRIDGE_TRUSTED_PROXIES"] == CADDY_ADDRESS
    env["VENUEBRIDGE_TRUSTED_PROXIES"] = "127.0.0.1"
    assert env["VENUEBRIDGE_ICE_UDP_PORT"] == "8189"
    env["VENUEBRIDGE_ICE_UDP_PORT"] = str(ports.media)
    for key in ("VENUEBRIDGE_ICE_STUN_URLS", "VENUEBRIDGE_ICE_TURN_URLS"):
        value = _swap(env[key], f"{PUBLIC_IP}:3478", f"{PUBLIC_IP}:{ports.turn}")
        env[key] = value.replace(f"{PUBLIC_IP}:5349", f"{PUBLIC_IP}:{ports.turns}")
    return env


def redis_command(compose: Compose, ports: Ports, folder: Path) -> list[str]:
    command = compose.command("redis")
    at = command.index("--dir")
    assert command[at + 1] == "/data"
    command[at + 1] = str(folder)
    return [*command, "--port", str(ports.redis), "--bind", "127.0.0.1", "--save", ""]


def coturn_command(compose: Compose, ports: Ports, leaf: Leaf, folder: Path) -> list[str]:
    replacements = {
        "--listening-port=3478": f"--listening-port={ports.turn}",
        "--tls-listening-port=5349": f"--tls-listening-port={ports.turns}",
        "--min-port=49160": f"--min-port={ports.relay_low}",
        "--max-port=49999": f"--max-port={ports.relay_low + 150}",
        "--cert=/etc/coturn/certs/fullchain.pem": f"--cert={leaf.cert}",
        "--pkey=/etc/coturn/certs/privkey.pem": f"--pkey={leaf.key}",
        "--log-file=stdout": f"--log-file={folder / 'turn.log'}",
    }
    command = compose.command("coturn")
    for old in replacements:
        assert old in command, f"compose's coturn command lost {old}"
    return [
        "turnserver",
        *(replacements.get(part, part) for part in command),
        f"--pidfile={folder / 'turn.pid'}",
    ]


def caddyfile_for_test(leaf: Leaf) -> str:
    """docker/Caddyfile with the test's certificate and the test-only global options."""
    text = CADDYFILE.read_text()
    site = "{$PUBLIC_URL} {\n"
    assert text.count(site) == 1
    globals_block = "{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n\n"
    return globals_block + text.replace(site, f"{site}\ttls {leaf.cert} {leaf.key}\n")


@dataclass
class Service:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def alive(self) -> bool:
        if self.process.returncode is not None:
            raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        return True

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start(
    name: str, argv: Sequence[str], folder: Path, env: dict[str, str] | None = None
) -> Service:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=out, stderr=asyncio.subprocess.STDOUT, env=env, cwd=folder
        )
    return Service(name, process, log)


def _listening(port: int, table: str) -> bool:
    needle = f":{port:04X} "
    return any(needle in line for line in Path(f"/proc/net/{table}").read_text().splitlines())


@dataclass
class Stack:
    """The running stack: where it answers, and the test CA that vouches for it."""

    url: str
    ports: Ports
    authority: TestAuthority
    leaf: Leaf
    compose: Compose
    folder: Path
    services: dict[str, Service]

    def http(self) -> aiohttp.ClientSession:
        """A client that trusts the test CA only (as a browser trusting it would)."""
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.authority.client_context())
        )


def base_environ() -> dict[str, str]:
    """This process's environment without any VENUEBRIDGE_* of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VENUEBRIDGE_")}


async def start_coturn(
    compose: Compose, ports: Ports, leaf: Leaf, folder: Path, stack: AsyncExitStack
) -> Service:
    turn = await start("coturn", coturn_command(compose, ports, leaf, folder), folder)
    stack.push_async_callback(turn.stop)

    def ready() -> bool:
        return turn.alive() and _listening(ports.turn, "udp") and _listening(ports.turns, "tcp")

    await eventually(ready, "coturn to listen on UDP and TLS", within=15)
    return turn


@asynccontextmanager
async def running_stack(folder: Path) -> AsyncIterator[Stack]:
    """Start redis, coturn, the app and Caddy as the compose file says; stop them all."""
    ports = Ports.pick()
    compose = load_compose(compose_env(ports))
    authority = TestAuthority(folder / "pki")
    leaf = authority.issue("site", dns=("localhost",), ips=(PUBLIC_IP, "127.0.0.1"))
    services: dict[str, Service] = {}
    async with AsyncExitStack() as stack:
        redis_dir = folder / "redis"
        redis_dir.mkdir()
        services["redis"] = await start(
            "redis", redis_command(compose, ports, redis_dir), folder, base_environ()
        )
        stack.push_async_callback(services["redis"].stop)
        client = redis.Redis(port=ports.redis)
        stack.push_async_callback(client.aclose)

        async def pong() -> bool:
            services["redis"].alive()
            try:
                return bool(await client.ping())
            except redis.ConnectionError:
                return False

        await eventually(pong, "redis-server to answer PING", within=15)
        services["coturn"] = await start_coturn(compose, ports, leaf, folder, stack)

        app_env = {**base_environ(), **app_environment(compose, ports)}
        services["app"] = await start(
            "app",
            [
                str(Path(sys.executable).parent / "venuebridge"),
                *("serve", "--host", "127.0.0.1", "--port", str(ports.app)),
                *("--data-dir", str(folder / "data")),
            ],
            folder,
            app_env,
        )
        stack.push_async_callback(services["app"].stop)
        caddyfile = folder / "Caddyfile"
        caddyfile.write_text(caddyfile_for_test(leaf))
        caddy_env = {
            **base_environ(),
            **compose.environment("caddy"),
            "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "caddy-data"),
            "XDG_CONFIG_HOME": str(folder / "caddy-config"),
        }
        caddy_env["APP_UPSTREAM"] = _swap(
            caddy_env["APP_UPSTREAM"], "app:8080", f"127.0.0.1:{ports.app}"
        )
        services["caddy"] = await start(
            "caddy",
            ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
            folder,
            caddy_env,
        )
        stack.push_async_callback(services["caddy"].stop)
        running = Stack(
            compose.environment("app")["VENUEBRIDGE_PUBLIC_URL"],
            ports,
            authority,
            leaf,
            compose,
            folder,
            services,
        )
        async with running.http() as http:

            async def healthy() -> bool:
                for service in services.values():
                    service.alive()
                try:
                    async with http.get(f"{running.url}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(healthy, "the app to answer /healthz through Caddy", within=40)
        yield running

"""docker/compose.yaml, run without docker: the same commands, environment and Caddyfile
from Debian packages (tests/deploy/stack.py says what is adjusted and why).

Chromium publishes and plays through Caddy over HTTPS (a test CA that only this Chromium
trusts, by its key), then plays again forced through coturn over UDP, TCP and TLS, the
fallback for venues whose networks block UDP. coturn, started from the compose command
line, refuses to relay to private addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as redis
from aioice import stun
from aioice.turn import TurnClientUdpProtocol
from playwright.async_api import Browser, Page, Route, async_playwright

from streaming.ice_servers import turn_credentials
from tests.chromium import CHROMIUM, CHROMIUM_FLAGS, FRAMES_DECODED
from tests.deploy.compose import MissingVariable, load_compose
from tests.deploy.stack import (
    PUBLIC_IP,
    TURN_SECRET,
    Ports,
    Stack,
    app_environment,
    base_environ,
    compose_env,
    running_stack,
    start_coturn,
)
from tests.helpers import eventually
from tests.media_peers import needs_network
from tests.tls_certs import TestAuthority

CHANNEL = "gz-hall-5"

# The local end of the pair ICE chose: host, srflx or relay, and how it reaches TURN.
SELECTED_PATH = """async () => {
  const pc = window.vbPc;
  if (!pc) return null;
  const stats = await pc.getStats();
  let pairId = null;
  stats.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  if (!pairId) return null;
  const pair = stats.get(pairId);
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return { type: local.candidateType, relayProtocol: local.relayProtocol || "",
           url: local.url || "", remote: `${remote.address}:${remote.port}` };
}"""


def test_required_variables_stop_compose_with_a_message() -> None:
    complete = {"PUBLIC_URL": "https://live.example.org", "PUBLIC_IP": "203.0.113.10"}
    complete["TURN_SECRET"] = "0123456789abcdef"
    load_compose(complete)
    for name in ("PUBLIC_URL", "PUBLIC_IP", "TURN_SECRET"):
        for value in (None, ""):
            env = {k: v for k, v in complete.items() if k != name}
            if value is not None:
                env[name] = value
            with pytest.raises(MissingVariable, match=f"required variable {name} .*set {name}"):
                load_compose(env)


def test_the_compose_file_says_what_the_deployment_needs() -> None:
    compose = load_compose(compose_env(Ports(6379, 8080, 443, 3478, 5349, 49160)))
    # Media on its one port, UDP and TCP; nothing else of the app's is published.
    assert compose.ports("app") == ["8189:8189/udp", "8189:8189/tcp"]
    assert compose.environment("app")["VENUEBRIDGE_ICE_UDP_MUX"] == "true"
    assert compose.environment("app")["VENUEBRIDGE_ICE_UDP_PORT"] == "8189"
    caddy = compose.service("caddy")
    assert caddy["networks"]["edge"]["ipv4_address"] == "172.31.250.2"
    assert compose.environment("app")["VENUEBRIDGE_TRUSTED_PROXIES"] == "172.31.250.2"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert compose.command("redis")[:3] == ["redis-server", "--appendonly", "yes"]
    app = compose.environment("app")
    assert app["VENUEBRIDGE_ICE_STUN_URLS"] == f"stun:{PUBLIC_IP}:3478"
    assert app["VENUEBRIDGE_ICE_TURN_URLS"].split(",") == [
        f"turn:{PUBLIC_IP}:3478?transport=udp",
        f"turn:{PUBLIC_IP}:3478?transport=tcp",
        f"turns:{PUBLIC_IP}:5349?transport=tcp",
    ]
    # Without TURNS_URL there is no dangling comma.
    plain = {k: v for k, v in compose_env(Ports(1, 2, 3, 4, 5, 6)).items() if k != "TURNS_URL"}
    assert load_compose(plain).environment("app")["VENUEBRIDGE_ICE_TURN_URLS"].count(",") == 1
    # coturn: every private and special-purpose range is refused, this node is allowed.
    command = compose.command("coturn")
    denied = [part.split("=", 1)[1] for part in command if part.startswith("--denied-peer-ip=")]
    for network in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10",
    ):  # fmt: skip
        net = ipaddress.ip_network(network)
        assert any(_covers(entry, net) for entry in denied), network
    assert f"--allowed-peer-ip={PUBLIC_IP}" in command
    for flag in ("--no-multicast-peers", "--use-auth-secret", f"--external-ip={PUBLIC_IP}"):
        assert flag in command
    assert f"--static-auth-secret={TURN_SECRET}" in command


def _covers(entry: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    low, _, high = entry.partition("-")
    first, last = ipaddress.ip_address(low), ipaddress.ip_address(high or low)
    if first.version != network.version:
        return False
    return first <= network.network_address and network.broadcast_address <= last


# --- coturn as the compose file starts it ---------------------------------------------


async def _permission(protocol: TurnClientUdpProtocol, address: str) -> int:
    """CreatePermission for ``address``: 200 when coturn agrees, else its error code."""
    request = stun.Message(
        message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST
    )
    request.attributes["XOR-PEER-ADDRESS"] = (address, 9)
    try:
        await protocol.request_with_retry(request)
    except stun.TransactionFailed as error:
        code = error.response.error_code
        assert code is not None
        return code
    return 200


@pytest.mark.network
@needs_network
@pytest.mark.requires("coturn")
async def test_coturn_answers_stun_and_refuses_to_relay_to_private_addresses(
    tmp_path: Path,
) -> None:
    ports = Ports.pick()
    compose = load_compose(compose_env(ports))
    leaf = TestAuthority(tmp_path / "pki").issue("turn", ips=(PUBLIC_IP,))
    async with AsyncExitStack() as stack:
        await start_coturn(compose, ports, leaf, tmp_path, stack)
        username, password = turn_credentials(TURN_SECRET, "probe", 2_000_000_000)
        loop = asyncio.get_running_loop()
        server = (PUBLIC_IP, ports.turn)
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: TurnClientUdpProtocol(
                server, username=username, password=password, lifetime=600,
                channel_refresh_time=500,
            ),
            remote_addr=server,
        )  # fmt: skip
        try:
            # STUN first (what the pages' stun: URL asks): no credentials, our own address.
            binding = stun.Message(
                message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST
            )
            response, _ = await protocol.request(binding)
            assert response.attributes["XOR-MAPPED-ADDRESS"][0] == PUBLIC_IP
            relayed = await protocol.connect()
            assert relayed[0] == PUBLIC_IP
            # The node itself (the compose file's allowed-peer-ip) may be reached...
            assert await _permission(protocol, PUBLIC_IP) == 200
            # ...but nothing in a private or special range, even next door.
            for address in (
                "10.99.0.2", "10.0.0.1", "127.0.0.1", "172.16.5.4", "192.168.1.1",
                "169.254.169.254", "100.64.0.1", "0.0.0.0",
            ):  # fmt: skip
                assert await _permission(protocol, address) == 403, address
            await protocol.delete()
        finally:
            transport.close()
    log = (tmp_path / "turn.log").read_text()
    # The certificate loaded: TLS on the turns port is up (start_coturn saw it listen).
    assert "Private key file found" in log


# --- the whole stack, with Chromium ----------------------------------------------------


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
async def trusting_browser(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Browser]:
    """Chromium that trusts the test CA's key, and nothing it would not trust otherwise."""
    spki = f"--ignore-certificate-errors-spki-list={stack.authority.spki}"
    # Playwright's own fetches (route.fetch) run in its Node.js driver: trust the CA there.
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(stack.authority.ca_file))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, spki]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _mint_producer(stack: Stack) -> str:
    """``venuebridge token`` with the app's environment (``docker compose exec app ...``)."""
    env = {**base_environ(), **app_environment(stack.compose, stack.ports)}
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "venuebridge"), "token", "--role", "producer",
        "--channel", CHANNEL, "--ttl", "1h", "--quiet", "--data-dir", str(stack.folder / "data"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().strip().splitlines()[0]


async def _watch(browser: Browser, url: str, within: float = 30) -> Page:
    page = await browser.new_page()
    await page.goto(url)

    async def decoded() -> bool:
        return int(await page.evaluate(FRAMES_DECODED)) >= 30

    await eventually(decoded, f"30 frames decoded at {url}", within=within)
    return page


async def _path(page: Page) -> dict[str, Any]:
    path: dict[str, Any] | None = await page.evaluate(SELECTED_PATH)
    assert path is not None, "no selected candidate pair"
    return path


def _only_turn(transport: str) -> Any:
    """A route handler that keeps only the page's TURN servers of ``transport``: what a
    browser behind a firewall that drops UDP (or all but TLS) ends up able to use."""

    async def handle(route: Route) -> None:
        if route.request.method != "OPTIONS":
            await route.continue_()
            return
        response = await route.fetch()
        links = [h["value"] for h in response.headers_array if h["name"].lower() == "link"]
        entries = [part for value in links for part in re.split(r",(?=\s*<)", value)]
        wanted = [e.strip() for e in entries if _turn_kind(e) == transport]
        assert wanted, f"the server offered no {transport} TURN server: {entries}"
        headers = {k: v for k, v in response.headers.items() if k.lower() != "link"}
        headers["link"] = ", ".join(wanted)
        await route.fulfill(response=response, headers=headers)

    return handle


def _turn_kind(entry: str) -> str:
    url = entry.strip().split(">", 1)[0].lstrip("<")
    if url.startswith("turns:"):
        return "tls"
    if url.startswith("turn:"):
        return "tcp" if "transport=tcp" in url else "udp"
    return "stun"


@pytest.mark.browser
@pytest.mark.network
@needs_network
@pytest.mark.requires("chromium")
@pytest.mark.requires("coturn")
@pytest.mark.requires("caddy")
@pytest.mark.timeout(300)
async def test_chromium_publishes_and_plays_through_caddy_and_turn(
    stack: Stack, trusting_browser: Browser, shots: Path
) -> None:
    browser, url = trusting_browser, stack.url
    async with stack.http() as http:
        async with http.get(f"{url}/") as response:
            assert response.status == 200
            # The app believed Caddy's X-Forwarded-Proto: the request came over TLS.
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        # The websocket goes through Caddy: the page's own origin gets the welcome, another
        # site's page is refused (the app compares with PUBLIC_URL, not with Caddy's hop).
        async with http.ws_connect(f"{url}/ws", headers={"Origin": url}) as ws:
            welcome = await ws.receive_json(timeout=10)
            assert welcome["type"] == "welcome", welcome
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{url}/ws", headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403

    # venuebridge doctor, run beside the app with its environment, finds the deployment
    # sound: the public URL and its certificate, the media port, TURN three ways, Redis.
    doctor = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "venuebridge"), "doctor",
        "--ca-file", str(stack.authority.ca_file), "--data-dir", str(stack.folder / "data"),
        env={**base_environ(), **app_environment(stack.compose, stack.ports)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await doctor.communicate()
    report = output.decode()
    assert doctor.returncode == 0, report
    assert "FAIL" not in report
    for check in (
        "OK    public URL:",
        "OK    certificate:",
        f"OK    media UDP: {PUBLIC_IP}:{stack.ports.media}/udp answers STUN",
        f"OK    TURN turn:{PUBLIC_IP}:{stack.ports.turn}?transport=udp",
        f"OK    TURN turn:{PUBLIC_IP}:{stack.ports.turn}?transport=tcp",
        f"OK    TURN turns:{PUBLIC_IP}:{stack.ports.turns}?transport=tcp",
        "OK    Redis:",
    ):
        assert check in report, report

    token = await _mint_producer(stack)
    publisher = await browser.new_page()
    await publisher.goto(f"{url}/publish/{CHANNEL}?token={token}&autostart=1")
    await publisher.locator("#status[data-state=live]").wait_for(timeout=30000)
    assert publisher.url.startswith("https://localhost:")
    assert await publisher.evaluate("() => window.isSecureContext")

    viewer = await _watch(browser, f"{url}/watch/{CHANNEL}")
    direct = await _path(viewer)
    assert direct["type"] == "host"
    # All media on the app's one port: the publisher's and every viewer's far end.
    media = f"{PUBLIC_IP}:{stack.ports.media}"
    assert direct["remote"] == media
    assert (await _path(publisher))["remote"] == media
    await publisher.screenshot(path=str(shots / "publish-https.png"))
    await viewer.screenshot(path=str(shots / "watch-https.png"))

    # Forced through coturn (the page's ?ice=relay), over UDP...
    relayed = await _watch(browser, f"{url}/watch/{CHANNEL}?ice=relay")
    path = await _path(relayed)
    assert path["type"] == "relay"
    assert path["relayProtocol"] == "udp"
    assert path["remote"] == media
    # ...then with only TCP, then only TLS towards coturn: the fallback for venues that
    # block UDP (coturn still relays to the app over UDP on the server side).
    for transport in ("tcp", "tls"):
        page = await browser.new_page()
        await page.route(f"**/whep/{CHANNEL}", _only_turn(transport))
        await page.goto(f"{url}/watch/{CHANNEL}?ice=relay")

        async def decoded(page: Page = page) -> bool:
            return int(await page.evaluate(FRAMES_DECODED)) >= 30

        await eventually(decoded, f"frames through TURN over {transport}", within=30)
        path = await _path(page)
        assert path["type"] == "relay", path
        assert path["relayProtocol"] == transport, path
        assert path["remote"] == media, path

    # Frames keep coming to the first viewer all along.
    before = int(await viewer.evaluate(FRAMES_DECODED))

    async def grows() -> bool:
        return int(await viewer.evaluate(FRAMES_DECODED)) > before + 30

    await eventually(grows, "the direct viewer to keep decoding", within=15)

    # Redis runs with the compose file's append-only persistence.
    client = redis.Redis(port=stack.ports.redis, decode_responses=True)
    try:
        assert (await client.config_get("appendonly"))["appendonly"] == "yes"
        assert (await client.config_get("appendfsync"))["appendfsync"] == "everysec"
    finally:
        await client.aclose()
    aof = list((stack.folder / "redis").rglob("*.aof"))
    assert aof, "no append-only file in redis-server's --dir"
    assert sum(f.stat().st_size for f in aof) > 0

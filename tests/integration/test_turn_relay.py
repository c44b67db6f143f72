"""coturn on loopback: a relay-only client publishes, another relay-only client plays."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiortc import RTCIceServer

from config import IceSettings, Settings
from streaming.ice_servers import turn_credentials
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import free_port, needs_network, publish, subscribe

TURN_SECRET = "coturn-test-secret"

pytestmark = [
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("coturn"),
]


async def _wait_for_udp_listener(port: int, process: asyncio.subprocess.Process) -> None:
    def listening() -> bool:
        if process.returncode is not None:
            raise AssertionError("turnserver exited")
        text = Path("/proc/net/udp").read_text()
        return f"0100007F:{port:04X}" in text

    await eventually(listening, "turnserver to listen")


@pytest.fixture
async def turn_url(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    low = random.randrange(50000, 60000, 200)
    process = await asyncio.create_subprocess_exec(
        "turnserver",
        "-n",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        f"--min-port={low}",
        f"--max-port={low + 150}",
        "--use-auth-secret",
        f"--static-auth-secret={TURN_SECRET}",
        "--realm=test",
        "--fingerprint",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--allow-loopback-peers",
        f"--log-file={tmp_path / 'turn.log'}",
        "--simple-log",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_for_udp_listener(port, process)
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        await process.wait()


@pytest.fixture
def media_settings(tmp_path: Path, turn_url: str) -> Settings:
    return local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        ice=IceSettings(turn_urls=(turn_url,), turn_secret=TURN_SECRET),
    )


async def test_relay_only_publish_and_play(media_server: MediaServer, turn_url: str) -> None:
    username, password = turn_credentials(TURN_SECRET, "client", int(time.time()) + 600)
    relay = RTCIceServer(urls=turn_url, username=username, credential=password)
    http, url = media_server.http, media_server.url
    publisher = await publish(http, f"{url}/whip/gz-hall-4", PRODUCER_SECRET, 90, relay=relay)
    # The server hands out TURN credentials for its coturn in Link headers.
    links = publisher.response_headers.getall("Link")
    assert any(link.startswith(f"<{turn_url}>") and "username=" in link for link in links)
    player = None
    try:
        assert " typ relay" in publisher.pc.localDescription.sdp
        assert " typ host" not in publisher.pc.localDescription.sdp
        await eventually(lambda: media_server.hub.channel("gz-hall-4").live, "relayed publisher")
        player = await subscribe(http, f"{url}/whep/gz-hall-4", relay=relay)
        await eventually(lambda: player is not None and player.frames >= 15, "relayed frames")
        assert abs((player.last_luma or 0) - 90) < 25
    finally:
        if player is not None:
            await player.close()
        await publisher.pc.close()

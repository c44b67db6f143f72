"""All media of a server through one UDP port, seen from outside: real aiortc peers, a real
``venuebridge serve`` process, and ``ss`` counting the process's UDP sockets. And the old
per-connection sockets, kept inside ``ice.udp_port_min..max`` when the mux is off."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from config import IceSettings, Settings
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.integration.server_process import SECRET, serve
from tests.media_peers import Publisher, Subscriber, needs_network, publish, subscribe

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
SUBSCRIBERS = 100
# Below Linux's ephemeral range (32768-60999), where the test's own client sockets land.
RANGE = (20000, 20003)


def udp_sockets(pid: int) -> list[tuple[str, int]]:
    """The UDP sockets process ``pid`` holds, as ``ss -uanp`` lists them (local address)."""
    listing = subprocess.run(["ss", "-uanp"], capture_output=True, text=True, check=True).stdout
    sockets = []
    for line in listing.splitlines()[1:]:
        if re.search(rf"pid={pid},", line):
            host, _, port = line.split()[3].rpartition(":")
            sockets.append((host, int(port)))
    return sockets


def candidate_ports(sdp: str) -> set[int]:
    """The ports of the candidates in an SDP (ours, in an answer)."""
    return {int(line.split()[5]) for line in sdp.splitlines() if line.startswith("a=candidate:")}


def connected(peers: list[Any]) -> bool:
    return all(p.pc.connectionState == "connected" for p in peers)


async def test_a_publisher_and_a_hundred_subscribers_share_one_server_udp_socket(
    tmp_path: Path,
) -> None:
    env = {
        # One client address sets up all of them, quickly: lift admission control.
        "VENUEBRIDGE_MEDIA_MAX_SESSIONS_PER_ADDRESS": "1000",
        "VENUEBRIDGE_MEDIA_SETUP_BURST": "1000",
        "VENUEBRIDGE_MEDIA_SETUP_RATE_PER_MINUTE": "100000",
        "VENUEBRIDGE_MEDIA_CONNECT_TIMEOUT_SECONDS": "120",
    }
    async with serve(tmp_path / "data", env) as server:
        http, url = server.http, server.url
        before = udp_sockets(server.process.pid)
        assert len(before) == 1, before  # the mux, open from start-up
        port = before[0][1]
        peers: list[Publisher | Subscriber] = []
        try:
            # Small pictures: a hundred aiortc players decode in this one test process.
            publisher = await publish(http, f"{url}/whip/{CHANNEL}", SECRET, 200, size=(160, 120))
            peers.append(publisher)

            async def live() -> bool:
                return (await server.channel(CHANNEL))["live"] is True

            await eventually(live, "the publisher to go live")
            watchers = [await subscribe(http, f"{url}/whep/{CHANNEL}") for _ in range(3)]
            peers += watchers
            await eventually(lambda: all(s.frames >= 10 for s in watchers), "frames at 3 viewers")
            # The rest join while the source pauses (connections are what is counted).
            publisher.stall()
            while len(peers) < 1 + SUBSCRIBERS:
                batch = min(10, 1 + SUBSCRIBERS - len(peers))
                peers += await asyncio.gather(
                    *(subscribe(http, f"{url}/whep/{CHANNEL}") for _ in range(batch))
                )
            await eventually(lambda: connected(peers), f"{len(peers)} peers connected", 90)

            assert udp_sockets(server.process.pid) == before
            for peer in peers:
                assert candidate_ports(peer.pc.remoteDescription.sdp) == {port}
            metrics = await server.metrics()
            assert f"venuebridge_media_udp_mux_connections {float(len(peers))}" in metrics

            publisher.resume()
            subscribers = [p for p in peers if isinstance(p, Subscriber)]
            marks = [s.frames for s in subscribers]
            await eventually(
                lambda: all(s.frames > m for s, m in zip(subscribers, marks, strict=True)),
                f"new frames at all {len(subscribers)} subscribers",
                within=60,
            )
        finally:
            await asyncio.gather(*(p.pc.close() for p in peers if isinstance(p, Publisher)))
            await asyncio.gather(*(p.close() for p in peers if isinstance(p, Subscriber)))


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    low, high = RANGE
    return local_settings(
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        ice=IceSettings(udp_mux=False, udp_port_min=low, udp_port_max=high),
    )


async def test_without_the_mux_every_socket_is_inside_the_port_range(
    media_server: MediaServer,
) -> None:
    http, url = media_server.http, media_server.url
    low, high = RANGE
    peers: list[Any] = []
    try:
        publisher = await publish(http, f"{url}/whip/{CHANNEL}", PRODUCER_SECRET, 200)
        peers.append(publisher)
        await eventually(lambda: media_server.hub.channel(CHANNEL).live, "the publisher to go live")
        viewers = [await subscribe(http, f"{url}/whep/{CHANNEL}") for _ in range(3)]
        peers += viewers
        await eventually(lambda: all(s.frames >= 10 for s in viewers), "frames at 3 viewers")
        used: set[int] = set()
        for peer in peers:
            ports = candidate_ports(peer.pc.remoteDescription.sdp)
            assert ports
            assert all(low <= p <= high for p in ports), ports
            used |= ports
        assert len(used) == len(peers)  # a socket each, as before the mux
        # The range is full: the next offer is refused with a 503, nothing half made.
        offer = await _offer()
        async with http.post(
            f"{url}/whep/{CHANNEL}", data=offer, headers={"Content-Type": "application/sdp"}
        ) as response:
            assert response.status == 503, await response.text()
            assert "no free media port" in await response.text()
        # A session that ends gives its port back.
        ended = peers.pop()
        async with http.delete(ended.location) as response:
            assert response.status == 200
        await ended.close()
        viewer = await subscribe(http, f"{url}/whep/{CHANNEL}")
        peers.append(viewer)
        await eventually(lambda: viewer.frames >= 10, "frames at the viewer on a freed port")
        assert candidate_ports(viewer.pc.remoteDescription.sdp) <= set(range(low, high + 1))
    finally:
        for peer in peers:
            await (peer.close() if isinstance(peer, Subscriber) else peer.pc.close())


async def _offer() -> str:
    from aiortc import RTCPeerConnection

    from tests.media_peers import client_configuration

    pc = RTCPeerConnection(client_configuration())
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp

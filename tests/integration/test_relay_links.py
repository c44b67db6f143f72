"""Relay links: origin -> edges (and a chain of three) over real WHEP between servers.

Each node is a real in-process server (``create_app`` + ``start_server``, as ``serve``
builds it) with its own data dir; the nodes share one signing secret, as a deployment's
nodes do, so each edge's own relay token (no ``relay.token`` set) verifies upstream.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection

from config import Event, RelaySettings, Settings
from signaling.auth import Grant, Role, TokenAuthority, load_or_create_secret
from streaming.hub import MediaHub
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET
from tests.integration.test_forwarding import BRIGHT, near
from tests.media_peers import Publisher, Subscriber, free_port, needs_network, publish, subscribe
from web.app import create_app
from web.keys import MEDIA
from web.server import RunningServer, start_server

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
RETURN_FEED = "us-return"  # needs a token to play: the edges' own relay tokens may
GRACE = 1.5


@dataclass
class Node:
    name: str
    url: str
    settings: Settings
    app: web.Application
    server: RunningServer

    @property
    def hub(self) -> MediaHub:
        return self.app[MEDIA]

    async def aclose(self) -> None:
        await self.server.aclose()


class Cluster:
    """Starts nodes that share a signing secret; stops them all at the end."""

    def __init__(self, root: Path, event: Event, http: aiohttp.ClientSession) -> None:
        self.root = root
        self.event = event
        self.http = http
        self.secret_dir = root / "secret"
        authority = TokenAuthority(load_or_create_secret(self.secret_dir), audience=event.id)
        # The test's own director token (players of return feeds, /api/streams).
        self.relay_token = authority.mint(Grant(identity="relay", role=Role.DIRECTOR), ttl=3600)
        self.nodes: list[Node] = []

    async def start(
        self,
        name: str,
        upstream: Node | None = None,
        port: int = 0,
        wait: float = 5.0,
        own_key: bool = False,
    ) -> Node:
        """A node; ``own_key``: with a signing key of its own (a misconfigured node)."""
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        if not own_key:
            shutil.copy(self.secret_dir / "signing.key", data / "signing.key")
        relay = RelaySettings(
            upstream=upstream.url if upstream else None,
            grace_seconds=GRACE,
            wait_seconds=wait,
            stall_seconds=1.5,
            retry_max_seconds=2.0,
        )
        settings = local_settings(data_dir=data, producer_secret=PRODUCER_SECRET, relay=relay)
        app = create_app(settings, self.event)
        server = await start_server(app, settings, host="127.0.0.1", port=port)
        node = Node(name, f"http://127.0.0.1:{server.port}", settings, app, server)
        self.nodes.append(node)
        return node

    async def streams(self, node: Node) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.relay_token}"}
        async with self.http.get(f"{node.url}/api/streams", headers=headers) as response:
            assert response.status == 200
            result: dict[str, Any] = await response.json()
            return result

    async def aclose(self) -> None:
        for node in reversed(self.nodes):
            await node.aclose()


@pytest.fixture
async def cluster(tmp_path: Path, reference_event: Event) -> AsyncIterator[Cluster]:
    async with aiohttp.ClientSession() as http:
        nodes = Cluster(tmp_path, reference_event, http)
        try:
            yield nodes
        finally:
            await nodes.aclose()


async def close_peer(peer: Any) -> None:
    if isinstance(peer, Subscriber | RTCPeerConnection):
        await peer.close()
    else:
        await peer.pc.close()


def pulls_of(node: Node, channel: str) -> int:
    """WHEP sessions at ``node`` for ``channel`` (each a pull of a downstream node here)."""
    return node.hub.audience().per_channel.get(channel, 0)


def frames_grow(viewers: list[Subscriber], by: int) -> Callable[[], bool]:
    marks = [v.frames for v in viewers]
    return lambda: all(v.frames >= m + by for v, m in zip(viewers, marks, strict=True))


def count_keyframe_requests(publisher: Publisher) -> list[int]:
    """Counts the PLI/FIRs the real publisher's encoder is asked to honour."""
    counted = [0]
    for transceiver in publisher.pc.getTransceivers():
        if transceiver.kind != "video":
            continue
        sender = transceiver.sender
        original = sender._send_keyframe

        def counting(original: Callable[[], None] = original) -> None:
            counted[0] += 1
            original()

        sender._send_keyframe = counting
    return counted


async def send_picture_loss(viewer: Subscriber) -> None:
    """What a browser sends when its decoder needs a keyframe: an RTCP PLI."""
    for transceiver in viewer.pc.getTransceivers():
        if transceiver.kind == "video":
            receiver = transceiver.receiver
            for ssrc in list(receiver._RTCRtpReceiver__remote_streams):
                await receiver._send_rtcp_pli(ssrc)


async def test_one_pull_per_edge_keyframes_upstream_and_grace(cluster: Cluster) -> None:
    http = cluster.http
    origin = await cluster.start("origin")
    edges = [await cluster.start("edge-a", origin), await cluster.start("edge-b", origin)]
    peers: list[Any] = []
    try:
        publisher = await publish(http, f"{origin.url}/whip/{CHANNEL}", PRODUCER_SECRET, BRIGHT)
        peers.append(publisher)
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the origin to go live")

        # Edge A: the first viewer waits while its edge connects the pull, then two more.
        # Edge B: three viewers at once, all while the pull is connecting.
        a, b = (f"{edge.url}/whep/{CHANNEL}" for edge in edges)
        viewers = {"edge-a": [await subscribe(http, a) for _ in range(3)]}
        viewers["edge-b"] = list(await asyncio.gather(*(subscribe(http, b) for _ in range(3))))
        everyone = [v for group in viewers.values() for v in group]
        peers += everyone
        await eventually(frames_grow(everyone, 30), "30 frames at each edge viewer", within=20)
        assert all(near(v.last_luma, BRIGHT) for v in everyone)

        # Six viewers over two edges: the origin serves exactly one session per edge.
        assert pulls_of(origin, CHANNEL) == 2
        streams = await cluster.streams(origin)
        feeds = [s["feed"] for s in streams["subscribers"]]
        assert feeds.count(f"channel:{CHANNEL}") == 2
        for edge in edges:
            assert pulls_of(edge, CHANNEL) == 3
            relays = (await cluster.streams(edge))["relays"]
            assert [(r["channel"], r["upstream"], r["state"]) for r in relays] == [
                (CHANNEL, origin.url, "live")
            ]
            assert relays[0]["packets"] > 0
            assert edge.hub.channel(CHANNEL).health == "live"
        metrics = await (await http.get(f"{edges[0].url}/metrics")).text()
        assert f'venuebridge_media_relay_up{{channel="{CHANNEL}",upstream="{origin.url}"}} 1.0' in (
            metrics
        )

        # A burst of PLIs from all three viewers of one edge: coalesced on the way up,
        # and the real publisher at the origin is asked for a keyframe.
        asked = count_keyframe_requests(publisher)
        await asyncio.sleep(1.0)
        before_relay = (await cluster.streams(edges[0]))["relays"][0]["keyframe_requests_sent"]
        before_publisher = asked[0]
        for _ in range(5):
            await asyncio.gather(*(send_picture_loss(v) for v in viewers["edge-a"]))

        async def relay_asked() -> bool:
            relays = (await cluster.streams(edges[0]))["relays"]
            return bool(relays[0]["keyframe_requests_sent"] > before_relay)

        # (The origin's HLS packager asks the publisher for keyframes too, so the relay's
        # own count is what shows the PLIs went up.)
        await eventually(relay_asked, "a PLI to go up the relay link")
        await eventually(lambda: asked[0] > before_publisher, "a PLI to reach the publisher")
        await asyncio.sleep(0.3)  # any second request of the burst
        relay_now = (await cluster.streams(edges[0]))["relays"][0]["keyframe_requests_sent"]
        # 15 PLIs within a fraction of a second: one (at most two) go upstream.
        assert 1 <= relay_now - before_relay <= 2

        # The last viewer of edge A leaves: its pull ends after the grace, not before.
        for viewer in viewers["edge-a"]:
            await viewer.close()
            peers.remove(viewer)
        await asyncio.sleep(GRACE / 2)
        assert pulls_of(origin, CHANNEL) == 2, "the pull ended before its grace period"
        await eventually(lambda: pulls_of(origin, CHANNEL) == 1, "edge A's pull to end", 10)
        assert (await cluster.streams(edges[0]))["relays"] == []
        # Ended on purpose: the channel is idle there, not lost (no alarm).
        await eventually(lambda: edges[0].hub.channel(CHANNEL).health == "idle", "edge A idle")
        assert edges[0].hub.channel(CHANNEL).lost_total == 0
        # Edge B's viewers never noticed.
        await eventually(frames_grow(viewers["edge-b"], 15), "frames at edge B")
    finally:
        for peer in peers:
            await close_peer(peer)


async def test_chain_of_three_survives_an_origin_restart(cluster: Cluster) -> None:
    http = cluster.http
    port = free_port()
    origin = await cluster.start("origin", port=port)
    region = await cluster.start("region", origin)
    city = await cluster.start("city", region)
    peers: list[Any] = []
    try:
        whip = f"{origin.url}/whip/{RETURN_FEED}"
        peers.append(await publish(http, whip, PRODUCER_SECRET, BRIGHT))
        await eventually(lambda: origin.hub.channel(RETURN_FEED).live, "the origin to go live")
        # A return feed needs a token at the city too (the relay's own does not leak).
        async with http.post(
            f"{city.url}/whep/{RETURN_FEED}",
            data="v=0\r\n",
            headers={"Content-Type": "application/sdp"},
        ) as response:
            assert response.status == 401
        viewers = [
            await subscribe(http, f"{city.url}/whep/{RETURN_FEED}", token=cluster.relay_token)
            for _ in range(3)
        ]
        peers += viewers
        await eventually(frames_grow(viewers, 30), "30 frames at each city viewer", within=20)
        assert pulls_of(origin, RETURN_FEED) == 1  # the region's pull
        assert pulls_of(region, RETURN_FEED) == 1  # the city's pull
        assert pulls_of(city, RETURN_FEED) == 3
        region_relays = (await cluster.streams(region))["relays"]
        assert [(r["upstream"], r["state"]) for r in region_relays] == [(origin.url, "live")]
        city_relays = (await cluster.streams(city))["relays"]
        assert [(r["upstream"], r["state"]) for r in city_relays] == [(region.url, "live")]

        # The origin goes away and comes back on the same address; its producer
        # publishes again. The city's viewers keep their sessions and get frames again.
        await origin.aclose()
        cluster.nodes.remove(origin)
        await eventually(
            lambda: city.hub.channel(RETURN_FEED).health == "lost", "the city to see it lost"
        )
        stalled = [v.frames for v in viewers]
        origin = await cluster.start("origin", port=port)
        peers.append(await publish(http, whip, PRODUCER_SECRET, BRIGHT))
        await eventually(
            lambda: all(v.frames >= m + 30 for v, m in zip(viewers, stalled, strict=True)),
            "frames at the city viewers after the restart",
            within=30,
        )
        assert city.hub.channel(RETURN_FEED).health == "live"
        assert pulls_of(origin, RETURN_FEED) == 1
        assert pulls_of(region, RETURN_FEED) == 1
        assert (await cluster.streams(region))["relays"][0]["attempts"] >= 2
    finally:
        for peer in peers:
            await close_peer(peer)


async def test_not_live_upstream_answers_409_and_venue_outputs_pull(cluster: Cluster) -> None:
    http = cluster.http
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin, wait=1.0)
    peers: list[Any] = []
    try:
        # Nobody publishes at the origin: the edge waits (bounded), then a 409 the page
        # retries after Retry-After; the link keeps trying upstream meanwhile.
        headers = {"Content-Type": "application/sdp"}
        async with http.post(f"{edge.url}/whep/{CHANNEL}", data="v=0\r\n", headers=headers) as r:
            assert r.status == 400  # junk is refused before anything is pulled for it
        assert edge.hub.snapshot().relays == ()
        player = RTCPeerConnection()
        peers.append(player)
        player.addTransceiver("video", direction="recvonly")
        player.addTransceiver("audio", direction="recvonly")
        await player.setLocalDescription(await player.createOffer())
        offer = player.localDescription.sdp
        async with http.post(f"{edge.url}/whep/{CHANNEL}", data=offer, headers=headers) as r:
            assert r.status == 409
            assert r.headers["Retry-After"] == "5"
        relays = (await cluster.streams(edge))["relays"]
        assert relays[0]["upstream"] == origin.url
        assert relays[0]["state"] in ("connecting", "retrying")
        await eventually(
            lambda: "409" in str(edge.hub.snapshot().relays[0].last_error), "the upstream's 409"
        )
        # Nobody waits and nobody plays: the link gives up after the grace.
        await eventually(lambda: edge.hub.snapshot().relays == (), "the unwanted link to end")

        # A venue output routed to the channel, with a player, is a local viewer too.
        peers.append(await publish(http, f"{origin.url}/whip/{CHANNEL}", PRODUCER_SECRET, BRIGHT))
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the origin to go live")
        edge.hub.route("us", CHANNEL)
        projector = await subscribe(http, f"{edge.url}/whep/venue/us", token=cluster.relay_token)
        peers.append(projector)
        await eventually(frames_grow([projector], 30), "frames at the venue output", within=20)
        assert pulls_of(origin, CHANNEL) == 1
        assert [r.state for r in edge.hub.snapshot().relays] == ["live"]

        # Routed elsewhere: the pull ends after its grace although the player stays.
        edge.hub.route("us", None)
        await eventually(lambda: pulls_of(origin, CHANNEL) == 0, "the pull to end", 10)
        assert edge.hub.snapshot().relays == ()
    finally:
        for peer in peers:
            await close_peer(peer)


async def test_an_edge_with_another_signing_key_says_so(cluster: Cluster) -> None:
    """Its relay token is refused upstream: the link says which setting to check, not
    just that the channel is not live."""
    http = cluster.http
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin, wait=1.0, own_key=True)
    peers: list[Any] = [
        await publish(http, f"{origin.url}/whip/{CHANNEL}", PRODUCER_SECRET, BRIGHT)
    ]
    try:
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the origin to go live")
        player = RTCPeerConnection()
        peers.append(player)
        player.addTransceiver("video", direction="recvonly")
        await player.setLocalDescription(await player.createOffer())
        headers = {"Content-Type": "application/sdp"}
        async with http.post(
            f"{edge.url}/whep/{CHANNEL}", data=player.localDescription.sdp, headers=headers
        ) as response:
            assert response.status == 409  # the viewer: not live here
        await eventually(
            lambda: "signing key" in str(edge.hub.snapshot().relays[0].last_error),
            "the link to name the key mismatch",
        )
        assert "403" in str(edge.hub.snapshot().relays[0].last_error)
    finally:
        for peer in peers:
            await close_peer(peer)

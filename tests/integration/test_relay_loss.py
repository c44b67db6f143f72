"""A relay link under loss recovers: origin + edge in one process, the long link bent.

The edge's pull of the channel crosses ``tests/lossy_link.py``: 5 % of the RTP from the
origin dropped by a seeded RNG and 75 ms each way (a 150 ms round trip), then a burst of
consecutive losses. A real aiortc publisher at the origin, a real aiortc viewer at the
edge; the stats are read where an operator reads them (``/api/streams``, ``/metrics``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from config import Event, RelaySettings
from streaming.packet import MediaPacket
from streaming.relay import RelayPull
from streaming.send_batch import SendBatch
from tests.helpers import eventually
from tests.integration import test_relay_links as relay_links
from tests.integration.conftest import PRODUCER_SECRET
from tests.integration.test_forwarding import BRIGHT
from tests.integration.test_relay_links import (
    CHANNEL,
    Cluster,
    Node,
    close_peer,
    count_keyframe_requests,
    frames_grow,
)
from tests.lossy_link import LossyLink
from tests.media_peers import (
    FlatVideoTrack,
    Publisher,
    SilenceTrack,
    needs_network,
    subscribe,
)

pytestmark = [pytest.mark.network, needs_network]

ONE_WAY = 0.075
FEC = "useinbandfec=1"


def with_fec_offered(sdp: str) -> str:
    """What Chrome and OBS put in their offers and aiortc does not: Opus FEC wanted."""
    match = re.search(r"a=rtpmap:(\d+) opus/48000/2", sdp)
    assert match is not None
    line = match.group(0)
    return sdp.replace(line, f"{line}\r\na=fmtp:{match.group(1)} minptime=10;{FEC}")


def opus_fmtp(sdp: str) -> str:
    match = re.search(r"a=rtpmap:(\d+) opus/48000", sdp)
    assert match is not None
    fmtp = re.search(rf"a=fmtp:{match.group(1)} (.*)", sdp)
    return fmtp.group(1).strip() if fmtp else ""


async def publish_offering_fec(http: aiohttp.ClientSession, url: str) -> tuple[Publisher, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks = (FlatVideoTrack(BRIGHT), SilenceTrack())
    for track in tracks:
        pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {PRODUCER_SECRET}"}
    offer = with_fec_offered(pc.localDescription.sdp)
    async with http.post(url, data=offer, headers=headers) as response:
        answer = await response.text()
        assert response.status == 201, answer
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return Publisher(pc, response.headers["Location"], response.headers, tracks), answer


@pytest.fixture
async def cluster(tmp_path: Path, reference_event: Event) -> AsyncIterator[Cluster]:
    async with aiohttp.ClientSession() as http:
        nodes = Cluster(tmp_path, reference_event, http)
        try:
            yield nodes
        finally:
            await nodes.aclose()


class PullSpy:
    """Bends each relay pull's connection and keeps the SDP it exchanged."""

    def __init__(self, link: LossyLink, monkeypatch: pytest.MonkeyPatch) -> None:
        self.link = link
        self.offers: list[str] = []
        self.answers: list[str] = []
        offer, accept = RelayPull.offer, RelayPull.accept

        async def bent_offer(session: RelayPull) -> str:
            sdp = await offer(session)
            link.install(session.pc)
            self.offers.append(sdp)
            return sdp

        async def kept_accept(session: RelayPull, answer_sdp: str) -> None:
            self.answers.append(answer_sdp)
            await accept(session, answer_sdp)

        monkeypatch.setattr(RelayPull, "offer", bent_offer)
        monkeypatch.setattr(RelayPull, "accept", kept_accept)


async def relay_of(cluster: Cluster, edge: Node) -> dict[str, Any]:
    relays = (await cluster.streams(edge))["relays"]
    assert len(relays) == 1
    relay: dict[str, Any] = relays[0]
    return relay


async def test_a_relay_link_under_loss_recovers(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = cluster.http
    link = LossyLink(seed=13, loss=0.05, delay=ONE_WAY)
    spy = PullSpy(link, monkeypatch)
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin)
    peers: list[Any] = []
    try:
        publisher, whip_answer = await publish_offering_fec(http, f"{origin.url}/whip/{CHANNEL}")
        peers.append(publisher)
        assert FEC in opus_fmtp(whip_answer)  # the publisher's encoder may add FEC
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the origin to go live")

        viewer = await subscribe(http, f"{edge.url}/whep/{CHANNEL}")
        peers.append(viewer)
        await eventually(frames_grow([viewer], 30), "first frames through the lossy link", 20)
        # The pull asked for FEC and the origin kept it in its answer.
        assert [FEC in opus_fmtp(sdp) for sdp in spy.offers + spy.answers] == [True, True]

        # 5 % loss, 150 ms round trip: losses are NACKed, repaired, and the viewer decodes.
        async def repaired() -> bool:
            return bool((await relay_of(cluster, edge))["retransmissions"] >= 5)

        await eventually(repaired, "five repaired losses on the pull", within=30)
        await eventually(frames_grow([viewer], 60), "frames at the edge viewer under loss", 20)
        assert link.dropped >= 5
        relay = await relay_of(cluster, edge)
        assert relay["state"] == "live"
        assert relay["nacks_sent"] >= 1
        assert relay["rtt_s"] >= 2 * ONE_WAY  # seen from NACK to repair
        streams = (await cluster.streams(origin))["subscribers"]
        (pull,) = [s for s in streams if s["feed"] == f"channel:{CHANNEL}"]
        video = next(t for t in pull["tracks"] if t["kind"] == "video")
        assert video["retransmitted"] >= 5
        assert video["nacks_received"] >= 1

        async def origin_rtt_known() -> bool:
            streams = (await cluster.streams(origin))["subscribers"]
            tracks = [t for s in streams for t in s["tracks"] if t["kind"] == "video"]
            return bool(tracks[0]["rtt_s"] is not None and tracks[0]["nack_history"] >= 512)

        await eventually(origin_rtt_known, "the origin to measure the edge's RTT from RRs")
        streams = (await cluster.streams(origin))["subscribers"]
        origin_video = next(t for s in streams for t in s["tracks"] if t["kind"] == "video")
        assert origin_video["rtt_s"] >= 2 * ONE_WAY

        # A burst: 40 packets in a row (about half a second) never arrive. Loss far above
        # the threshold: the edge asks for a keyframe at once, the origin's publisher is
        # asked, and the viewer's picture recovers.
        asked = count_keyframe_requests(publisher)
        before = await relay_of(cluster, edge)
        link.burst = 40

        async def asked_for_keyframe() -> bool:
            return bool((await relay_of(cluster, edge))["keyframes_for_loss"] > 0)

        await eventually(asked_for_keyframe, "a keyframe request for the burst", within=10)
        await eventually(lambda: asked[0] >= 1, "the PLI to reach the publisher at the origin")
        await eventually(frames_grow([viewer], 30), "frames at the edge viewer after the burst")
        after = await relay_of(cluster, edge)
        assert after["keyframe_requests_sent"] > before["keyframe_requests_sent"]
        assert after["freezes"] >= 1
        assert after["freeze_s"] > 0.2
        assert after["attempts"] == 1  # recovered on the same pull, not by reconnecting
        assert edge.hub.channel(CHANNEL).lost_total == 0

        metrics = await (await http.get(f"{edge.url}/metrics")).text()
        labels = f'{{channel="{CHANNEL}",upstream="{origin.url}"}}'
        for name in ("retransmissions_total", "keyframes_for_loss_total", "freezes_total"):
            value = re.search(rf"venuebridge_media_relay_{name}{re.escape(labels)} (\S+)", metrics)
            assert value is not None, name
            assert float(value.group(1)) >= 1, name
        assert f"venuebridge_media_relay_rtt_seconds{labels}" in metrics
    finally:
        for peer in peers:
            await close_peer(peer)


async def test_a_player_offering_fec_gets_it_at_the_edge(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = cluster.http
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin)
    peers: list[Any] = []
    try:
        publisher, _ = await publish_offering_fec(http, f"{origin.url}/whip/{CHANNEL}")
        peers.append(publisher)
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the origin to go live")
        player = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peers.append(player)
        player.addTransceiver("video", direction="recvonly")
        player.addTransceiver("audio", direction="recvonly")
        await player.setLocalDescription(await player.createOffer())
        headers = {"Content-Type": "application/sdp"}
        plain = player.localDescription.sdp
        async with http.post(
            f"{edge.url}/whep/{CHANNEL}", data=with_fec_offered(plain), headers=headers
        ) as response:
            answer = await response.text()
            assert response.status == 201, answer
        assert FEC in opus_fmtp(answer)
        # A player that did not offer it is not told about it.
        async with http.post(f"{edge.url}/whep/{CHANNEL}", data=plain, headers=headers) as r:
            assert r.status == 201
            assert FEC not in opus_fmtp(await r.text())
    finally:
        for peer in peers:
            await close_peer(peer)


class ReleaseSpy:
    """A consumer of the edge's channel: the order its video packets reach local viewers."""

    kinds = (True,)

    def __init__(self) -> None:
        self.in_order = 0
        self.backwards = 0  # a packet not flagged late behind one already delivered
        self.late = 0
        self._last: int | None = None

    def start(self, gop: Sequence[MediaPacket]) -> None:
        pass

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        if packet.late:
            self.late += 1
            return
        last, self._last = self._last, packet.sequence_number
        if last is not None and not 0 < (packet.sequence_number - last) % 65536 < 32768:
            self.backwards += 1
        self.in_order += 1


async def test_the_repair_hold_gives_edge_viewers_repaired_video_in_order(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5 % loss and 150 ms each way: packets after a hole wait for its repair at the edge,
    so local viewers get the stream in sequence order, holes filled."""
    http = cluster.http
    link = LossyLink(seed=29, loss=0.05, delay=2 * ONE_WAY)
    PullSpy(link, monkeypatch)
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin)
    peers: list[Any] = []
    try:
        publisher, _ = await publish_offering_fec(http, f"{origin.url}/whip/{CHANNEL}")
        peers.append(publisher)
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the origin to go live")
        viewer = await subscribe(http, f"{edge.url}/whep/{CHANNEL}")
        peers.append(viewer)
        await eventually(frames_grow([viewer], 30), "first frames through the lossy link", 20)
        spy = ReleaseSpy()
        edge.hub._source(CHANNEL).add_consumer(spy)

        async def repaired_in_hold() -> bool:
            relay = await relay_of(cluster, edge)
            return bool(relay["holes_repaired_in_hold"] >= 10 and spy.in_order >= 300)

        await eventually(repaired_in_hold, "ten holes repaired while the hold waited", 40)
        await eventually(frames_grow([viewer], 60), "frames at the edge viewer under loss", 20)
        relay = await relay_of(cluster, edge)
        assert link.dropped >= 10
        assert relay["held_packets"] > relay["holes_repaired_in_hold"]
        assert 0 < relay["hold_s"] <= 1.0  # relay.repair_hold_ms, the default
        assert relay["hold_longest_wait_s"] > 0
        assert spy.backwards == 0
        (session,) = [s for s in edge.hub._publishers.values() if isinstance(s, RelayPull)]
        held = session.held
        assert held is not None
        assert held.out_of_order == 0
        assert held.hold.stats.released >= spy.in_order
    finally:
        for peer in peers:
            await close_peer(peer)


async def test_no_repair_hold_when_it_is_off(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``relay.repair_hold_ms = 0``: the pull forwards video as it comes, holes and all."""
    monkeypatch.setattr(relay_links, "RelaySettings", partial(RelaySettings, repair_hold_ms=0))
    link = LossyLink(seed=31, loss=0.05, delay=ONE_WAY)
    PullSpy(link, monkeypatch)
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin)
    peers: list[Any] = []
    try:
        publisher, _ = await publish_offering_fec(cluster.http, f"{origin.url}/whip/{CHANNEL}")
        peers.append(publisher)
        viewer = await subscribe(cluster.http, f"{edge.url}/whep/{CHANNEL}")
        peers.append(viewer)
        spy = ReleaseSpy()
        edge.hub._source(CHANNEL).add_consumer(spy)

        async def repaired() -> bool:
            return bool((await relay_of(cluster, edge))["retransmissions"] >= 5)

        await eventually(repaired, "five repaired losses on the pull", within=30)
        relay = await relay_of(cluster, edge)
        assert (relay["hold_s"], relay["held_packets"]) == (0, 0)
        assert spy.late >= 1  # repairs reach local viewers after what followed them
        (session,) = [s for s in edge.hub._publishers.values() if isinstance(s, RelayPull)]
        assert session.held is None
    finally:
        for peer in peers:
            await close_peer(peer)

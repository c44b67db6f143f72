"""307 steering and directory relays between real nodes on a real redis-server.

Two in-process servers (``create_app`` + ``start_server``, as ``serve`` builds them) on one
redis-server of their own: "gz" (region cn, where the producer publishes) and "edge-us"
(region us), which is venue us's home node in the event file. No ``relay.upstream`` and
no ``relay.token`` anywhere: the edge finds the channel's holder in the directory and
pulls with its own relay token, minted with the secret the nodes share on Redis.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection

from config import Event, RelaySettings, Settings
from config.settings import NodeSettings
from signaling.auth import Grant, Role
from streaming.hub import MediaHub
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET
from tests.integration.test_forwarding import BRIGHT
from tests.media_peers import free_port, needs_network, publish
from tests.redis_server import running_redis
from tests.steered_viewer import steered_offer
from web.app import create_app
from web.keys import AUTHORITY, DIRECTORY, MEDIA
from web.logs import RedactPasses
from web.server import RunningServer, start_server

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
VENUE = "us"
RETURN_FEED = "us-return"
SDP = {"Content-Type": "application/sdp"}
HEARTBEAT, TTL = 0.2, 1.0


@dataclass
class Node:
    id: str
    url: str
    app: web.Application
    server: RunningServer

    @property
    def hub(self) -> MediaHub:
        return self.app[MEDIA]

    def token(self, role: Role, **scope: Any) -> str:
        grant = Grant(f"{role.value}-1", role, **scope)
        return str(self.app[AUTHORITY].mint(grant, ttl=600))


class Nodes:
    def __init__(self, root: Path, event: Event, redis_url: str) -> None:
        self.root, self.event, self.redis_url = root, event, redis_url
        self.nodes: dict[str, Node] = {}

    async def start(self, node_id: str, region: str, routing: bool = False) -> Node:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings: Settings = local_settings(
            data_dir=self.root / node_id,
            producer_secret=PRODUCER_SECRET,
            redis_url=self.redis_url,
            routing=routing,
            node=NodeSettings(
                id=node_id, region=region, url=url, heartbeat_seconds=HEARTBEAT, ttl_seconds=TTL
            ),
            relay=RelaySettings(grace_seconds=1.0, stall_seconds=1.5, retry_max_seconds=2.0),
        )
        app = create_app(settings, self.event)
        server = await start_server(app, settings, host="127.0.0.1", port=port)
        node = self.nodes[node_id] = Node(node_id, url, app, server)
        return node

    async def stop(self, node_id: str) -> None:
        await self.nodes.pop(node_id).server.aclose()

    async def aclose(self) -> None:
        for node_id in reversed(list(self.nodes)):
            await self.stop(node_id)


def with_home(event: Event, venue: str, home: str) -> Event:
    venues = tuple(
        dataclasses.replace(v, home_node=home) if v.id == venue else v for v in event.venues
    )
    return dataclasses.replace(event, venues=venues)


@pytest.fixture
async def nodes(tmp_path: Path, reference_event: Event) -> AsyncIterator[Nodes]:
    (tmp_path / "redis-data").mkdir()
    with running_redis(tmp_path / "redis-data") as url:
        cluster = Nodes(tmp_path, with_home(reference_event, VENUE, "edge-us"), url)
        try:
            yield cluster
        finally:
            await cluster.aclose()


async def up(node: Node, *ids: str) -> bool:
    return {n.id for n in await node.app[DIRECTORY].nodes()} >= set(ids)


async def offer_sdp() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_whep_redirect_to_the_home_node(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    gz = await nodes.start("gz", "cn", routing=True)
    edge = await nodes.start("edge-us", "us")
    await eventually(lambda: up(gz, "gz", "edge-us"), "both nodes in the directory")
    operator = gz.token(Role.OPERATOR, venue=VENUE)
    pcs: list[Any] = []
    async with aiohttp.ClientSession() as http:
        try:
            publisher = await publish(http, f"{gz.url}/whip/{CHANNEL}", PRODUCER_SECRET, BRIGHT)
            pcs.append(publisher.pc)
            await eventually(lambda: gz.hub.channel(CHANNEL).live, "the channel live at gz")
            # The home node shows venue us's programme: routed there (where it is served).
            edge.hub.route(VENUE, CHANNEL)

            # Refusals come first, at the node asked: no redirect, no pass.
            pc, offer = await offer_sdp()
            pcs.append(pc)
            entry = f"{gz.url}/whep/venue/{VENUE}"
            viewer = gz.token(Role.VIEWER)
            for headers, status in (
                (SDP, 401),
                ({**SDP, "Authorization": f"Bearer {viewer}"}, 403),
                ({**SDP, "Authorization": "Bearer forged"}, 403),
            ):
                async with http.post(
                    entry, data=offer, headers=headers, allow_redirects=False
                ) as response:
                    assert response.status == status
                    assert "Location" not in response.headers
            async with http.post(
                f"{gz.url}/whep/venue/atlantis", data=offer, headers=SDP, allow_redirects=False
            ) as response:
                assert response.status == 404

            # The operator is sent to the home node, with a pass for exactly this.
            bearer = {**SDP, "Authorization": f"Bearer {operator}"}
            async with http.post(entry, data=offer, headers=bearer, allow_redirects=False) as r:
                assert r.status == 307
                location = r.headers["Location"]
                assert r.headers["Cache-Control"] == "no-store"
                assert r.headers["Access-Control-Allow-Origin"] == "*"
            parts = urlsplit(location)
            query = parse_qs(parts.query)
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{edge.url}/whep/venue/us"
            assert query["via"] == ["gz"]
            [granted] = query["access_token"]
            assert granted != operator  # never the caller's own token in a URL
            # The pass is good for that one path only, and is no token elsewhere.
            for path in ("/whep/venue/jp", f"/whip/{RETURN_FEED}", f"/whep/{RETURN_FEED}"):
                async with http.post(
                    f"{edge.url}{path}?access_token={granted}", data=offer, headers=SDP
                ) as response:
                    assert response.status in (401, 403), path
            async with http.get(
                f"{edge.url}/api/nodes", headers={"Authorization": f"Bearer {granted}"}
            ) as response:
                assert response.status == 403

            # Followed the way a browser does (Authorization dropped across origins): the
            # venue output plays from the home node, pulled there from gz with the edge's
            # own relay token; the session URL is the home node's.
            steered = await steered_offer(http, entry, pc, operator)
            assert steered.redirected
            assert steered.final_url.startswith(f"{edge.url}/whep/venue/us?")
            assert steered.location.startswith(f"{edge.url}/whep/venue/us/")
            await eventually(lambda: pc.connectionState == "connected", "the player connected")
            await eventually(
                lambda: edge.hub.venue_output(VENUE).on_air_channel == CHANNEL,
                "the channel on air at the home node",
            )
            assert edge.hub.audience().per_venue == {VENUE: 1}
            await eventually(
                lambda: _first_frame(edge, f"venue:{VENUE}"), "frames to the player at the edge"
            )
            # One pull from gz (a relay session), and the edge never claims the channel.
            assert gz.hub.audience().per_channel == {CHANNEL: 1}
            [relay] = edge.hub.snapshot().relays
            assert (relay.upstream, relay.state) == (gz.url, "live")
            assert await edge.app[DIRECTORY].owner(CHANNEL) == "gz"
            async with http.delete(steered.location) as response:
                assert response.status == 200
            await eventually(
                lambda: not edge.hub.audience().per_venue, "the player gone at the edge"
            )

            # A request that was redirected once is served where it lands (no loops).
            async with http.post(
                f"{gz.url}/whep/venue/{VENUE}?via=edge-us", data=offer, headers=bearer
            ) as response:
                assert response.status == 201
                assert str(response.url).startswith(gz.url)
                await http.delete(response.headers["Location"])

            # The return feed's WHIP goes to the home node too.
            whip = f"{gz.url}/whip/{RETURN_FEED}"
            async with http.post(whip, data=offer, headers=bearer, allow_redirects=False) as r:
                assert r.status == 307
                assert r.headers["Location"].startswith(f"{edge.url}/whip/{RETURN_FEED}?via=gz&")
            async with http.post(whip, data=offer, headers=SDP, allow_redirects=False) as r:
                assert r.status == 401

            # The home node goes away: once its entry expires, gz serves the venue itself.
            await nodes.stop("edge-us")
            await eventually(lambda: _not(up(gz, "edge-us")), "the home node to drop out", 5)
            async with http.post(entry, data=offer, headers=bearer, allow_redirects=False) as r:
                assert r.status == 201
                await http.delete(r.headers["Location"])
        finally:
            for peer in pcs:
                await peer.close()
    # The pass never reaches a log line, even with the access log on.
    assert "access_token=[redacted]" in caplog.text
    assert "access_token=ey" not in caplog.text


def _first_frame(node: Node, feed: str) -> bool:
    return any(
        s.feed == feed and s.time_to_first_frame_s is not None for s in node.hub.subscribers()
    )


async def _not(result: Any) -> bool:
    return not await result


async def test_region_steering_for_channel_viewers(nodes: Nodes) -> None:
    gz = await nodes.start("gz", "cn", routing=True)
    edge = await nodes.start("edge-us", "us")
    await eventually(lambda: up(gz, "gz", "edge-us"), "both nodes in the directory")
    pc, offer = await offer_sdp()
    async with aiohttp.ClientSession() as http:
        try:
            base = f"{gz.url}/whep/{CHANNEL}"
            async with http.post(
                f"{base}?region=us", data=offer, headers=SDP, allow_redirects=False
            ) as r:
                # A public channel: no token came, so no pass goes along.
                assert r.status == 307
                assert r.headers["Location"] == f"{edge.url}/whep/{CHANNEL}?region=us&via=gz"
            async with http.options(f"{base}?region=us", allow_redirects=False) as r:
                assert r.status == 307  # the page reads the serving node's ICE servers
                assert r.headers["Location"] == f"{edge.url}/whep/{CHANNEL}?region=us&via=gz"
            preflight = {"Access-Control-Request-Method": "POST", "Origin": "https://x.example"}
            async with http.options(f"{base}?region=us", headers=preflight) as r:
                assert r.status == 204  # a CORS preflight is never redirected
            # Served here: its own region, a region with no node up, no region at all.
            for query in ("?region=cn", "?region=kr", ""):
                async with http.post(
                    f"{base}{query}", data=offer, headers=SDP, allow_redirects=False
                ) as r:
                    assert r.status == 409, query  # not live: served (refused) here
            async with http.post(f"{base}?region=EU!", data=offer, headers=SDP) as r:
                assert r.status == 400
                assert "region" in await r.text()
        finally:
            await pc.close()


def test_the_access_log_never_shows_a_pass() -> None:
    record = logging.LogRecord(
        "aiohttp.access", logging.INFO, __file__, 1,
        '%s "%s" %s', ("10.0.0.1", "POST /whep/x?via=gz&access_token=eyJ.secret HTTP/1.1", 201),
        None,
    )  # fmt: skip
    assert RedactPasses().filter(record)
    assert record.getMessage() == (
        '10.0.0.1 "POST /whep/x?via=gz&access_token=[redacted] HTTP/1.1" 201'
    )

"""Origin and regional edges as separate processes in separate network namespaces.

Three (or two) real ``venuebridge serve`` nodes, each in its own namespace joined to the
test's by a veth (``tests/topology/``), one real redis-server every node reaches over
its link, aiortc publishers and viewers and a Chromium player in the test namespace.
Checked here: one pull per edge however many viewers; a Redis restart that nodes ride
out (they re-register, media never stops in aiortc or in Chromium, no pull is re-made);
a long-haul link with 150 ms one-way delay and random loss (nftables in the edge's
namespace) that still carries the channel, and that comes back by itself after being cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import eventually
from tests.integration.test_forwarding import BRIGHT, near
from tests.media_peers import Subscriber, needs_network, publish, subscribe
from tests.topology.browser import BROWSER_STATS, chromium_viewer
from tests.topology.cluster import MEDIA_PORT, SECRET, Node, Topology
from tests.topology.viewers import RtpViewer, frames_grow, reset_gaps, watch

pytestmark = [pytest.mark.network, needs_network, pytest.mark.requires("namespaces")]

CHANNEL = "gz-hall-1"
VIEWERS_PER_EDGE = 10
HEARTBEAT, TTL = 0.2, 1.0
# A pull that had to be re-made would leave its viewers without frames for at least
# relay.stall_seconds plus a new negotiation; scheduling noise stays far below this.
MEDIA_GAP_BOUND = 3.0
FAST_NODES = {
    "VENUEBRIDGE_VIDEO_CODEC": "VP8",
    "VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": str(HEARTBEAT),
    "VENUEBRIDGE_NODE_TTL_SECONDS": str(TTL),
    "VENUEBRIDGE_RELAY_STALL_SECONDS": "1.5",
    "VENUEBRIDGE_RELAY_RETRY_MAX_SECONDS": "1.0",
}


@pytest.fixture
async def topology(tmp_path: Path) -> AsyncIterator[Topology]:
    async with aiohttp.ClientSession() as http:
        topo = Topology(tmp_path, http)
        try:
            await topo.start_redis()
            yield topo
        finally:
            await topo.aclose()


async def close_all(peers: list[Any]) -> None:
    for peer in peers:
        await (peer.close() if isinstance(peer, RtpViewer | Subscriber) else peer.pc.close())


async def relays(topo: Topology, node: Node) -> list[dict[str, Any]]:
    streams = await topo.get(node, "/api/streams")
    found: list[dict[str, Any]] = streams["relays"]
    return found


@pytest.mark.requires("chromium")
async def test_two_edges_many_viewers_one_pull_each_and_a_redis_restart(
    topology: Topology,
) -> None:
    topo, http = topology, topology.http
    origin = await topo.add("origin", "cn", env=FAST_NODES)
    edges = [
        await topo.add("edge-eu", "eu", origin, env=FAST_NODES),
        await topo.add("edge-us", "us", origin, env=FAST_NODES),
    ]
    everyone = {"origin", "edge-eu", "edge-us"}
    stack = contextlib.AsyncExitStack()
    for node in topo.nodes.values():
        await eventually(
            lambda node=node: _is(topo.listed_nodes(node), everyone), f"{node.name} sees all"
        )
    peers: list[Any] = []
    try:
        peers.append(await publish(http, f"{origin.url}/whip/{CHANNEL}", SECRET, BRIGHT))
        viewers: list[RtpViewer] = []
        for edge in edges:
            viewers += [
                await watch(http, f"{edge.url}/whep/{CHANNEL}") for _ in range(VIEWERS_PER_EDGE)
            ]
        peers += viewers
        # One viewer decodes: the picture is the publisher's, through the other namespaces.
        picture = await subscribe(http, f"{edges[0].url}/whep/{CHANNEL}")
        peers.append(picture)
        # And a browser plays from the other edge.
        browser = await stack.enter_async_context(
            chromium_viewer(f"{edges[1].url}/healthz", f"/whep/{CHANNEL}")
        )
        await eventually(frames_grow(viewers, 30), "30 frames at every edge viewer", 30)
        await eventually(lambda: near(picture.last_luma, BRIGHT), "the publisher's picture")
        await eventually(lambda: _decoded(browser, 30), "30 frames decoded in Chromium", 30)

        # 22 viewers on two edges: the origin serves exactly one session per edge.
        assert await topo.subscribers(origin, CHANNEL) == 2
        assert await topo.subscribers(edges[0], CHANNEL) == VIEWERS_PER_EDGE + 1
        assert await topo.subscribers(edges[1], CHANNEL) == VIEWERS_PER_EDGE + 1  # + Chromium
        attempts = []
        for edge in edges:
            [link] = await relays(topo, edge)
            assert (link["upstream"], link["state"]) == (origin.url, "live")
            attempts.append(link["attempts"])  # more than 1 if the first came before media

        # Redis killed (no goodbye) and started again on the same port and files.
        reset_gaps(viewers)
        picture.longest_gap = 0.0
        assert topo.redis.process is not None
        topo.redis.process.kill()
        await topo.redis.process.wait()
        stopped = time.monotonic()
        for node in topo.nodes.values():
            await eventually(lambda node=node: _is(topo.listed_nodes(node), None), "a 503")
        # Media does not depend on Redis: it flows while Redis is away.
        at_kill = await browser.evaluate(BROWSER_STATS)
        await eventually(frames_grow(viewers, 30), "frames while Redis is away", 20)
        await eventually(
            lambda: _decoded(browser, at_kill["framesDecoded"] + 30), "Chromium while Redis is away"
        )
        # Away longer than the TTL (the fault's length, not a wait for something): every
        # directory entry has expired when Redis loads its files again, so what the nodes
        # list afterwards was written anew.
        await asyncio.sleep(max(0.0, TTL + 0.2 - (time.monotonic() - stopped)))
        await topo.redis.start()
        back = time.monotonic()
        for node in topo.nodes.values():
            await eventually(
                lambda node=node: _is(topo.listed_nodes(node), everyone),
                f"{node.name} to list every node again",
                15,
                0.05,
            )
        registered = time.monotonic() - back
        await eventually(frames_grow(viewers, 30), "frames after the restart", 20)
        before_back = (await browser.evaluate(BROWSER_STATS))["framesDecoded"]
        await eventually(lambda: _decoded(browser, before_back + 30), "Chromium after Redis")
        in_browser = await browser.evaluate(BROWSER_STATS)
        gap = max(max(v.video.gap_now() for v in viewers), picture.longest_gap)
        print(
            "\n"
            + json.dumps(
                {
                    "fault": "redis killed and restarted, origin + 2 edges in namespaces",
                    "viewers": len(viewers) + 2,  # + the decoding one and Chromium
                    "redis_down_s": round(back - stopped, 2),
                    "all_nodes_listed_after_s": round(registered, 2),
                    "longest_media_gap_s": round(gap, 3),
                    "chromium_freezes": in_browser["freezeCount"] - at_kill["freezeCount"],
                }
            )
        )
        assert gap <= MEDIA_GAP_BOUND
        # Nothing was re-made: the same pull per edge, still one session each at the origin.
        assert await topo.subscribers(origin, CHANNEL) == 2
        for edge, before in zip(edges, attempts, strict=True):
            [link] = await relays(topo, edge)
            assert (link["state"], link["attempts"]) == ("live", before)
    finally:
        await stack.aclose()
        await close_all(peers)


@pytest.mark.requires("nftables")
async def test_a_lossy_long_haul_link_carries_the_channel_and_recovers_when_cut(
    topology: Topology,
) -> None:
    topo, http = topology, topology.http
    origin = await topo.add("origin", "cn", env=FAST_NODES)
    edge = await topo.add("edge-eu", "eu", origin, env=FAST_NODES)
    # 150 ms each way between origin and edge, injected in both processes.
    for near_end, far_end in ((origin, edge), (edge, origin)):
        near_end.delay_ms, near_end.delay_to = 150.0, [far_end.address]
        await near_end.stop()
        await near_end.start(http)
    peers: list[Any] = []
    try:
        peers.append(await publish(http, f"{origin.url}/whip/{CHANNEL}", SECRET, BRIGHT))
        edge.namespace.lose(5, origin.address, MEDIA_PORT)
        viewer = await subscribe(http, f"{edge.url}/whep/{CHANNEL}")
        light = await watch(http, f"{edge.url}/whep/{CHANNEL}")
        peers += [viewer, light]
        await eventually(lambda: viewer.frames >= 60, "60 decoded frames over the lossy link", 30)
        await eventually(lambda: near(viewer.last_luma, BRIGHT), "the publisher's picture")
        assert edge.namespace.dropped() > 0, "the loss rule never matched"
        [link] = await relays(topo, edge)
        assert link["state"] == "live"

        # The link cut outright (every long-haul media packet dropped): the edge notices
        # the stall, and once the link carries packets again the pull is re-made by
        # itself and the same viewers get frames again.
        edge.namespace.lose(100, origin.address, MEDIA_PORT)
        await eventually(
            lambda: _is(_relay_states(topo, edge), {"retrying", "connecting"}, subset=True),
            "the edge to see its pull broken",
            20,
        )
        edge.namespace.clear_loss()
        marks = viewer.frames
        await eventually(frames_grow([light], 30), "frames at the edge again", 40)
        await eventually(lambda: viewer.frames >= marks + 30, "decoded frames again", 20)
        [link] = await relays(topo, edge)
        assert link["state"] == "live"
        assert link["attempts"] >= 2
        # The broken session at the origin went away: one pull, not two.
        await eventually(
            lambda: _is(topo.subscribers(origin, CHANNEL), 1), "one session at the origin"
        )
    finally:
        await close_all(peers)


async def _decoded(page: Any, at_least: int) -> bool:
    return bool((await page.evaluate(BROWSER_STATS)).get("framesDecoded", 0) >= at_least)


async def _relay_states(topo: Topology, node: Node) -> set[str]:
    return {link["state"] for link in await relays(topo, node)}


async def _is(got: Any, expected: object, subset: bool = False) -> bool:
    value = await got
    if subset:
        return bool(value) and value <= expected  # type: ignore[operator]
    return bool(value == expected)

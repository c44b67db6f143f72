"""An edge killed mid-session and its viewers back on another node, by themselves.

Three real ``venuebridge serve`` processes on one real redis-server, with short
heartbeats: "gz" (region cn, the entry and origin: the producer publishes there) and
"eu-1", "eu-2" (region eu). Viewers enter at gz with ``?region=eu`` and are steered by
307 to an eu edge (rendezvous hashing of the client address: the test poses as clients
behind gz's trusted proxy so that two land on each edge). Each edge pulls the channel
from gz once, with its own relay token. One edge is killed with SIGKILL; its viewers (an
aiortc client that follows redirects and retries at its entry endpoint, as the pages
do) play again from the other edge once the directory has dropped the dead one, and gz
shows one pull per live edge.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signaling.nodes import NodeEntry
from signaling.nodes.steering import in_region
from tests.helpers import eventually
from tests.integration.server_process import SECRET, ServerProcess, serve
from tests.integration.test_redis_restart_nodes import Redis, redis_folder
from tests.media_peers import free_port, needs_network, publish
from tests.steered_viewer import SteeredViewer

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
HEARTBEAT, TTL = 0.2, 1.0
EDGES = ("eu-1", "eu-2")
# Back to frames within the TTL, the viewer's stall detection (2 s) and its retries.
RECOVERY_BOUND = 15.0


def clients_per_edge(per_edge: int) -> dict[str, list[str]]:
    """Client addresses the entry node will steer to each edge, ``per_edge`` each."""
    now = datetime.now(UTC)
    entries = [NodeEntry(e, "eu", f"http://{e}", now, 0.0, ()) for e in EDGES]
    chosen: dict[str, list[str]] = {e: [] for e in EDGES}
    for last in range(1, 255):
        address = f"203.0.113.{last}"
        node = in_region(entries, "eu", "cn", "gz", address)
        assert node is not None
        if len(chosen[node.id]) < per_edge:
            chosen[node.id].append(address)
    return chosen


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[dict[str, ServerProcess]]:
    with redis_folder(tmp_path) as folder:
        redis = Redis(folder)
        await redis.start()
        try:
            async with AsyncExitStack() as stack:
                env = {
                    "VENUEBRIDGE_REDIS_URL": redis.url,
                    "VENUEBRIDGE_VIDEO_CODEC": "VP8",
                    "VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": str(HEARTBEAT),
                    "VENUEBRIDGE_NODE_TTL_SECONDS": str(TTL),
                    "VENUEBRIDGE_RELAY_STALL_SECONDS": "1.5",
                    "VENUEBRIDGE_RELAY_RETRY_MAX_SECONDS": "2",
                    "VENUEBRIDGE_RELAY_GRACE_SECONDS": "1",
                }
                nodes: dict[str, ServerProcess] = {}
                for node_id, region in (("gz", "cn"), *((e, "eu") for e in EDGES)):
                    port = free_port()
                    own = {
                        "VENUEBRIDGE_NODE_ID": node_id,
                        "VENUEBRIDGE_NODE_REGION": region,
                        "VENUEBRIDGE_NODE_URL": f"http://127.0.0.1:{port}",
                        "VENUEBRIDGE_ROUTING": "true" if node_id == "gz" else "false",
                    }
                    if node_id == "gz":  # the test's requests pose as clients behind a proxy
                        own["VENUEBRIDGE_TRUSTED_PROXIES"] = "127.0.0.1/32"
                    nodes[node_id] = await stack.enter_async_context(
                        serve(tmp_path / node_id, {**env, **own}, port=port)
                    )
                yield nodes
        finally:
            await redis.stop()


async def pulls(node: ServerProcess) -> int:
    """WHEP sessions of the channel at ``node``: at the origin, one per pulling edge."""
    subscribers = (await node.streams())["subscribers"]
    assert isinstance(subscribers, list)
    return sum(1 for s in subscribers if s["feed"] == f"channel:{CHANNEL}")


async def test_an_edge_killed_mid_session_and_its_viewers_back_on_another_node(
    cluster: dict[str, ServerProcess],
) -> None:
    gz = cluster["gz"]
    http = gz.http
    plan = clients_per_edge(2)
    viewers: dict[str, list[SteeredViewer]] = {}
    publisher = await publish(http, f"{gz.url}/whip/{CHANNEL}", SECRET, 200)
    try:
        entry = f"{gz.url}/whep/{CHANNEL}?region=eu"
        for edge, addresses in plan.items():
            viewers[edge] = [
                SteeredViewer(http, entry, headers={"X-Forwarded-For": a}) for a in addresses
            ]
        everyone = [v for group in viewers.values() for v in group]
        for viewer in everyone:
            viewer.start()
        await eventually(lambda: all(v.frames >= 30 for v in everyone), "frames everywhere", 30)
        for edge, group in viewers.items():
            assert {v.served_by[-1] for v in group} == {cluster[edge].url}, edge
        # Two viewers on each edge: the origin serves one pull per edge.
        assert await pulls(gz) == 2
        for edge in EDGES:
            assert await pulls(cluster[edge]) == 2

        doomed, survivor = cluster["eu-1"], cluster["eu-2"]
        moved, stayed = viewers["eu-1"], viewers["eu-2"]
        marks = {id(v): v.frames for v in everyone}
        doomed.process.send_signal(signal.SIGKILL)
        await doomed.process.wait()
        killed = time.monotonic()
        await eventually(
            lambda: (
                all(v.frames >= marks[id(v)] + 30 for v in moved)
                and all(v.served_by[-1] == survivor.url for v in moved)
            ),
            "eu-1's viewers playing again from eu-2",
            RECOVERY_BOUND,
        )
        recovered = time.monotonic() - killed
        # The other edge's viewers never moved; the origin shows one pull per live edge.
        assert all(v.served_by == [survivor.url] for v in stayed)
        await eventually(lambda: _equals(pulls(gz), 1), "one pull at the origin", TTL + 5)
        assert await pulls(survivor) == 4
        print(
            "\n"
            + json.dumps(
                {
                    "fault": "edge killed (SIGKILL)",
                    "ttl_s": TTL,
                    "viewers_moved": len(moved),
                    "back_playing_after_s": round(recovered, 2),
                    "failed_attempts_meanwhile": sum(len(v.failures) for v in moved) - len(moved),
                }
            )
        )
    finally:
        for viewer in viewers.values():
            for v in viewer:
                await v.close()
        await publisher.pc.close()


async def _equals(got: object, expected: object) -> bool:
    return bool(await got == expected)  # type: ignore[misc]

"""Two real ``venuebridge serve`` processes on one real redis-server: the node directory.

Node "origin" (region cn) takes an aiortc publisher; node "edge-eu" (region eu) only
reads. Checked: who may read ``/api/nodes``, the node in ``/healthz``, the channel claimed
on publish and released on unpublish, a Redis restart long enough for every entry to
expire (both nodes and the claim come back, the viewer's media never stops), and a node
killed with SIGKILL dropping out of the directory after its TTL.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import eventually
from tests.integration.server_process import SECRET, ServerProcess, serve
from tests.integration.test_redis_restart_nodes import Redis, cli_token, redis_folder
from tests.media_peers import needs_network, publish, subscribe

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
HEARTBEAT, TTL = 0.2, 1.0
MEDIA_GAP_BOUND = 1.0  # seconds: the viewer never waits longer for a frame


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[Redis, ServerProcess, ServerProcess]]:
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
                }
                origin = await stack.enter_async_context(
                    serve(
                        tmp_path / "a",
                        {**env, "VENUEBRIDGE_NODE_ID": "origin", "VENUEBRIDGE_NODE_REGION": "cn"},
                    )
                )
                edge = await stack.enter_async_context(
                    serve(
                        tmp_path / "b",
                        {
                            **env,
                            "VENUEBRIDGE_ROUTING": "false",
                            "VENUEBRIDGE_NODE_ID": "edge-eu",
                            "VENUEBRIDGE_NODE_REGION": "eu",
                            "VENUEBRIDGE_NODE_URL": "https://edge-eu.example.org",
                        },
                    )
                )
                yield redis, origin, edge
        finally:
            await redis.stop()


async def listing(node: ServerProcess, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with node.http.get(f"{node.url}/api/nodes", headers=headers) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def held(node: ServerProcess, token: str) -> dict[str, list[str]] | None:
    """Each node's channels; None while the directory cannot be read (Redis away)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with node.http.get(f"{node.url}/api/nodes", headers=headers) as response:
        if response.status == 503:
            assert response.headers["Retry-After"] == "2"
            return None
        assert response.status == 200, await response.text()
        return {n["id"]: n["channels"] for n in (await response.json())["nodes"]}


async def test_the_node_list_is_for_directors_and_healthz_names_the_node(
    tmp_path: Path, nodes: tuple[Redis, ServerProcess, ServerProcess]
) -> None:
    redis, origin, edge = nodes
    director = await cli_token(tmp_path / "a", redis.url, "--role", "director")
    admin = await cli_token(tmp_path / "a", redis.url, "--role", "admin")
    viewer = await cli_token(tmp_path / "a", redis.url, "--role", "viewer")
    async with edge.http.get(f"{edge.url}/api/nodes") as response:
        assert response.status == 401
    for token, status in ((viewer, 403), ("not-a-token", 403)):
        headers = {"Authorization": f"Bearer {token}"}
        async with edge.http.get(f"{edge.url}/api/nodes", headers=headers) as response:
            assert response.status == status
    # Directors and admins on any node see both nodes, with region, URL and heartbeat age.
    for token in (director, admin):
        body = await listing(edge, token)
        assert body["node"] == "edge-eu"
        by_id = {n["id"]: n for n in body["nodes"]}
        assert set(by_id) == {"origin", "edge-eu"}
        assert (by_id["origin"]["region"], by_id["origin"]["url"]) == ("cn", None)
        assert by_id["edge-eu"]["url"] == "https://edge-eu.example.org"
        assert all(0 <= n["age_seconds"] <= TTL for n in by_id.values())
        assert all(n["heartbeat"].endswith("Z") for n in by_id.values())
    async with origin.http.get(f"{origin.url}/healthz") as response:
        health = await response.json()
    assert (health["node"], health["region"]) == ("origin", "cn")


async def test_channel_claims_redis_restart_and_a_killed_node(
    tmp_path: Path, nodes: tuple[Redis, ServerProcess, ServerProcess]
) -> None:
    redis, origin, edge = nodes
    director = await cli_token(tmp_path / "a", redis.url, "--role", "director")
    http = origin.http
    publisher = await publish(http, f"{origin.url}/whip/{CHANNEL}", SECRET, 200)
    viewer = None
    try:
        await eventually(
            lambda: _equals(held(edge, director), {"origin": [CHANNEL], "edge-eu": []}),
            "the edge to see the origin holding the channel",
            15,
        )
        viewer = await subscribe(http, f"{origin.url}/whep/{CHANNEL}", token=SECRET)
        await eventually(lambda: viewer.frames >= 10, "frames at the viewer", 20)

        # Redis down longer than the TTL: every directory key has expired when it is back.
        viewer.longest_gap = 0.0
        await redis.stop()
        stopped = time.monotonic()
        # Meanwhile the list says so (503, try again), and nothing crashes.
        assert await held(edge, director) is None
        await asyncio.sleep(TTL + 0.5)
        await redis.start()
        back = time.monotonic()
        await eventually(
            lambda: _equals(held(edge, director), {"origin": [CHANNEL], "edge-eu": []}),
            "both nodes and the claim back in the directory",
            10,
            0.05,
        )
        again = time.monotonic() - back
        frames = viewer.frames
        await eventually(lambda: viewer.frames > frames + 10, "frames after the restart")
        assert viewer.last_frame_at is not None
        gap = max(viewer.longest_gap, time.monotonic() - viewer.last_frame_at)
        print(
            "\n"
            + json.dumps(
                {
                    "fault": "redis restart, keys expired",
                    "redis_down_s": round(back - stopped, 2),
                    "directory_back_after_s": round(again, 2),
                    "longest_media_gap_s": round(gap, 3),
                }
            )
        )
        assert gap <= MEDIA_GAP_BOUND

        # Unpublish: the claim goes.
        async with http.delete(publisher.location, headers=origin.bearer) as response:
            assert response.status == 200
        await eventually(
            lambda: _equals(held(edge, director), {"origin": [], "edge-eu": []}),
            "the claim released",
            10,
        )
    finally:
        if viewer is not None:
            await viewer.close()
        await publisher.pc.close()

    # The edge dies without a goodbye: still listed within its TTL, then gone.
    edge.process.send_signal(signal.SIGKILL)
    await edge.process.wait()
    killed = time.monotonic()
    assert "edge-eu" in await held(origin, director)
    await eventually(
        lambda: _equals(held(origin, director), {"origin": []}), "the edge to expire", TTL + 3
    )
    assert time.monotonic() - killed >= TTL - HEARTBEAT - 0.1  # not before its TTL ran out


async def _equals(got: Any, expected: object) -> bool:
    return bool(await got == expected)

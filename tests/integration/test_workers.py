"""``workers = 2``: one node, two worker processes, real aiortc peers and a real Redis.

A channel published to worker 0 plays on worker 1 (which pulls it once from worker 0's
private listener); a session's DELETE sent to the other worker ends it on its owner; a
worker killed with SIGKILL is started again by the supervisor and its viewers, posting
again at the public endpoint as the pages do, play again.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.control.support import WsClient
from tests.helpers import eventually
from tests.integration.server_process import SECRET
from tests.integration.test_forwarding import BRIGHT, near
from tests.integration.test_redis_restart_nodes import VENUE, cli_token, japan_route
from tests.integration.worker_node import CHANNEL, WorkerNode, running, worker_node
from tests.media_peers import Subscriber, needs_network, publish, subscribe
from tests.steered_viewer import SteeredViewer

pytestmark = [pytest.mark.network, needs_network]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[WorkerNode]:
    async with worker_node(tmp_path) as running:
        yield running


async def both_private_urls(node: WorkerNode) -> tuple[str, str]:
    urls: list[str | None] = [None, None]

    async def up() -> bool:
        urls[:] = [await node.private_url(0), await node.private_url(1)]
        return all(urls)

    await eventually(up, "both workers in the workers' directory", 30)
    first, second = urls
    assert first is not None
    assert second is not None
    return first, second


async def claimed(node: WorkerNode, index: int) -> None:
    """Wait until worker ``index``'s claim of the channel is written (one heartbeat)."""

    async def written() -> bool:
        return await node.holder(CHANNEL) == str(index)

    await eventually(written, f"worker {index} holding {CHANNEL}", 15, interval=0.05)


async def streams(http: aiohttp.ClientSession, base: str) -> dict[str, object]:
    """One worker's own sessions (a plain poll merges every worker's)."""
    async with http.get(f"{base}/api/streams?worker=local") as response:
        body: dict[str, object] = await response.json()
        return body


async def feeds_of(http: aiohttp.ClientSession, base: str) -> list[str]:
    subscribers = (await streams(http, base))["subscribers"]
    assert isinstance(subscribers, list)
    return [str(s["feed"]) for s in subscribers]


async def test_a_subscriber_on_the_other_worker_receives_the_channel(node: WorkerNode) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    publisher = await publish(http, f"{first}/whip/{CHANNEL}", SECRET, BRIGHT)
    players: list[Subscriber] = []
    try:
        await claimed(node, 0)
        for _ in range(2):
            players.append(await subscribe(http, f"{second}/whep/{CHANNEL}"))
        await eventually(
            lambda: all(p.frames >= 30 and near(p.last_luma, BRIGHT) for p in players),
            "frames of worker 0's publisher at worker 1's subscribers",
            30,
        )
        # Both sessions belong to worker 1, which pulls the channel ONCE from worker 0.
        assert all(urlsplit(p.location).path.rpartition("/")[2].startswith("1w") for p in players)
        assert await feeds_of(http, first) == [f"channel:{CHANNEL}"]
        assert (await feeds_of(http, second)).count(f"channel:{CHANNEL}") == 2
        # A poll of either worker shows the node: the publisher (on worker 0) and all three
        # sessions, each with its worker, and the channel's consumers added up.
        consumers = 0
        for base in (first, second):
            local = await streams(http, base)
            assert isinstance(local["channels"], list)
            consumers += sum(c["subscribers"] for c in local["channels"] if c["id"] == CHANNEL)
        for base in (first, second):
            async with http.get(f"{base}/api/streams") as response:
                node_view = await response.json()
            assert [(p["channel"], p["worker"]) for p in node_view["publishers"]] == [(CHANNEL, 0)]
            assert sorted(s["worker"] for s in node_view["subscribers"]) == [0, 1, 1]
            [channel] = [c for c in node_view["channels"] if c["id"] == CHANNEL]
            assert channel["live"] is True
            assert channel["subscribers"] == consumers > 0
            assert node_view["workers_missing"] == []

        # A scrape of either worker shows both: worker 1's two players, worker 0's pull.
        async def every_worker_counted() -> bool:
            async with http.get(f"{first}/metrics") as response:
                text = await response.text()
            return (
                'venuebridge_worker_subscribers{worker="1"} 2.0' in text
                and 'venuebridge_worker_subscribers{worker="0"} 1.0' in text
                and 'venuebridge_worker_cpu_cores_per_subscriber{worker="1"}' in text
            )

        await eventually(every_worker_counted, "both workers in worker 0's /metrics", 10)
    finally:
        for player in players:
            await player.close()
        await publisher.pc.close()


async def test_a_delete_sent_to_the_other_worker_ends_the_session_on_its_owner(
    node: WorkerNode,
) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    publisher = await publish(http, f"{first}/whip/{CHANNEL}", SECRET, BRIGHT)
    await claimed(node, 0)
    player = await subscribe(http, f"{first}/whep/{CHANNEL}")
    try:
        path = urlsplit(player.location).path
        assert path.rpartition("/")[2].startswith("0w")
        assert len(await feeds_of(http, first)) == 1
        # Without the URL's secret the owner finds nothing, through the sibling too.
        async with http.delete(f"{second}{path[:-4]}abcd") as response:
            assert response.status == 404
        assert len(await feeds_of(http, first)) == 1
        async with http.delete(f"{second}{path}") as response:
            assert response.status == 200, await response.text()
            assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert await feeds_of(http, first) == []
        # The publisher's session too: its DELETE through worker 1 ends the channel.
        whip_path = urlsplit(publisher.location).path
        async with http.delete(f"{second}{whip_path}") as response:
            assert response.status == 200, await response.text()
        channels = (await streams(http, first))["channels"]
        assert isinstance(channels, list)
        assert not next(c for c in channels if c["id"] == CHANNEL)["live"]
    finally:
        await player.close()
        await publisher.pc.close()


async def test_a_venue_output_on_the_other_worker_follows_the_routing_worker(
    node: WorkerNode, tmp_path: Path
) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    operator = await cli_token(
        tmp_path / "data", node.redis_url, "--role", "operator", "--venue", "jp"
    )
    publisher = await publish(http, f"{first}/whip/{CHANNEL}", SECRET, BRIGHT)
    await claimed(node, 0)
    output = await subscribe(http, f"{second}/whep/venue/jp", token=operator)
    try:
        # Sent to worker 1: the routing API is answered by worker 0, which runs routing.
        async with http.post(
            f"{second}/api/venues/jp/route", json={"channel": CHANNEL}, headers=node.server.bearer
        ) as response:
            assert response.status == 202, await response.text()
            assert (await response.json())["routed"] == CHANNEL
        await eventually(
            lambda: output.frames >= 30 and near(output.last_luma, BRIGHT),
            "worker 1's output of jp showing the channel published on worker 0",
            30,
        )
        async with http.get(f"{second}/api/routing", headers=node.server.bearer) as response:
            assert response.status == 200, await response.text()
    finally:
        await output.close()
        await publisher.pc.close()


def requested(client: WsClient) -> str | None:
    """What the latest matrix this client got asks of Japan's output."""
    return japan_route(client, "requested")


async def test_a_director_and_a_viewer_on_the_other_worker_route_and_see_the_matrix(
    node: WorkerNode, tmp_path: Path
) -> None:
    http = node.server.http
    _, second = await both_private_urls(node)
    director = await cli_token(tmp_path / "data", node.redis_url, "--role", "director")
    viewer = await WsClient.connect(http, f"{second}/ws")
    desk = await WsClient.connect(http, f"{second}/ws", director)
    try:
        # The viewer is served by worker 1 from the matrix worker 0 sent it.
        await viewer.ok({"type": "watch_routing"})
        # The director's socket is carried to worker 0, where the automation runs.
        await desk.ok({"type": "watch_routing"})
        routed = await desk.ok({"type": "route", "venue": VENUE, "channel": CHANNEL})
        assert routed["channel"] == CHANNEL
        # Nothing publishes here: the route is asked for, not on air.
        await eventually(
            lambda: requested(viewer) == CHANNEL, "worker 1's viewer to see the new route", 15
        )
        assert requested(desk) == CHANNEL
    finally:
        await viewer.ws.close()
        await desk.ws.close()


def owner_of(viewer: SteeredViewer) -> int | None:
    current = viewer.current
    if current is None:
        return None
    return int(urlsplit(current.location).path.rpartition("/")[2].partition("w")[0])


async def test_a_killed_worker_is_replaced_and_its_viewers_play_again(node: WorkerNode) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    publisher = await publish(http, f"{first}/whip/{CHANNEL}", SECRET, BRIGHT)
    await claimed(node, 0)
    async with AsyncExitStack() as stack:
        viewers: list[SteeredViewer] = []

        async def one_on_worker_1() -> bool:
            # A connection of its own per POST: the kernel picks a worker for each one.
            own = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
            )
            viewer = SteeredViewer(own, f"{node.server.url}/whep/{CHANNEL}")
            viewer.start()
            stack.push_async_callback(viewer.close)
            viewers.append(viewer)
            await eventually(lambda: viewer.frames >= 10, "a viewer playing", 20)
            return owner_of(viewer) == 1

        await eventually(one_on_worker_1, "a viewer served by worker 1", 120, interval=0)
        moved = [v for v in viewers if owner_of(v) == 1]
        marks = {id(v): v.frames for v in viewers}
        doomed = node.worker_pid(second)
        os.kill(doomed, signal.SIGKILL)

        async def replaced() -> bool:
            url = await node.private_url(1)
            return url is not None and url != second

        await eventually(replaced, "worker 1 started again under its index", 30, interval=0.1)
        assert node.worker_pid(str(await node.private_url(1))) != doomed
        await eventually(
            lambda: all(v.frames >= marks[id(v)] + 30 for v in viewers),
            "every viewer playing again",
            30,
        )
        assert all(v.failures for v in moved), "worker 1's viewers had to reconnect"
    await publisher.pc.close()


async def test_sighup_is_passed_on_and_sigterm_stops_every_worker(node: WorkerNode) -> None:
    first, second = await both_private_urls(node)
    workers = [node.worker_pid(first), node.worker_pid(second)]
    supervisor = node.server.process
    supervisor.send_signal(signal.SIGHUP)  # each worker takes it (a certificate reload)
    async with node.server.http.get(f"{node.server.url}/healthz") as response:
        assert response.status == 200
    assert all(running(pid) for pid in workers)
    supervisor.send_signal(signal.SIGTERM)
    assert await supervisor.wait() == 0
    assert not any(running(pid) for pid in workers)

"""Fault: the Redis both nodes share is stopped and started again.

Two real ``venuebridge serve`` processes on one real redis-server: node A holds the
venue outputs and runs routing (``routing = true``), node B only serves pages and the
Q&A (``VENUEBRIDGE_ROUTING=false``). An aiortc publisher and a Japan venue-output player
are on A; a websocket client on each node sits in the same Q&A room.

Redis runs with ``--appendonly yes`` in a directory the restart reuses, as a real
deployment configures it: questions, room modes, the routing matrix and the shared token
secret are state, and a Redis that came back empty would lose them (a cache-only Redis
is not a supported deployment). Measured and printed: the longest gap between frames at
the venue output (media never depends on Redis) and the time from Redis answering again
until a question asked on node B reaches node A's client.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.control.support import WsClient
from tests.helpers import eventually
from tests.integration.server_process import SECRET, ServerProcess, serve
from tests.media_peers import free_port, needs_network, publish, subscribe

pytestmark = [pytest.mark.network, needs_network]

ROOM = "overseas-talents-summit"
CHANNEL = "gz-hall-1"
VENUE = "jp"
MEDIA_GAP_BOUND = 1.0  # seconds: the venue output never waits longer for a frame
QA_BOUND = 10.0  # seconds from Redis answering again until a question crosses nodes


class Redis:
    """A redis-server child that can be stopped and started again on the same port and dir."""

    def __init__(self, folder: Path, bind: str = "127.0.0.1") -> None:
        self.folder, self.port, self.bind = folder, free_port(), bind
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server", "--bind", self.bind, "--port", str(self.port), "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder),
            "--logfile", str(self.folder / "redis.log"),
            # Bound beyond loopback only inside a test's private namespaces (tests/topology).
            *(() if self.bind == "127.0.0.1" else ("--protected-mode", "no")),
        )  # fmt: skip
        await eventually(self.answers, "redis-server to answer PING", 10)

    async def answers(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        try:
            writer.write(b"PING\r\n")
            return (await reader.read(16)).startswith(b"+PONG")
        except OSError:
            return False
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)


@contextmanager
def redis_folder(tmp_path: Path) -> Iterator[Path]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (scripts/setup.sh --dev installs it)")
    folder = tmp_path / "redis"
    folder.mkdir()
    yield folder


async def cli_token(data_dir: Path, redis_url: str, *scope: str) -> str:
    """A token from ``venuebridge token``: on Redis every node shares the signing secret."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "token", "--quiet", "--data-dir", str(data_dir), *scope,
        env={**os.environ, "VENUEBRIDGE_REDIS_URL": redis_url}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode().strip()


def japan_route(client: WsClient, column: str) -> str | None:
    """The channel in Japan's ``column`` (``on_air``, ``requested``) of the latest routing
    matrix this client got."""
    frames = client.of_type("routing")
    if not frames:
        return None
    [japan] = [v for v in frames[-1]["venues"] if v["venue"] == VENUE]
    return None if japan[column] is None else str(japan[column]["channel"])


def on_air(client: WsClient) -> str | None:
    """What the latest routing matrix this client got has on air at Japan."""
    return japan_route(client, "on_air")


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[Redis, ServerProcess, ServerProcess]]:
    with redis_folder(tmp_path) as folder:
        redis = Redis(folder)
        await redis.start()
        try:
            async with AsyncExitStack() as stack:
                env = {"VENUEBRIDGE_REDIS_URL": redis.url, "VENUEBRIDGE_VIDEO_CODEC": "VP8"}
                a = await stack.enter_async_context(serve(tmp_path / "a", env))
                b = await stack.enter_async_context(
                    serve(tmp_path / "b", {**env, "VENUEBRIDGE_ROUTING": "false"})
                )
                yield redis, a, b
        finally:
            await redis.stop()


async def test_media_and_qa_through_a_redis_restart(
    tmp_path: Path, nodes: tuple[Redis, ServerProcess, ServerProcess]
) -> None:
    redis, a, b = nodes
    http = a.http
    operator = await cli_token(tmp_path / "a", redis.url, "--role", "operator", "--venue", VENUE)
    moderator = await cli_token(tmp_path / "a", redis.url, "--role", "moderator", "--session", ROOM)
    director = await cli_token(tmp_path / "b", redis.url, "--role", "director")
    peers: list[Any] = []
    clients: list[WsClient] = []
    try:
        peers.append(await publish(http, f"{a.url}/whip/{CHANNEL}", SECRET, 200))
        await a.route(VENUE, CHANNEL)
        output = await subscribe(http, f"{a.url}/whep/venue/{VENUE}", token=operator)
        peers.append(output)
        await eventually(lambda: output.frames >= 10, "frames at Japan's output on node A", 20)

        on_a = await WsClient.connect(http, f"{a.url}/ws", moderator)
        on_b = await WsClient.connect(http, f"{b.url}/ws")
        matrix = await WsClient.connect(http, f"{a.url}/ws", director)
        clients += [on_a, on_b, matrix]
        for client in (on_a, on_b):
            await client.ok({"type": "join", "room": ROOM})
        await on_a.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
        await matrix.ok({"type": "watch_routing"})
        await eventually(lambda: on_air(matrix) == CHANNEL, "the matrix to show the route")
        before = (await on_b.ok({"type": "ask", "room": ROOM, "text": "Before?"}))["question"]
        await eventually(lambda: on_a.question(before) is not None, "a question across nodes")

        output.longest_gap = 0.0
        frames_before = output.frames
        await redis.stop()
        stopped = time.monotonic()
        await redis.start()
        back = time.monotonic()

        asked: list[str] = []
        refused: list[str] = []

        async def crossed() -> bool:
            # Asking may be refused while a node is still reconnecting: ask again then.
            if not asked:
                reply = await on_b.request({"type": "ask", "room": ROOM, "text": "After?"})
                if reply["type"] == "ack":
                    asked.append(reply["question"])
                else:
                    refused.append(str(reply.get("code")))
                return False
            return on_a.question(asked[0]) is not None

        await eventually(crossed, "a question from node B at node A", 30, 0.05)
        qa_after = time.monotonic() - back
        await matrix.ok({"type": "watch_routing"})
        await eventually(lambda: on_air(matrix) == CHANNEL, "the route after Redis", 10)
        await eventually(lambda: output.frames > frames_before + 30, "frames after the restart")
        assert output.last_frame_at is not None
        gap = max(output.longest_gap, time.monotonic() - output.last_frame_at)
        print(
            "\n"
            + json.dumps(
                {
                    "fault": "redis restart (appendonly)",
                    "redis_down_s": round(back - stopped, 2),
                    "longest_media_gap_s": round(gap, 3),
                    "question_b_to_a_after_s": round(qa_after, 2),
                    "asks_refused_after_redis_back": refused,
                }
            )
        )
        assert gap <= MEDIA_GAP_BOUND
        assert qa_after <= QA_BOUND
        # The state came back with Redis: the question asked before the restart is still there.
        assert on_a.question(before) is not None
    finally:
        for client in clients:
            await client.close()
        for peer in peers:
            await (peer.close() if hasattr(peer, "frames") else peer.pc.close())

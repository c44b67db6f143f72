"""Two app instances on one real redis-server; restart survival on the SQLite default."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from config.setting_sections import NodeSettings
from signaling.hub import HubOptions
from signaling.qa.limits import Limits, Rate
from tests.control.support import Node, WsClient
from tests.helpers import eventually, local_settings
from web.app import create_app

ROOM = "overseas-talents-summit"
LOTS = Rate(burst=10_000, per_minute=10_000)
OPTIONS = HubOptions(
    presence_interval=0.05, presence_refresh=0.5, limits=Limits(LOTS, LOTS, LOTS, LOTS)
)


@pytest.fixture(params=["two nodes", "one node's two workers"])
async def two_nodes(
    request: pytest.FixtureRequest, tmp_path: Path, reference_event: Event, redis_url: str
) -> AsyncIterator[tuple[Node, Node]]:
    # Separate data dirs: the nodes share only Redis (the state, the bus and the secret).
    # Sibling workers (web/workers.py) also share their node's name.
    prefix_event = dataclasses.replace(reference_event, id=f"e{tmp_path.name[-20:]}")
    nodes = []
    async with contextlib_stack() as stack:
        for name in ("a", "b"):
            node_id = "gz" if request.param == "one node's two workers" else f"node-{name}"
            settings = local_settings(
                host="127.0.0.1",
                port=0,
                data_dir=tmp_path / name,
                redis_url=redis_url,
                node=NodeSettings(id=node_id),
            )
            app = create_app(settings, prefix_event, OPTIONS)
            http = await stack.enter_async_context(
                TestClient(TestServer(app, host="127.0.0.1", port=0))
            )
            nodes.append(Node(http))
        yield nodes[0], nodes[1]


def contextlib_stack() -> object:
    import contextlib

    return contextlib.AsyncExitStack()


async def test_a_question_asked_on_one_node_appears_on_the_other(
    two_nodes: tuple[Node, Node],
) -> None:
    a, b = two_nodes
    assert a.app != b.app  # two nodes, or two workers of one: another app on each side
    moderator = await a.joined(ROOM, a.token("moderator", "mod", sessions=[ROOM]))
    viewer_on_b = await b.joined(ROOM)
    asker_on_a = await a.joined(ROOM)
    qid = (await asker_on_a.ok({"type": "ask", "room": ROOM, "text": "Across nodes?"}))["question"]
    await moderator.ok({"type": "approve", "room": ROOM, "question": qid})
    await eventually(
        lambda: viewer_on_b.question(qid) is not None, "node b's viewer to see it", within=5
    )
    # A token minted on node a works on node b: the signing secret is shared through Redis.
    moderator_on_b = await b.joined(ROOM, a.token("moderator", "mod", sessions=[ROOM]))
    assert moderator_on_b.welcome["role"] == "moderator"


async def test_votes_count_once_across_nodes(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    moderator = await a.joined(ROOM, a.token("moderator", "mod", sessions=[ROOM]))
    await moderator.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
    qid = (await moderator.ok({"type": "ask", "room": ROOM, "text": "Vote for me"}))["question"]
    # The same person on both nodes: the second vote is refused.
    voter_a = await a.joined(ROOM, a.token("viewer", "same-person"))
    voter_b = await b.joined(ROOM, b.token("viewer", "same-person"))
    await voter_a.ok({"type": "vote", "room": ROOM, "question": qid})
    await eventually(lambda: (voter_b.question(qid) or {}).get("votes") == 1, "the vote on node b")
    assert (await voter_b.request({"type": "vote", "room": ROOM, "question": qid}))[
        "code"
    ] == "already_voted"
    # Many people voting on both nodes at once: each counts exactly once.
    voters = [await node.joined(ROOM) for node in (a, b) * 10]
    replies = await asyncio.gather(
        *(v.request({"type": "vote", "room": ROOM, "question": qid}) for v in voters)
    )
    assert all(r["type"] == "ack" for r in replies), replies
    for watcher in (moderator, voter_b):
        await eventually(lambda w=watcher: (w.question(qid) or {}).get("votes") == 21, "21 votes")


async def test_presence_sums_over_nodes(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    director = await a.connect(a.token("director", "dir"))
    await director.ok({"type": "watch_presence"})
    for node in (a, b):
        viewer = await node.connect()
        await viewer.ok({"type": "present", "channel": "gz-hall-1", "venue": "jp"})
    await b.connect(b.token("operator", "op", venue="jp"))

    def latest() -> dict[str, object]:
        frames = director.of_type("presence")
        return frames[-1] if frames else {}

    await eventually(
        lambda: (
            latest().get("viewers_by_channel") == {"gz-hall-1": 2}
            and latest().get("operators_by_venue") == {"jp": 1}
        ),
        "presence from both nodes",
    )


async def test_questions_votes_and_states_survive_a_restart(
    settings: Settings, reference_event: Event
) -> None:
    async def started() -> TestClient:  # type: ignore[type-arg]
        app = create_app(settings, reference_event, OPTIONS)
        client = TestClient(TestServer(app, host="127.0.0.1", port=0))
        await client.start_server()
        return client

    first = await started()
    node = Node(first)
    moderator_token = node.token("moderator", "mod", sessions=[ROOM])
    moderator = await node.joined(ROOM, moderator_token)
    asker = await node.joined(ROOM)
    answered = (await asker.ok({"type": "ask", "room": ROOM, "text": "First"}))["question"]
    dismissed = (await asker.ok({"type": "ask", "room": ROOM, "text": "Second"}))["question"]
    await moderator.ok({"type": "approve", "room": ROOM, "question": answered})
    await asker.ok({"type": "vote", "room": ROOM, "question": answered})
    await moderator.ok({"type": "stage", "room": ROOM, "question": answered})
    await moderator.ok({"type": "answered", "room": ROOM, "question": answered})
    await moderator.ok({"type": "dismiss", "room": ROOM, "question": dismissed, "reason": "Dup"})
    await moderator.ok({"type": "set_mode", "room": ROOM, "mode": "open"})
    await first.close()

    second = await started()
    try:
        again = Node(second)
        # The token minted before the restart still works: the secret was kept in data_dir.
        moderator = await again.joined(ROOM, moderator_token)
        snapshot = moderator.of_type("snapshot")[0]
        states = {
            q["id"]: (q["state"], q["votes"], q["dismiss_reason"]) for q in snapshot["questions"]
        }
        assert states == {answered: ("answered", 1, None), dismissed: ("dismissed", 0, "Dup")}
        assert snapshot["state"]["mode"] == "open"
        assert (settings.data_dir / "venuebridge.sqlite3").exists()
    finally:
        await second.close()


async def test_two_server_processes_share_one_event_through_redis(
    tmp_path: Path, redis_url: str
) -> None:
    """The real command twice, as an origin and an edge would run it."""
    ports = []
    processes = []
    for name in ("a", "b"):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
        env = {**os.environ, "VENUEBRIDGE_REDIS_URL": redis_url, "VENUEBRIDGE_LOG_LEVEL": "WARNING"}
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "web",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(ports[-1]),
                "--data-dir",
                str(tmp_path / name),
                env=env,
            )
        )
    try:
        async with aiohttp.ClientSession() as http:

            async def up(port: int) -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            for port in ports:
                await eventually(lambda p=port: up(p), f"the server on port {port}")
            a_url, b_url = (f"http://127.0.0.1:{p}/ws" for p in ports)
            asker = await WsClient.connect(http, a_url)
            watcher = await WsClient.connect(http, b_url)
            # An anonymous identity minted by node a is honoured by node b.
            same = await WsClient.connect(http, b_url, asker.welcome["token"])
            assert same.welcome["identity"] == asker.welcome["identity"]
            for client in (asker, watcher):
                await client.ok({"type": "join", "room": ROOM})
            # In an open room the question is public at once; a's moderator opens it.
            # (The token comes from node b's own data dir: on Redis both share one secret.)
            token = await _cli_token(tmp_path / "b", redis_url)
            moderator = await WsClient.connect(http, a_url, token)
            await moderator.ok({"type": "join", "room": ROOM})
            await moderator.request({"type": "set_mode", "room": ROOM, "mode": "open"})
            qid = (await asker.ok({"type": "ask", "room": ROOM, "text": "From node a"}))["question"]
            await eventually(lambda: watcher.question(qid) is not None, "node b to show it")
            for client in (asker, watcher, same, moderator):
                await client.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            assert await process.wait() == 0


async def _cli_token(data_dir: Path, redis_url: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "token", "--role", "moderator", "--session", ROOM,
        "--quiet", "--data-dir", str(data_dir),
        env={**os.environ, "VENUEBRIDGE_REDIS_URL": redis_url},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode().strip()

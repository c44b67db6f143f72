"""Two app instances on one real redis-server: a Q&A change made on one reaches the
websockets of the other (the bus carries the event once; each node encodes its frames)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event
from tests.control.support import Node
from tests.helpers import eventually, local_settings
from web.app import create_app

ROOM = "overseas-talents-summit"


@pytest.fixture
async def two_nodes(
    tmp_path: Path, reference_event: Event, redis_url: str
) -> AsyncIterator[tuple[Node, Node]]:
    # One event id per test: the nodes share it, other tests on this redis do not.
    event = dataclasses.replace(reference_event, id=f"two-nodes-{tmp_path.name[-12:]}")
    clients = []
    for name in ("a", "b"):
        settings = local_settings(data_dir=tmp_path / name, redis_url=redis_url)
        server = TestServer(create_app(settings, event), host="127.0.0.1", port=0)
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
    try:
        yield Node(clients[0]), Node(clients[1])
    finally:
        for client in clients:
            await client.close()


async def test_an_approval_and_a_vote_on_one_node_reach_sockets_on_the_other(
    two_nodes: tuple[Node, Node],
) -> None:
    a, b = two_nodes
    moderator = await b.joined(ROOM, b.token("moderator", "mod", sessions=[ROOM]))
    asker = await a.joined(ROOM)
    watchers = [await a.joined(ROOM) for _ in range(3)]
    voter = await b.joined(ROOM)
    qid = (await asker.ok({"type": "ask", "room": ROOM, "text": "Visas for spouses?"}))["question"]
    await eventually(lambda: moderator.question(qid) is not None, "node b's moderator to see it")
    assert all(w.question(qid) is None for w in watchers)  # pre-moderated

    await moderator.ok({"type": "approve", "room": ROOM, "question": qid})
    for watcher in watchers:
        await eventually(lambda w=watcher: w.question(qid) is not None, "node a's audience")  # type: ignore[misc]

    await eventually(lambda: voter.question(qid) is not None, "node b's audience")
    await voter.ok({"type": "vote", "room": ROOM, "question": qid})
    for watcher in watchers:
        await eventually(
            lambda w=watcher: (w.question(qid) or {}).get("votes") == 1,  # type: ignore[misc]
            "the vote counted on node a",
        )
    # Each node sent its own sockets one frame per change, in order: no duplicates.
    approved = [f for f in watchers[0].of_type("question") if f["question"]["id"] == qid]
    assert [f["question"]["votes"] for f in approved] == [0, 1]
    assert approved[0]["event_id"] < approved[1]["event_id"]

"""The node bus: handlers by kind, a node's own messages only where asked for."""

from __future__ import annotations

import pytest

from signaling.bus.local import LocalBus
from signaling.bus.node import BusMessage, NodeBus
from tests.helpers import eventually


async def test_handlers_get_their_kind_and_skip_their_own_node_unless_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = LocalBus()
    here, there = NodeBus(shared, "here"), NodeBus(shared, "there")
    heard: list[tuple[str, BusMessage]] = []

    async def on_event(message: BusMessage) -> None:
        heard.append(("event", message))

    here.on("event", on_event)
    here.on("presence", lambda message: heard.append(("presence", message)), own=True)
    await here.start()
    try:
        await here.publish("event", {"seq": 1})  # its own: skipped
        await there.publish("event", {"seq": 2})
        await here.publish("presence", {"counts": {}})  # its own, but presence asks for it
        await there.publish("nobody-listens", {})
        await shared.publish("[1, 2]")  # not an object: logged, the listener carries on
        await there.publish("event", {"seq": 3})
        await eventually(lambda: len(heard) == 3, "three messages handled")
    finally:
        await here.stop()
    assert heard == [
        ("event", {"kind": "event", "node": "there", "from": there.instance, "seq": 2}),
        ("presence", {"kind": "presence", "node": "here", "from": here.instance, "counts": {}}),
        ("event", {"kind": "event", "node": "there", "from": there.instance, "seq": 3}),
    ]
    assert "bad bus message" in caplog.text


async def test_sibling_workers_of_one_node_hear_each_other() -> None:
    """Two worker processes share their node's id: "own" is one bus object, not one id."""
    shared = LocalBus()
    worker_0, worker_1 = NodeBus(shared, "gz"), NodeBus(shared, "gz")
    heard: list[BusMessage] = []
    worker_0.on("event", heard.append)
    await worker_0.start()
    try:
        await worker_0.publish("event", {"seq": 1})  # its own: skipped
        await worker_1.publish("event", {"seq": 2})  # its sibling's: heard
        # A message without "from" (an older node) is its own by the node id, as before.
        await shared.publish('{"kind": "event", "node": "gz", "seq": 3}')
        await shared.publish('{"kind": "event", "node": "jp", "seq": 4}')
        await eventually(lambda: len(heard) == 2, "two messages handled")
    finally:
        await worker_0.stop()
    assert [message["seq"] for message in heard] == [2, 4]
    assert heard[0]["node"] == "gz"

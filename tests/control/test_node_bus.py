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
        ("event", {"kind": "event", "node": "there", "seq": 2}),
        ("presence", {"kind": "presence", "node": "here", "counts": {}}),
        ("event", {"kind": "event", "node": "there", "seq": 3}),
    ]
    assert "bad bus message" in caplog.text

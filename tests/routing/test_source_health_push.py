"""Source health from the media plane reaches every page watching routing, through the
adapter the media hub calls (without blocking its packet path)."""

from __future__ import annotations

from datetime import UTC, datetime

from streaming.ports import SourceEvent
from tests.control.support import Node
from tests.helpers import eventually
from web.adapters import SwitchesToRouting
from web.keys import ROUTING


async def test_a_lost_source_is_pushed_to_watchers(node: Node) -> None:
    viewer = await node.connect()  # anyone may watch the matrix
    await viewer.ok({"type": "watch_routing"})
    first = viewer.of_type("routing")[-1]
    assert first["channels"]["gz-hall-1"]["state"] == "idle"

    adapter = SwitchesToRouting(node.app[ROUTING])
    at = datetime.now(UTC)
    adapter.source_changed(SourceEvent("gz-hall-1", "lost", "primary", True, at))

    def hall_1() -> dict[str, object]:
        channels: dict[str, dict[str, object]] = viewer.of_type("routing")[-1]["channels"]
        return channels["gz-hall-1"]

    await eventually(lambda: hall_1()["state"] == "lost", "the loss pushed to the page")
    assert hall_1() == {
        "state": "lost",
        "since": at.isoformat(),
        "source": "primary",
        "backup_ready": True,
        "interpreters": {},
        "floor_language": "zh",
    }
    adapter.source_changed(SourceEvent("gz-hall-1", "live", "backup", False, at))
    await eventually(lambda: hall_1()["source"] == "backup", "the backup on air pushed")
    await adapter.aclose()

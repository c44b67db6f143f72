"""Source health in the routing matrix, failover choices, and routing state kept across
a restart (the service with fakes: no event loop tricks, no media)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config import Event
from signaling.protocol.server import Routing, as_json
from signaling.records.log import AsRunLog
from signaling.routing.persisted import RoutingStateKeeper
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from tests.fakes import FakeClock, MemorySink, RecordingCrosspoints

GZ = ZoneInfo("Asia/Shanghai")
START = datetime(2018, 12, 21, 9, 0, tzinfo=GZ)


class MemoryValues:
    """The store's value methods, in memory (shared by a service and its restart)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def put_value(self, key: str, value: str) -> None:
        self.values[key] = value

    async def get_value(self, key: str) -> str | None:
        return self.values.get(key)


def make(
    event: Event, now: datetime, values: MemoryValues
) -> tuple[RoutingService, FakeClock, RecordingCrosspoints, MemorySink, list[dict[str, Any]]]:
    clock = FakeClock(now)
    media, sink = RecordingCrosspoints(), MemorySink()
    announced: list[dict[str, Any]] = []

    async def on_change(matrix: Routing) -> None:
        announced.append(as_json(matrix))

    service = RoutingService(
        Router(event, pre_roll=timedelta(minutes=2)),
        AsRunLog(event, since=now - timedelta(hours=1)),
        media,
        clock,
        sink,
        on_change=on_change,
        keeper=RoutingStateKeeper(values, event.id),
    )
    return service, clock, media, sink, announced


def venue(matrix: dict[str, Any], venue_id: str) -> dict[str, Any]:
    return next(v for v in matrix["venues"] if v["venue"] == venue_id)


async def test_source_loss_shows_in_the_matrix_and_the_record(reference_event: Event) -> None:
    service, _, media, sink, announced = make(reference_event, START, MemoryValues())
    await service.step()
    media.live = {"gz-hall-1"}
    await service.switched("jp", "gz-hall-1", START)
    matrix = announced[-1]
    assert matrix["channels"]["gz-hall-1"]["state"] == "live"
    assert venue(matrix, "jp")["slate"] is False
    assert venue(matrix, "jp")["off_air_since"] is None
    # A venue with nothing routed shows the slate.
    assert venue(matrix, "kr")["slate"] is True

    lost_at = START + timedelta(seconds=30)
    await service.source_changed("gz-hall-1", "lost", "primary", True, lost_at)
    matrix = announced[-1]
    assert matrix["channels"]["gz-hall-1"] == {
        "state": "lost",
        "since": lost_at.isoformat(),
        "source": "primary",
        "backup_ready": True,
        "interpreters": {},
        "floor_language": "zh",
    }
    assert venue(matrix, "jp")["slate"] is True
    assert venue(matrix, "jp")["off_air_since"] == lost_at.isoformat()
    assert sink.saved["opening@jp#1"].off_air[0].cause == "source_lost"

    # The backup takes over two seconds later: the gap was the failover's.
    await service.source_changed(
        "gz-hall-1", "live", "backup", False, lost_at + timedelta(seconds=2)
    )
    matrix = announced[-1]
    assert matrix["channels"]["gz-hall-1"]["source"] == "backup"
    assert venue(matrix, "jp")["slate"] is False
    [gap] = sink.saved["opening@jp#1"].off_air
    assert (gap.cause, gap.seconds()) == ("failover", 2.0)


async def test_directors_state_comes_back_after_a_restart(reference_event: Event) -> None:
    values = MemoryValues()
    service, _, _, _, _ = make(reference_event, START, values)
    await service.step()
    await service.route("us", "gz-hall-5", "Director Wang")
    await service.pause("kr")
    await service.use_source("gz-hall-1", "backup")

    again, _, media, _, _ = make(reference_event, START + timedelta(seconds=40), values)
    await again.restore()
    us, kr = again.router.state("us"), again.router.state("kr")
    assert us.requested is not None
    assert (us.requested.channel, us.requested.by) == ("gz-hall-5", "Director Wang")
    assert us.held_against is not None
    assert kr.paused
    assert ("us", "gz-hall-5") in media.requests
    assert media.sources == [("gz-hall-1", "backup")]
    # The automation keeps the director's route: the schedule has not moved on.
    await again.step()
    assert again.router.state("us").requested == us.requested
    assert again.matrix()["venues"][0]["venue"]  # the matrix still builds


async def test_state_the_event_no_longer_has_is_dropped(reference_event: Event) -> None:
    values = MemoryValues()
    values.values[f"routing-state:{reference_event.id}"] = (
        '{"venues": {"mars": {"paused": true, "requested": null, "held_against": null},'
        ' "jp": {"paused": false, "requested": {"channel": "gone", "session": null,'
        ' "by": "W", "requested_at": "2018-12-21T09:00:00+08:00"}, "held_against": ""}},'
        ' "sources": {"gone": "backup", "gz-hall-2": "sideways"}}'
    )
    service, _, media, _, _ = make(reference_event, START, values)
    await service.restore()
    assert service.router.state("jp").requested is None
    assert media.sources == []

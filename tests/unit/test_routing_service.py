from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config import Event
from signaling.protocol.server import Routing, as_json
from signaling.records.airing import Status
from signaling.records.log import AsRunLog
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from tests.fakes import FakeClock, MemorySink, RecordingCrosspoints
from tests.helpers import eventually

GZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2018, 12, day, hour, minute, tzinfo=GZ)


def make(
    event: Event, start: datetime
) -> tuple[RoutingService, FakeClock, RecordingCrosspoints, MemorySink, list[dict[str, Any]]]:
    clock = FakeClock(start)
    crosspoints = RecordingCrosspoints()
    sink = MemorySink()
    announced: list[dict[str, Any]] = []

    async def on_change(matrix: Routing) -> None:
        announced.append(as_json(matrix))

    service = RoutingService(
        Router(event, pre_roll=timedelta(minutes=2)),
        AsRunLog(event, since=start),
        crosspoints,
        clock,
        sink,
        on_change=on_change,
    )
    return service, clock, crosspoints, sink, announced


async def test_the_loop_routes_on_the_clock_and_records_takes(reference_event: Event) -> None:
    service, clock, crosspoints, sink, announced = make(reference_event, at(21, 8, 0))
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(service.run())
        await eventually(lambda: sink.last_alive == at(21, 8, 0), "the first pass")
        assert crosspoints.requests == []
        clock.set(at(21, 8, 58))
        await eventually(lambda: len(crosspoints.requests) == 6, "six crosspoints at the pre-roll")
        assert ("jp", "gz-hall-1") in crosspoints.requests
        assert ("gz", "us-return") in crosspoints.requests
        # Nothing is on air until the media plane says the switch happened.
        assert sink.saved == {}
        await service.switched("jp", "gz-hall-1", at(21, 8, 58) + timedelta(milliseconds=35))
        airing = sink.saved["opening@jp#1"]
        assert airing.status is Status.ON_AIR
        assert airing.actual_start == at(21, 8, 58) + timedelta(milliseconds=35)
        jp = next(v for v in announced[-1]["venues"] if v["venue"] == "jp")
        assert jp["on_air"]["channel"] == "gz-hall-1"
        assert jp["on_air"]["session"] == "opening"
        # The director takes jp elsewhere by hand.
        await service.route("jp", "gz-hall-5", "Director Wang")
        assert crosspoints.requests[-1] == ("jp", "gz-hall-5")
        await service.switched("jp", "gz-hall-5", at(21, 8, 59))
        assert sink.saved["opening@jp#1"].status is Status.CUT_SHORT
        assert sink.saved["opening@jp#1"].actual_end == at(21, 8, 59)
        runner.cancel()


async def test_pause_and_resume_announce_the_matrix(reference_event: Event) -> None:
    service, _, crosspoints, _, announced = make(reference_event, at(21, 9, 0))
    await service.pause("kr")
    kr = next(v for v in announced[-1]["venues"] if v["venue"] == "kr")
    assert kr["automation"] == "paused"
    await service.step()
    assert ("kr", "gz-hall-1") not in crosspoints.requests
    await service.resume("kr")
    assert crosspoints.requests[-1] == ("kr", "gz-hall-1")
    kr = next(v for v in announced[-1]["venues"] if v["venue"] == "kr")
    assert kr["automation"] == "on"
    assert kr["requested"]["session"] == "opening"

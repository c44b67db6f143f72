from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config import Event
from signaling.routing.plan import planned_session, venue_sessions
from signaling.routing.router import AUTOMATION, Router, RoutingError

GZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2018, 12, day, hour, minute, tzinfo=GZ)


def test_pre_roll_and_a_running_session_keeps_the_output(reference_event: Event) -> None:
    jp = venue_sessions(reference_event, "jp")
    pre = timedelta(minutes=15)
    assert planned_session(jp, at(21, 8, 44), pre) is None
    assert planned_session(jp, at(21, 8, 45), pre).id == "opening"  # type: ignore[union-attr]
    # 09:50 opening ends; gba-new-materials starts 10:00 with a 15 minute pre-roll that began 09:45:
    assert planned_session(jp, at(21, 9, 49), pre).id == "opening"  # type: ignore[union-attr]
    assert planned_session(jp, at(21, 9, 50), pre).id == "gba-new-materials"  # type: ignore[union-attr]
    assert planned_session(jp, at(21, 12, 0), pre) is None


def test_automation_routes_then_releases(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=timedelta(minutes=2))
    assert router.tick(at(21, 8, 0)) == []
    routes = {r.venue: r for r in router.tick(at(21, 8, 58))}
    # The sub-venues get the opening; Guangzhou gets the Silicon Valley return feed.
    assert set(routes) == {"gz", "us", "eu", "jp", "kr", "cis"}
    assert routes["gz"].channel == "us-return"
    assert routes["jp"].channel == "gz-hall-1"
    assert routes["jp"].session == "opening"
    assert routes["jp"].by == AUTOMATION
    assert router.tick(at(21, 8, 59)) == []  # nothing new: no repeated requests
    released = {r.venue: r for r in router.tick(at(21, 12, 0))}
    assert released["jp"].channel is None
    assert released["jp"].session is None


def test_manual_route_wins_until_the_schedule_moves_on(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=timedelta(minutes=2))
    router.tick(at(21, 10, 0))
    manual = router.route("jp", "gz-hall-3", "Director Wang", at(21, 10, 30))
    assert manual.manual
    assert manual.session == "chunhui-cup-finals"
    assert "jp" not in {r.venue for r in router.tick(at(21, 11, 0))}  # left alone
    # gba-new-materials ends at 12:00; the schedule moves on (to nothing) and takes over.
    back = [r for r in router.tick(at(21, 12, 0)) if r.venue == "jp"]
    assert back[0].by == AUTOMATION
    assert back[0].channel is None


def test_pause_and_resume(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=timedelta(minutes=2))
    router.pause("kr")
    assert "kr" not in {r.venue for r in router.tick(at(21, 9, 0))}
    resumed = router.resume("kr", at(21, 9, 10))
    assert resumed is not None
    assert (resumed.channel, resumed.session) == ("gz-hall-1", "opening")


def test_taken_only_for_the_latest_request(reference_event: Event) -> None:
    router = Router(reference_event)
    router.tick(at(21, 9, 0))
    first = router.state("jp").requested
    router.route("jp", "gz-hall-2", "Director Wang", at(21, 9, 1))
    assert router.taken("jp", "gz-hall-1", at(21, 9, 1)) is None  # superseded
    take = router.taken("jp", "gz-hall-2", at(21, 9, 2))
    assert take is not None
    assert take.route.channel == "gz-hall-2"
    assert router.state("jp").on_air == take
    assert first is not None
    assert router.taken("jp", "gz-hall-2", at(21, 9, 3)) is None  # already confirmed


def test_bad_requests(reference_event: Event) -> None:
    router = Router(reference_event)
    with pytest.raises(RoutingError, match="unknown venue 'mars'"):
        router.route("mars", "gz-hall-1", "Wang", at(21, 9))
    with pytest.raises(RoutingError, match="unknown channel 'nope'"):
        router.route("jp", "nope", "Wang", at(21, 9))
    with pytest.raises(RoutingError, match="director's name"):
        router.route("jp", "gz-hall-1", AUTOMATION, at(21, 9))


def test_next_change(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=timedelta(minutes=2))
    assert router.next_change(at(21, 0, 0)) == at(20, 16, 58) + timedelta(hours=16)
    assert router.next_change(at(22, 23, 0)) is None

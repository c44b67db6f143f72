"""Records that tell the truth: off-air intervals, restarts within the grace period,
who took a route, unscheduled airings, a clean stop."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config import Event
from signaling.records.airing import Airing, Judgement, OffAir, Status
from signaling.records.log import AsRunLog
from signaling.records.recovery import open_asrun_log
from signaling.records.report import airing_row, terminal_report
from signaling.records.store import AiringStore, airing_from_json, airing_to_json
from signaling.routing.router import AUTOMATION, Route, Take
from tests.fakes import MemoryAppendLog

GZ = ZoneInfo("Asia/Shanghai")
START = datetime(2018, 12, 21, 9, 0, tzinfo=GZ)  # "opening" on gz-hall-1, sent to jp


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def take(venue: str, channel: str | None, session: str | None, by: str, at: datetime) -> Take:
    return Take(Route(venue, channel, session, by, at), at)


def opening_on_air(event: Event) -> AsRunLog:
    log = AsRunLog(event, since=START - timedelta(hours=1))
    log.taken(take("jp", "gz-hall-1", "opening", AUTOMATION, START))
    return log


def test_a_lost_source_is_an_off_air_interval_with_its_cause(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    [lost] = log.source_lost("gz-hall-1", START + seconds(60))
    assert lost.off_air == (OffAir(START + seconds(60), None, "source_lost"),)
    assert lost.seconds_off_air(START + seconds(70)) == 10
    [back] = log.source_back("gz-hall-1", START + seconds(106))
    assert back.off_air == (OffAir(START + seconds(60), START + seconds(106), "source_lost"),)
    assert back.seconds_off_air() == 46
    assert back.reconnects == 1
    # A second loss, ended by the backup taking over, is the failover's.
    log.source_lost("gz-hall-1", START + seconds(200))
    [after] = log.source_back("gz-hall-1", START + seconds(202), cause="failover")
    assert [i.cause for i in after.off_air] == ["source_lost", "failover"]
    assert after.seconds_off_air() == 48


def test_an_airing_that_starts_on_a_dead_channel_starts_off_air(reference_event: Event) -> None:
    log = AsRunLog(reference_event, since=START - timedelta(hours=1))
    log.source_lost("gz-hall-1", START - timedelta(minutes=5), cause="slate")
    [airing] = log.taken(take("jp", "gz-hall-1", "opening", AUTOMATION, START))
    assert airing.off_air == (OffAir(START, None, "slate"),)
    [closed] = log.stop(START + seconds(30))
    assert closed.off_air == (OffAir(START, START + seconds(30), "slate"),)
    assert closed.longest_source_loss == 30  # counted from the airing's start, not before


def test_a_restart_within_the_grace_continues_the_same_airing(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    died, back = START + seconds(600), START + seconds(640)
    [continued] = log.continue_after_restart(died, back)
    assert continued.open
    assert continued.off_air == (OffAir(died, None, "server_down"),)
    # The automation routes the same session again: the output shows it, the gap closes.
    again = log.taken(take("jp", "gz-hall-1", "opening", AUTOMATION, back + seconds(2)))
    assert [a.id for a in again] == ["opening@jp#1"]
    assert again[0].off_air == (OffAir(died, back + seconds(2), "server_down"),)
    assert again[0].seconds_off_air() == 42
    assert [a.id for a in log.airings()] == ["opening@jp#1"]  # not split in two


async def test_start_up_continues_or_closes_by_the_grace(reference_event: Event) -> None:
    for downtime, grace, expect_open in ((30, 60, True), (300, 60, False)):
        store = AiringStore(MemoryAppendLog(), reference_event.id)
        await store.began(START - timedelta(hours=1))
        await store.save(opening_on_air(reference_event).airings())
        await store.alive(START + seconds(600))
        log = await open_asrun_log(
            store,
            reference_event,
            Judgement(),
            START + seconds(600 + downtime),
            restart_grace=seconds(grace),
        )
        [airing] = await store.load()
        assert airing.open is expect_open
        assert log.open_on("jp") == (airing if expect_open else None)
        if expect_open:
            assert airing.off_air[0].cause == "server_down"
        else:
            assert airing.actual_end == START + seconds(600)


def test_routed_by_names_the_director_who_took_the_route(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    [airing] = log.taken(take("jp", "gz-hall-1", "opening", "Director Wang", START + seconds(5)))
    assert airing.id == "opening@jp#1"
    assert airing.routed_by == "Director Wang"
    # The automation confirming the same route later does not erase the director's name.
    assert log.taken(take("jp", "gz-hall-1", "opening", AUTOMATION, START + seconds(9))) == []


def test_a_manual_route_without_a_session_is_an_unscheduled_airing(
    reference_event: Event,
) -> None:
    log = AsRunLog(reference_event, since=START - timedelta(hours=1))
    late = datetime(2018, 12, 23, 23, 0, tzinfo=GZ)  # nothing scheduled on the channel then
    [airing] = log.taken(take("us", "gz-hall-2", None, "Director Wang", late))
    assert airing.unscheduled
    assert airing.open
    assert (airing.venue, airing.channel, airing.routed_by) == ("us", "gz-hall-2", "Director Wang")
    closed = log.taken(take("us", None, None, "Director Wang", late + timedelta(minutes=7)))
    assert closed[0].status is Status.AIRED
    assert closed[0].actual_end == late + timedelta(minutes=7)
    row = airing_row(reference_event, closed[0])
    assert row["unscheduled"] is True
    assert row["title"].startswith("Unscheduled: ")
    assert row["scheduled_start_utc"] == ""
    assert row["start_delta_seconds"] is None
    # The automation routing nothing does not make airings.
    assert log.taken(take("us", "gz-hall-2", None, AUTOMATION, late + timedelta(minutes=8))) == []


def test_a_clean_stop_closes_open_airings_at_the_stop(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    log.source_lost("gz-hall-1", START + seconds(100))
    [closed] = log.stop(START + seconds(130))
    assert closed.actual_end == START + seconds(130)
    assert closed.status is Status.CUT_SHORT
    assert "clean stop" in closed.note
    assert closed.off_air[-1].end == START + seconds(130)
    assert log.open_airings() == []


def test_an_interval_never_ends_before_it_starts(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    log.source_lost("gz-hall-1", START + seconds(100))
    [closed] = log.stop(START + seconds(50))  # a clock stepped back
    assert all(i.end is not None and i.end >= i.start for i in closed.off_air)


def test_off_air_and_unscheduled_survive_the_store(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    log.source_lost("gz-hall-1", START + seconds(60))
    [airing] = log.source_back("gz-hall-1", START + seconds(75))
    assert airing_from_json(airing_to_json(airing)) == airing
    unscheduled = Airing(
        id="unscheduled@us#1", session="", venue="us", channel="gz-hall-2",
        scheduled_start=START, scheduled_end=START, actual_start=START, actual_end=None,
        status=Status.ON_AIR, routed_by="W", unscheduled=True,
    )  # fmt: skip
    assert airing_from_json(airing_to_json(unscheduled)) == unscheduled
    # Records written before off-air intervals existed still load.
    old = airing_to_json(airing).replace(',"unscheduled":false', "")
    old = old[: old.index(',"off_air"')] + "}"
    assert airing_from_json(old).off_air == ()


def test_reports_show_off_air_intervals_and_totals(reference_event: Event) -> None:
    log = opening_on_air(reference_event)
    log.source_lost("gz-hall-1", START + seconds(60))
    log.source_back("gz-hall-1", START + seconds(106))
    [airing] = log.stop(START + timedelta(minutes=50))
    row = airing_row(reference_event, airing)
    assert row["off_air_seconds"] == 46
    assert row["off_air"] == "source_lost 2018-12-21T01:01:00Z/2018-12-21T01:01:46Z"
    text = terminal_report(reference_event, [airing])
    assert "off air 10:01:00-10:01:46 (46.0 s, source lost)" in text  # Tokyo time
    assert "46.0 s off air" in text

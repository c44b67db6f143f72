from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from config import Event
from signaling.records.airing import Status
from signaling.records.log import AsRunLog
from signaling.routing.router import Router

GZ = ZoneInfo("Asia/Shanghai")
KEYFRAME_DELAY = timedelta(milliseconds=40)
PRE_ROLL = timedelta(minutes=2)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2018, 12, day, hour, minute, tzinfo=GZ)


def step(router: Router, log: AsRunLog, now: datetime) -> None:
    """Apply the automation at ``now`` as the media plane would: taken a keyframe later."""
    for route in router.tick(now):
        take = router.taken(route.venue, route.channel, now + KEYFRAME_DELAY)
        assert take is not None
        log.taken(take)
    log.sweep(now)


def run_until(router: Router, log: AsRunLog, start: datetime, end: datetime) -> datetime:
    now = start
    while (moment := router.next_change(now)) is not None and moment <= end:
        now = moment
        step(router, log, now)
    return now


def test_a_whole_event_run_by_the_automation(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    start = at(20, 0)
    log = AsRunLog(reference_event, since=start)
    run_until(router, log, start, at(23, 0))
    log.sweep(at(23, 0))

    expected = {(s.id, v) for s in reference_event.sessions for v in s.venues}
    airings = log.airings()
    assert {(a.session, a.venue) for a in airings} == expected
    assert len(airings) == len(expected)
    for airing in airings:
        assert airing.status is Status.AIRED, airing
        assert airing.routed_by == "automation"
        assert airing.actual_start is not None
        assert airing.actual_end is not None
        # Taken at the pre-roll (or when the venue's previous session ended) ...
        latest = airing.scheduled_start + KEYFRAME_DELAY
        assert airing.scheduled_start - PRE_ROLL <= airing.actual_start <= latest
        # ... and released at the scheduled end, a keyframe later.
        assert airing.actual_end == airing.scheduled_end + KEYFRAME_DELAY

    jp_opening = next(a for a in airings if a.id == "opening@jp#1")
    assert jp_opening.actual_start == at(21, 8, 58) + KEYFRAME_DELAY
    assert jp_opening.channel == "gz-hall-1"
    gz_return = next(a for a in airings if a.session == "us-silicon-valley-exchange")
    assert gz_return.venue == "gz"
    assert gz_return.actual_start is not None
    assert gz_return.actual_start.astimezone(UTC) == datetime(2018, 12, 21, 0, 58, tzinfo=UTC) + (
        KEYFRAME_DELAY
    )


def test_director_cuts_a_session_short(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    log = AsRunLog(reference_event, since=at(21, 0))
    step(router, log, at(21, 9, 58))  # jp: gba-new-materials pre-roll
    take = router.taken("jp", "gz-hall-3", at(21, 11, 0))
    assert take is None  # not requested yet: ignored
    router.route("jp", "gz-hall-3", "Director Wang", at(21, 11, 0))
    take = router.taken(
        "jp",
        "gz-hall-3",
        at(
            21,
            11,
            0,
        )
        + KEYFRAME_DELAY,
    )
    assert take is not None
    changed = log.taken(take)
    closed, opened = changed
    assert closed.session == "gba-new-materials"
    assert closed.status is Status.CUT_SHORT
    assert opened.session == "chunhui-cup-finals"
    assert opened.routed_by == "Director Wang"
    assert opened.status is Status.ON_AIR


def test_overrun_when_the_director_holds_the_output(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    log = AsRunLog(reference_event, since=at(21, 0))
    step(router, log, at(21, 13, 58))  # kr: high-level-talents-summit 14:00-16:30
    router.pause("kr")
    step(router, log, at(21, 16, 30))  # the automation would release kr here; paused
    release = router.route("kr", None, "Director Kim", at(21, 16, 45))
    take = router.taken("kr", None, release.requested_at)
    assert take is not None
    (closed,) = log.taken(take)
    assert closed.status is Status.OVERRAN
    assert closed.actual_end == at(21, 16, 45)


def test_source_lost_too_long_fails_the_airing(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    log = AsRunLog(reference_event, since=at(21, 0))
    step(router, log, at(21, 8, 58))
    log.source_lost("gz-hall-1", at(21, 9, 10))
    changed = log.source_back(
        "gz-hall-1",
        at(
            21,
            9,
            10,
        )
        + timedelta(seconds=10),
    )
    assert {a.venue for a in changed} == {"us", "eu", "jp", "kr", "cis"}
    assert all(a.reconnects == 1 and a.longest_source_loss == 10.0 for a in changed)
    log.source_lost("gz-hall-1", at(21, 9, 20))
    run_until(router, log, at(21, 8, 58), at(21, 9, 50))
    opening = [a for a in log.airings() if a.session == "opening"]
    assert len(opening) == 5
    assert {a.status for a in opening} == {Status.FAILED}
    assert all(a.longest_source_loss >= 30 * 60 for a in opening)


def test_skipped_when_a_paused_venue_never_takes_it(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    log = AsRunLog(reference_event, since=at(21, 0))
    router.pause("cis")
    run_until(router, log, at(21, 0), at(21, 10, 0))
    cis = [a for a in log.airings() if a.venue == "cis"]
    assert [(a.session, a.status) for a in cis] == [("opening", Status.SKIPPED)]
    assert cis[0].actual_start is None
    # Sessions that ended before the log began are not judged at all.
    late = AsRunLog(reference_event, since=at(21, 12, 1))
    assert late.sweep(at(21, 12, 30)) == []


def test_restart_mid_airing_closes_it_with_a_note(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    log = AsRunLog(reference_event, since=at(21, 0))
    step(router, log, at(21, 9, 58))
    open_before = [a for a in log.airings() if a.open]
    assert open_before

    restarted = AsRunLog(reference_event, since=at(21, 0), airings=log.airings())
    closed = restarted.recover(last_alive=at(21, 10, 30))
    assert {a.id for a in closed} == {a.id for a in open_before}
    for airing in closed:
        assert airing.actual_end == at(21, 10, 30)
        assert airing.status is Status.CUT_SHORT
        assert "server stopped" in airing.note
    assert not any(a.open for a in restarted.airings())


def test_peaks_and_questions(reference_event: Event) -> None:
    router = Router(reference_event, pre_roll=PRE_ROLL)
    log = AsRunLog(reference_event, since=at(21, 0))
    step(router, log, at(21, 8, 58))
    log.viewers({"jp": 3}, {"gz-hall-1": 120})
    log.viewers({"jp": 2}, {"gz-hall-1": 90})
    log.questions("opening", asked=7, answered=4)
    jp = log.open_on("jp")
    assert jp is not None
    assert (jp.peak_venue_viewers, jp.peak_channel_viewers) == (3, 120)
    assert (jp.questions_asked, jp.questions_answered) == (7, 4)

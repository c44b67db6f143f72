"""The rehearsal clock: the event shifted to start soon, optionally sped up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config import Event
from signaling.rehearsal import (
    Anchor,
    RehearsalClock,
    RehearsalError,
    RehearsalPlan,
    new_anchor,
    rehearsal_clock,
)
from tests.unit.test_routing_health import MemoryValues

REAL = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)


class PinnedClock(RehearsalClock):
    """The rehearsal clock with the real time set by the test."""

    real = REAL

    def real_now(self) -> datetime:
        return self.real


def test_the_first_session_starts_the_lead_after_start_up(reference_event: Event) -> None:
    first = min(s.start for s in reference_event.sessions)
    clock = PinnedClock(new_anchor(reference_event, RehearsalPlan(), REAL))
    assert clock.now() == first - timedelta(minutes=2)
    clock.real = REAL + timedelta(minutes=2)
    assert clock.now() == first


def test_speed_runs_event_time_faster_and_maps_media_times(reference_event: Event) -> None:
    plan = RehearsalPlan(lead=timedelta(seconds=10), from_session="opening", speed=60)
    clock = PinnedClock(new_anchor(reference_event, plan, REAL))
    opening = reference_event.session("opening")
    assert opening is not None
    # Ten real seconds of lead at 60x are ten event minutes.
    assert clock.now() == opening.start - timedelta(minutes=10)
    clock.real = REAL + timedelta(seconds=10)
    assert clock.now() == opening.start
    assert clock.from_real(REAL + timedelta(seconds=11)) == opening.start + timedelta(minutes=1)
    assert clock.as_json()["speed"] == 60


def test_an_unknown_session_is_refused(reference_event: Event) -> None:
    with pytest.raises(RehearsalError, match="no session 'nope'"):
        new_anchor(reference_event, RehearsalPlan(from_session="nope"), REAL)


async def test_a_restart_mid_rehearsal_keeps_its_clock(reference_event: Event) -> None:
    values = MemoryValues()
    plan = RehearsalPlan(speed=10)
    first = await rehearsal_clock(values, reference_event, plan, REAL)
    again = await rehearsal_clock(values, reference_event, plan, REAL + timedelta(seconds=30))
    assert again.anchor == first.anchor
    # Another plan starts a new rehearsal.
    other = await rehearsal_clock(
        values, reference_event, RehearsalPlan(speed=20), REAL + timedelta(seconds=40)
    )
    assert other.anchor.real == REAL + timedelta(seconds=40)


async def test_a_finished_rehearsal_starts_over(reference_event: Event) -> None:
    values = MemoryValues()
    last_end = max(s.end for s in reference_event.sessions)
    stale = Anchor(REAL, last_end + timedelta(hours=1), 1.0)
    plan = RehearsalPlan()
    fresh = await rehearsal_clock(values, reference_event, plan, REAL)
    values.values[f"rehearsal-clock:{reference_event.id}"] = values.values[
        f"rehearsal-clock:{reference_event.id}"
    ].replace(fresh.anchor.virtual.isoformat(), stale.virtual.isoformat())
    later = await rehearsal_clock(values, reference_event, plan, REAL + timedelta(seconds=5))
    assert later.anchor.real == REAL + timedelta(seconds=5)
    assert later.anchor.virtual < last_end

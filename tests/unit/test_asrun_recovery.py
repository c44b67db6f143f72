"""Opening the as-run log: stored airings come back, ones left on air are closed once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config import Event
from signaling.records.airing import Judgement, Status
from signaling.records.recovery import open_asrun_log
from signaling.records.store import AiringStore
from tests.fakes import MemoryAppendLog
from tests.unit.test_airing_store import START, make_airing

RULES = Judgement(tolerance=timedelta(minutes=2))


async def test_a_fresh_store_opens_an_empty_log_that_begins_now(reference_event: Event) -> None:
    store = AiringStore(MemoryAppendLog(), reference_event.id)
    log = await open_asrun_log(store, reference_event, RULES, START, rehearsal=True)
    assert log.airings() == []
    assert log.since == START
    assert log.rules == RULES
    assert log.rehearsal is True


async def test_an_airing_left_on_air_is_closed_at_the_last_heartbeat(
    reference_event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    backing = MemoryAppendLog()
    store = AiringStore(backing, reference_event.id)
    await store.began(START - timedelta(hours=1))
    await store.save([make_airing()])
    await store.alive(START + timedelta(minutes=20))

    log = await open_asrun_log(store, reference_event, RULES, START + timedelta(hours=2))

    assert log.since == START - timedelta(hours=1)  # the first start's moment, kept
    (airing,) = log.airings()
    assert airing.actual_end == START + timedelta(minutes=20)
    assert airing.status is Status.CUT_SHORT
    assert "server stopped" in airing.note
    assert "closed 1 airing(s)" in caplog.text
    # Stored at once, so another node (or the next start) reads it closed.
    (stored,) = await AiringStore(backing, reference_event.id).load()
    assert stored == airing
    again = await open_asrun_log(store, reference_event, RULES, START + timedelta(hours=3))
    assert again.airings() == [airing]


async def test_closed_airings_are_left_alone(reference_event: Event) -> None:
    backing = MemoryAppendLog()
    store = AiringStore(backing, reference_event.id)
    aired = make_airing(Status.AIRED, START + timedelta(minutes=50))
    await store.save([aired])
    await store.alive(START + timedelta(hours=1))
    log = await open_asrun_log(store, reference_event, RULES, START + timedelta(hours=2))
    assert log.airings() == [aired]
    assert len(await backing.read(f"asrun:{reference_event.id}")) == 1

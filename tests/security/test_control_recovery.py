"""Recovered airings (issue 10, finding 7): one that began after the last heartbeat ends
where it began, never before."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from config import Event
from signaling.records.airing import Judgement
from signaling.records.recovery import open_asrun_log
from signaling.records.store import AiringStore
from tests.fakes import MemoryAppendLog
from tests.unit.test_airing_store import START, make_airing

RULES = Judgement(tolerance=timedelta(minutes=2))


async def test_an_airing_begun_after_the_last_heartbeat_ends_at_its_start(
    reference_event: Event,
) -> None:
    store = AiringStore(MemoryAppendLog(), reference_event.id)
    last_alive = START + timedelta(minutes=20)
    late = dataclasses.replace(make_airing(), actual_start=last_alive + timedelta(seconds=4))
    early = dataclasses.replace(
        make_airing(), id="opening@us#1", venue="us", actual_start=START - timedelta(minutes=1)
    )
    await store.save([late, early])
    await store.alive(last_alive)

    log = await open_asrun_log(store, reference_event, RULES, START + timedelta(hours=2))

    closed = {a.id: a for a in log.airings()}
    assert closed[late.id].actual_end == late.actual_start  # zero length, not negative
    assert closed[early.id].actual_end == last_alive  # as before: the last heartbeat
    for airing in closed.values():
        assert airing.actual_start is not None
        assert airing.actual_end is not None
        assert airing.actual_end >= airing.actual_start

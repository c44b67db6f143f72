"""As-run records on both store backends: two writers, one history, newest version wins."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from signaling.records.airing import Airing, Status
from signaling.records.store import AiringStore
from tests.control.conftest import backend
from tests.control.support import Backend

__all__ = ["backend"]

START = datetime(2018, 12, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def airing(venue: str, status: Status) -> Airing:
    return Airing(
        id=f"opening@{venue}#1",
        session="opening",
        venue=venue,
        channel="gz-hall-1",
        scheduled_start=START,
        scheduled_end=START + timedelta(minutes=50),
        actual_start=START,
        actual_end=None if status is Status.ON_AIR else START + timedelta(minutes=50),
        status=status,
        routed_by="automation",
    )


async def test_records_survive_reopening_and_concurrent_writers(backend: Backend) -> None:
    first = AiringStore(backend.store, "coet2018")
    second = AiringStore(backend.store, "coet2018")
    assert await first.began(START) == START
    await asyncio.gather(
        first.save([airing("jp", Status.ON_AIR)]),
        second.save([airing("kr", Status.ON_AIR)]),
        first.alive(START + timedelta(minutes=1)),
    )
    await first.save([airing("jp", Status.AIRED)])
    store = await backend.reopen()
    try:
        reopened = AiringStore(store, "coet2018")
        loaded = {a.venue: a.status for a in await reopened.load()}
        assert loaded == {"jp": Status.AIRED, "kr": Status.ON_AIR}
        assert await reopened.began(START + timedelta(days=1)) == START
        assert await reopened.last_alive() == START + timedelta(minutes=1)
    finally:
        await store.aclose()

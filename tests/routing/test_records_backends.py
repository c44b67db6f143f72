"""As-run records on both store backends: two writers, one history, newest version wins."""

from __future__ import annotations

import asyncio
from dataclasses import replace
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


# An airing as stores held it before airings named their node (no "node" key).
BEFORE_NODES = (
    '{"id":"opening@jp#1","session":"opening","venue":"jp","channel":"gz-hall-1",'
    '"scheduled_start":"2018-12-21T09:00:00+08:00","scheduled_end":"2018-12-21T09:50:00+08:00",'
    '"actual_start":"2018-12-21T09:00:00+08:00","actual_end":null,"status":"on_air",'
    '"routed_by":"automation","rehearsal":false,"peak_venue_viewers":2,'
    '"peak_channel_viewers":0,"reconnects":0,"longest_source_loss":0.0,"questions_asked":0,'
    '"questions_answered":0,"note":"","unscheduled":false,"off_air":[]}'
)


async def test_records_written_before_nodes_load_with_no_node_and_gain_one(
    backend: Backend,
) -> None:
    assert await backend.store.append("asrun:coet2018", 0, BEFORE_NODES) == 1
    store = await backend.reopen()
    try:
        records = AiringStore(store, "coet2018")
        [old] = await records.load()
        assert (old.node, old.peak_venue_viewers, old.status) == ("", 2, Status.ON_AIR)
        # The next version of the same airing carries its node; the newest wins.
        await records.save([replace(old, node="edge-jp")])
        [new] = await AiringStore(store, "coet2018").load()
        assert new == replace(old, node="edge-jp")
    finally:
        await store.aclose()

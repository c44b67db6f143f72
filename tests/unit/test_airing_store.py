from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from signaling.records.airing import Airing, Status
from signaling.records.store import AiringStore, airing_from_json, airing_to_json
from tests.fakes import MemoryAppendLog

GZ = ZoneInfo("Asia/Shanghai")
START = datetime(2018, 12, 21, 9, 0, tzinfo=GZ)


def make_airing(status: Status = Status.ON_AIR, end: datetime | None = None) -> Airing:
    return Airing(
        id="opening@jp#1",
        session="opening",
        venue="jp",
        channel="gz-hall-1",
        scheduled_start=START,
        scheduled_end=START + timedelta(minutes=50),
        actual_start=START - timedelta(minutes=2),
        actual_end=end,
        status=status,
        routed_by="Director 王",
        peak_venue_viewers=3,
    )


def test_json_round_trip() -> None:
    airing = make_airing(Status.AIRED, START + timedelta(hours=1))
    assert airing_from_json(airing_to_json(airing)) == airing
    assert "王" in airing_to_json(airing)


async def test_newest_version_wins_and_heartbeats() -> None:
    log = MemoryAppendLog()
    store = AiringStore(log, "coet2018")
    assert await store.last_alive() is None
    assert await store.began(START) == START
    assert await store.began(START + timedelta(hours=1)) == START  # set once
    await store.save([make_airing()])
    await store.save([make_airing(Status.CUT_SHORT, START + timedelta(minutes=30))])
    await store.alive(START + timedelta(minutes=5))
    await store.alive(START + timedelta(minutes=6))
    (loaded,) = await AiringStore(log, "coet2018").load()
    assert loaded.status is Status.CUT_SHORT
    assert await store.last_alive() == START + timedelta(minutes=6)
    assert await AiringStore(log, "other-event").load() == []

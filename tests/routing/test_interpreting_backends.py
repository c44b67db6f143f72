"""Interpreters' turns and airings' languages on both store backends: kept across a reopen,
an open turn closed at the last heartbeat when the log is opened again."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from signaling.records.airing import Airing, LanguageChange, Status
from signaling.records.interpreting import InterpretingLog
from signaling.records.interpreting_store import InterpretingStore, open_interpreting_log
from signaling.records.store import AiringStore
from tests.control.conftest import backend
from tests.control.support import Backend

__all__ = ["backend"]

START = datetime(2018, 12, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def test_turns_and_languages_survive_a_reopen(backend: Backend) -> None:
    turns = InterpretingStore(backend.store, "coet2018")
    log = InterpretingLog()
    await turns.save(log.heard("gz-hall-1", "ja", "Aiko Tanaka", START))
    await turns.save(log.heard("gz-hall-1", "ja", "Ben Mori", START + timedelta(minutes=20)))
    airings = AiringStore(backend.store, "coet2018")
    changes = (LanguageChange(START, "ja"), LanguageChange(START + timedelta(minutes=5), None))
    airing = Airing(
        id="opening@jp#1",
        session="opening",
        venue="jp",
        channel="gz-hall-1",
        scheduled_start=START,
        scheduled_end=START + timedelta(minutes=50),
        actual_start=START,
        actual_end=None,
        status=Status.ON_AIR,
        routed_by="automation",
        languages=changes,
    )
    await airings.save([airing])
    await airings.alive(START + timedelta(minutes=31))

    store = await backend.reopen()
    try:
        last_alive = await AiringStore(store, "coet2018").last_alive()
        reopened = await open_interpreting_log(InterpretingStore(store, "coet2018"), last_alive)
        ends = {i.interpreter: i.end for i in reopened.intervals()}
        assert ends == {
            "Aiko Tanaka": START + timedelta(minutes=20),
            "Ben Mori": START + timedelta(minutes=31),  # closed at the last heartbeat
        }
        assert [a.languages for a in await AiringStore(store, "coet2018").load()] == [changes]
        # Whoever reads the store next sees Ben's turn closed too.
        stored = await InterpretingStore(store, "coet2018").load()
        assert all(not i.open for i in stored)
    finally:
        await store.aclose()

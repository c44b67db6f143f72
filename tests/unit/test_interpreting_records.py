"""Interpreters' on-air turns: folded from booth changes, cut by session, joined to the
venues that played the language, kept in the store and closed after an unclean stop."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from config import Event
from signaling.records.airing import Airing, LanguageChange, Status
from signaling.records.interpreting import InterpretingLog, OnAir, interpreting_rows, to_csv
from signaling.records.interpreting_store import (
    InterpretingRecorder,
    InterpretingStore,
    interval_from_json,
    interval_to_json,
    open_interpreting_log,
)
from tests.fakes import MemoryAppendLog
from tests.helpers import eventually

GZ = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2018, 12, 21, hour, minute, tzinfo=GZ)


@dataclass(frozen=True)
class Note:
    """What the media plane says about a booth (its LanguageEvent's shape)."""

    channel: str
    language: str
    interpreter: str | None
    at: datetime


def airing(venue: str, start: datetime, end: datetime | None, *changes: LanguageChange) -> Airing:
    return Airing(
        id=f"opening@{venue}#1",
        session="opening",
        venue=venue,
        channel="gz-hall-1",
        scheduled_start=at(9),
        scheduled_end=at(9, 50),
        actual_start=start,
        actual_end=end,
        status=Status.ON_AIR if end is None else Status.AIRED,
        routed_by="automation",
        languages=changes,
    )


def test_turns_open_close_and_hand_over() -> None:
    log = InterpretingLog()
    [first] = log.heard("gz-hall-1", "ja", "Aiko", at(9, 0))
    assert first == OnAir("gz-hall-1/ja#1", "gz-hall-1", "ja", "Aiko", at(9, 0))
    assert log.heard("gz-hall-1", "ja", "Aiko", at(9, 1)) == []  # told again: same turn
    # Hand-over: Aiko's turn ends as Ben's begins.
    ended, began = log.heard("gz-hall-1", "ja", "Ben", at(9, 30))
    assert (ended.interpreter, ended.end) == ("Aiko", at(9, 30))
    assert (began.id, began.interpreter, began.end) == ("gz-hall-1/ja#2", "Ben", None)
    # Another booth is its own.
    log.heard("gz-hall-1", "ko", "Min", at(9, 10))
    [gone] = log.heard("gz-hall-1", "ja", None, at(9, 45))
    assert gone.end == at(9, 45)
    assert [i.interpreter for i in log.open_intervals()] == ["Min"]
    [stopped] = log.stop(at(9, 50))
    assert stopped.end == at(9, 50)
    assert "clean stop" in stopped.note
    assert log.open_intervals() == []


def test_rows_cut_by_session_and_name_the_venues_that_played_it(
    reference_event: Event,
) -> None:
    log = InterpretingLog()
    # On air from 09:40 to 10:20: across the end of the opening (09:50) and the start
    # of the summit (10:00) on the same channel.
    log.heard("gz-hall-1", "ja", "Aiko", at(9, 40))
    log.heard("gz-hall-1", "ja", None, at(10, 20))
    airings = [
        # jp plays ja all through the opening.
        airing("jp", at(8, 58), at(9, 50), LanguageChange(at(8, 58), "ja")),
        # kr switches from ko to ja at 09:45.
        airing(
            "kr",
            at(8, 58),
            at(9, 50),
            LanguageChange(at(8, 58), "ko"),
            LanguageChange(at(9, 45), "ja"),
        ),
        # us played ja only before the turn began: not a venue of it.
        airing(
            "us",
            at(8, 58),
            at(9, 50),
            LanguageChange(at(8, 58), "ja"),
            LanguageChange(at(9, 30), "en"),
        ),
        # eu played ja on another channel.
        replace(
            airing("eu", at(8, 58), at(9, 50), LanguageChange(at(8, 58), "ja")),
            channel="gz-hall-2",
        ),
    ]
    rows = interpreting_rows(reference_event, log.intervals(), airings, at(11))
    assert [(r["session"], r["from_utc"], r["to_utc"], r["minutes"]) for r in rows] == [
        ("opening", "2018-12-21T01:40:00Z", "2018-12-21T01:50:00Z", 10.0),
        ("", "2018-12-21T01:50:00Z", "2018-12-21T02:00:00Z", 10.0),
        ("overseas-talents-summit", "2018-12-21T02:00:00Z", "2018-12-21T02:20:00Z", 20.0),
    ]
    assert rows[0]["venues"] == "jp kr"
    assert rows[1]["venues"] == ""
    assert {r["interpreter"] for r in rows} == {"Aiko"}
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[0]["language"] == "ja"
    assert parsed[0]["venues"] == "jp kr"
    assert parsed[2]["title"] == "2018 Overseas Talents Summit"


def test_an_open_turn_counts_up_to_now(reference_event: Event) -> None:
    log = InterpretingLog()
    log.heard("gz-hall-1", "ru", "Oleg", at(9, 10))
    open_airing = airing("cis", at(8, 58), None, LanguageChange(at(8, 58), "ru"))
    [row] = interpreting_rows(reference_event, log.intervals(), [open_airing], at(9, 25))
    assert (row["minutes"], row["open"], row["venues"]) == (15.0, True, "cis")


async def test_store_round_trip_and_recovery_after_an_unclean_stop() -> None:
    memory = MemoryAppendLog()
    store = InterpretingStore(memory, "coet")
    log = InterpretingLog()
    await store.save(log.heard("gz-hall-1", "ja", "Aiko", at(9, 0)))
    await store.save(log.heard("gz-hall-1", "ko", "Min", at(9, 5)))
    await store.save(log.heard("gz-hall-1", "ko", None, at(9, 20)))
    for interval in log.intervals():
        assert interval_from_json(interval_to_json(interval)) == interval
    # The node died at 09:31 (its last heartbeat); Aiko's turn is closed there.
    reopened = await open_interpreting_log(store, at(9, 31))
    closed = {i.interpreter: i for i in reopened.intervals()}
    assert closed["Aiko"].end == at(9, 31)
    assert "start-up" in closed["Aiko"].note
    assert closed["Min"].end == at(9, 20)
    assert closed["Min"].note == ""
    # ... and stays closed for whoever reads the store next.
    assert all(not i.open for i in await store.load())
    # A new turn after the restart gets a new id.
    [turn] = reopened.heard("gz-hall-1", "ja", "Aiko", at(9, 40))
    assert turn.id == "gz-hall-1/ja#2"


async def test_the_recorder_writes_what_the_media_plane_says() -> None:
    memory = MemoryAppendLog()
    store = InterpretingStore(memory, "coet")
    recorder = InterpretingRecorder(InterpretingLog(), store)
    recorder.language_changed(Note("gz-hall-1", "ja", "Aiko", at(9, 0)))
    recorder.language_changed(Note("gz-hall-1", "ja", "Ben", at(9, 30)))
    await recorder.flush()
    assert [(i.interpreter, i.end) for i in await store.load()] == [
        ("Aiko", at(9, 30)),
        ("Ben", None),
    ]
    recorder.start()
    await recorder.aclose(at(9, 45))  # a clean stop ends Ben's turn
    assert {i.interpreter: i.end for i in await store.load()} == {
        "Aiko": at(9, 30),
        "Ben": at(9, 45),
    }


def test_a_formula_for_a_name_stays_text_in_the_csv(reference_event: Event) -> None:
    log = InterpretingLog()
    log.heard("gz-hall-1", "ja", '=HYPERLINK("http://x")', at(9, 0))
    rows = interpreting_rows(reference_event, log.intervals(), [], at(9, 10))
    [parsed] = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed["interpreter"] == '\'=HYPERLINK("http://x")'


async def test_the_recorder_says_who_is_on_air_and_tells_after_each_write() -> None:
    recorder = InterpretingRecorder(InterpretingLog(), InterpretingStore(MemoryAppendLog(), "e"))
    told: list[dict[str, dict[str, str]]] = []

    async def changed() -> None:
        told.append(recorder.on_air())

    recorder.on_change = changed
    recorder.start()
    recorder.language_changed(Note("gz-hall-1", "ja", "Aiko", at(9, 0)))
    recorder.language_changed(Note("gz-hall-1", "ko", "Min", at(9, 1)))
    await eventually(lambda: len(told) == 2, "two announcements")
    assert told[-1] == {"gz-hall-1": {"ja": "Aiko", "ko": "Min"}}
    recorder.language_changed(Note("gz-hall-1", "ja", None, at(9, 2)))
    await eventually(lambda: len(told) == 3, "the third")
    assert told[-1] == {"gz-hall-1": {"ko": "Min"}}
    await recorder.aclose(at(9, 3))

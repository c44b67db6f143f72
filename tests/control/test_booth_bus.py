"""Booth changes on a process that keeps no records reach the one that does, over the bus;
forged and broken messages are dropped with a log line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from config import Event
from signaling.bus.local import LocalBus
from signaling.bus.node import NodeBus
from signaling.records.booth_bus import BadBoothNote, BoothReports, hear_booths, parse_booth_note
from signaling.records.interpreting import InterpretingLog
from signaling.records.interpreting_store import InterpretingRecorder, InterpretingStore
from tests.fakes import MemoryAppendLog
from tests.helpers import eventually

AT = datetime(2018, 12, 21, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Note:
    channel: str
    language: str
    interpreter: str | None
    at: datetime


async def test_a_sibling_booth_is_recorded_where_the_records_are(
    reference_event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    shared = LocalBus()
    routing_bus, edge_bus = NodeBus(shared, "origin"), NodeBus(shared, "edge-ru")
    store = InterpretingStore(MemoryAppendLog(), "coet")
    recorder = InterpretingRecorder(InterpretingLog(), store)
    hear_booths(routing_bus, reference_event, recorder)
    reports = BoothReports(edge_bus)
    await routing_bus.start()
    await edge_bus.start()
    reports.start()
    try:
        reports.language_changed(Note("gz-hall-1", "ru", "Oleg Petrov", AT))
        reports.language_changed(Note("gz-hall-1", "ru", None, AT + timedelta(minutes=30)))
        mallory = NodeBus(shared, "mallory")
        for fields in (
            {"channel": "no-such-hall", "language": "ru", "interpreter": "X", "at": AT.isoformat()},
            {"channel": "gz-hall-1", "language": "<b>", "interpreter": "X", "at": AT.isoformat()},
            {"channel": "gz-hall-1", "language": "ru", "interpreter": "X", "at": "yesterday"},
            {
                "channel": "gz-hall-1",
                "language": "ru",
                "interpreter": "X" * 201,
                "at": AT.isoformat(),
            },
        ):
            await mallory.publish("booth-on-air", fields)
        await eventually(
            lambda: bool(recorder.log.intervals()) and not recorder.log.open_intervals(),
            "Oleg Petrov's turn, opened and closed",
        )
        [turn] = recorder.log.intervals()
        assert (turn.interpreter, turn.start, turn.end) == (
            "Oleg Petrov",
            AT,
            AT + timedelta(minutes=30),
        )
        await eventually(lambda: len(caplog.records) >= 4, "four refusals logged")
        assert all("ignored a booth message from mallory" in r.message for r in caplog.records)
    finally:
        await reports.aclose()
        await edge_bus.stop()
        await routing_bus.stop()


def test_booth_notes_are_checked(reference_event: Event) -> None:
    good = {
        "kind": "booth-on-air",
        "node": "edge-ru",
        "from": "abc",
        "channel": "gz-hall-1",
        "language": "ru",
        "interpreter": None,
        "at": AT.isoformat(),
    }
    assert parse_booth_note(good, reference_event).interpreter is None
    for bad in (
        {"node": "not a node!"},
        {"interpreter": ""},
        {"at": "2018-12-21T01:00:00"},  # no time zone
        {"language": 7},
    ):
        with pytest.raises(BadBoothNote):
            parse_booth_note({**good, **bad}, reference_event)

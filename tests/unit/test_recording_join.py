"""Joining airings to the recording index: which files, which offsets. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from signaling.records.airing import Airing, OffAir, Status
from signaling.records.recording_join import (
    NothingToExport,
    airing_pieces,
    on_air_spans,
    recorded_seconds,
    session_pieces,
)
from tests.recording_rows import IndexRow

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=3)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def airing(
    start: float, end: float | None, *, channel: str = "gz-hall-1", venue: str = "jp", **kw: object
) -> Airing:
    fields: dict[str, object] = {
        "id": f"opening@{venue}#1", "session": "opening", "venue": venue, "channel": channel,
        "scheduled_start": at(0), "scheduled_end": at(3600), "actual_start": at(start),
        "actual_end": at(end) if end is not None else None,
        "status": Status.AIRED if end is not None else Status.ON_AIR, "routed_by": "auto",
    }  # fmt: skip
    fields.update(kw)
    return Airing(**fields)  # type: ignore[arg-type]


def row(name: str, start: float, end: float | None, channel: str = "gz-hall-1") -> IndexRow:
    return IndexRow(name, channel, Path(f"/rec/{name}.mp4"), at(start), at(end) if end else None)


def test_one_file_covers_the_airing_at_its_offsets() -> None:
    pieces = airing_pieces(airing(120, 720), [row("a", 100, 1000)], NOW)
    assert [(p.file, p.from_offset, p.to_offset) for p in pieces] == [("a", 20.0, 620.0)]


def test_a_rotation_splits_the_airing_over_two_files() -> None:
    files = [row("b", 600, None), row("a", 0, 600), row("other", 0, None, channel="gz-hall-2")]
    pieces = airing_pieces(airing(300, 900), files, NOW)
    assert [(p.file, p.from_offset, p.to_offset) for p in pieces] == [
        ("a", 300.0, 600.0),
        ("b", 0.0, 300.0),
    ]
    assert recorded_seconds(pieces) == 600.0


def test_off_air_stretches_are_cut_out() -> None:
    lost = OffAir(at(400), at(430), "source_lost")
    pieces = airing_pieces(airing(300, 900, off_air=(lost,)), [row("a", 0, 1000)], NOW)
    assert [(p.from_offset, p.to_offset) for p in pieces] == [(300.0, 400.0), (430.0, 900.0)]


def test_an_open_airing_and_an_open_file_run_to_now() -> None:
    now = at(500)
    pieces = airing_pieces(airing(100, None), [row("a", 50, None)], now)
    assert [(p.from_offset, p.to_offset) for p in pieces] == [(50.0, 450.0)]
    still_off = OffAir(at(450), None, "slate")
    spans = on_air_spans(airing(100, None, off_air=(still_off,)), now)
    assert [(s.start, s.end) for s in spans] == [(at(100), at(450))]


def test_offsets_follow_the_files_own_mapping_after_a_reconnect() -> None:
    # After a reconnect at 200 s the file's offsets resume at 180 s (the gap is not in it).
    file = IndexRow("a", "gz-hall-1", Path("/rec/a.mp4"), at(0), at(1000), ((at(200), 180.0),))
    pieces = airing_pieces(airing(100, 400), [file], NOW)
    assert [(p.from_offset, p.to_offset) for p in pieces] == [(100.0, 380.0)]


def test_nothing_recorded_outside_the_files_or_for_airings_never_on_air() -> None:
    assert airing_pieces(airing(100, 200), [row("a", 300, 400)], NOW) == []
    assert airing_pieces(airing(100, 200, channel="gz-hall-2"), [row("a", 0, 400)], NOW) == []
    skipped = airing(0, None, actual_start=None, status=Status.SKIPPED)
    assert airing_pieces(skipped, [row("a", 0, 400)], NOW) == []


def test_session_pieces_join_every_airing_at_the_venue_and_need_a_venue_when_ambiguous() -> None:
    first = airing(0, 100)
    retake = airing(150, 300, id="opening@jp#2")
    elsewhere = airing(0, 300, venue="us")
    files = [row("a", 0, None)]
    venue, pieces = session_pieces([retake, first, elsewhere], files, "opening", "jp", NOW)
    assert venue == "jp"
    assert [(p.from_offset, p.to_offset) for p in pieces] == [(0.0, 100.0), (150.0, 300.0)]
    with pytest.raises(NothingToExport, match="choose one with --venue"):
        session_pieces([first, elsewhere], files, "opening", None, NOW)
    with pytest.raises(NothingToExport, match="did not air at 'eu'"):
        session_pieces([first], files, "opening", "eu", NOW)
    with pytest.raises(NothingToExport, match="never went on air"):
        session_pieces([first], files, "closing", None, NOW)
    with pytest.raises(NothingToExport, match="was recorded"):
        session_pieces([first], [row("a", 500, 600)], "opening", None, NOW)

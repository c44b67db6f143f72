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
from signaling.records.recordings import RecordingFile

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


def row(name: str, start: float, end: float | None, channel: str = "gz-hall-1") -> RecordingFile:
    """An index entry (``end`` None: still open, written up to 1000 s)."""
    length = (end if end is not None else 1000) - start
    return RecordingFile(
        channel, f"{channel}/{name}.mp4", Path(f"/rec/{channel}/{name}.mp4"), "mp4", ("",),
        at(start), at(start + length), length, at(end) if end is not None else None,
    )  # fmt: skip


def test_one_file_covers_the_airing_at_its_offsets() -> None:
    pieces = airing_pieces(airing(120, 720), [row("a", 100, 1000)], NOW)
    assert [(p.file, p.from_offset, p.to_offset) for p in pieces] == [
        ("gz-hall-1/a.mp4", 20.0, 620.0)
    ]


def test_a_rotation_splits_the_airing_over_two_files() -> None:
    files = [row("b", 600, None), row("a", 0, 600), row("other", 0, None, channel="gz-hall-2")]
    pieces = airing_pieces(airing(300, 900), files, NOW)
    assert [(p.file, p.from_offset, p.to_offset) for p in pieces] == [
        ("gz-hall-1/a.mp4", 300.0, 600.0),
        ("gz-hall-1/b.mp4", 0.0, 300.0),
    ]
    assert recorded_seconds(pieces) == 600.0


def test_off_air_stretches_are_cut_out() -> None:
    lost = OffAir(at(400), at(430), "source_lost")
    pieces = airing_pieces(airing(300, 900, off_air=(lost,)), [row("a", 0, 1000)], NOW)
    assert [(p.from_offset, p.to_offset) for p in pieces] == [(300.0, 400.0), (430.0, 900.0)]


def test_an_open_airing_runs_to_now_and_an_open_file_to_its_last_fragment() -> None:
    now = at(500)
    pieces = airing_pieces(airing(100, None), [row("a", 50, None)], now)
    assert [(p.from_offset, p.to_offset) for p in pieces] == [(50.0, 450.0)]
    open_file = row("b", 50, None)  # written up to 1000 s; the airing goes on past it
    assert [p.to_offset for p in airing_pieces(airing(100, None), [open_file], at(2000))] == [950.0]
    still_off = OffAir(at(450), None, "slate")
    spans = on_air_spans(airing(100, None, off_air=(still_off,)), now)
    assert [(s.start, s.end) for s in spans] == [(at(100), at(450))]


def test_a_reconnect_in_a_new_file_leaves_its_gap_out() -> None:
    # The publisher went away at 200 s and came back at 212 s, into a new file.
    files = [row("a", 0, 200), row("b", 212, 1000)]
    pieces = airing_pieces(airing(100, 400), files, NOW)
    assert [(p.file, p.from_offset, p.to_offset) for p in pieces] == [
        ("gz-hall-1/a.mp4", 100.0, 200.0),
        ("gz-hall-1/b.mp4", 0.0, 188.0),
    ]


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

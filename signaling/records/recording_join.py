"""Which recorded files, and which stretch of each, cover an airing. Pure.

An airing says when a venue saw a channel (actual start to end, minus its off-air
intervals: then the venue saw a slate or nothing, not the recording). The recording
index says, per file, which channel it holds, the wall-clock stretch it covers and how
wall-clock time maps to offsets in the file. Joining the two gives, per airing, the
pieces a player plays one after another, or an export copies into one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from signaling.records.airing import Airing

# Pieces shorter than this are dropped: a rounding sliver between two files, not a picture.
MIN_PIECE_SECONDS = 0.05


class RecordedFile(Protocol):
    """What the join needs of one entry of the recording index
    (``signaling/records/recordings.py``: ``RecordingFile``)."""

    @property
    def name(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def covered_until(self) -> datetime: ...

    def offset_at(self, when: datetime) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Span:
    """``channel`` was on the venue's output from ``start`` to ``end`` (wall clock, UTC)."""

    channel: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of one recorded file: play ``file`` (its name in the index) from
    ``from_offset`` to ``to_offset``."""

    file: str
    channel: str
    start: datetime
    end: datetime
    from_offset: float
    to_offset: float

    @property
    def seconds(self) -> float:
        return round(self.to_offset - self.from_offset, 3)


def on_air_spans(airing: Airing, now: datetime) -> list[Span]:
    """When the venue saw the airing's channel: actual start to end, off-air cut out."""
    if airing.actual_start is None or airing.channel is None:
        return []
    end = airing.actual_end or now
    spans = [Span(airing.channel, airing.actual_start, end)] if end > airing.actual_start else []
    for interval in sorted(airing.off_air, key=lambda i: i.start):
        gap_end = interval.end or now
        cut: list[Span] = []
        for span in spans:
            if gap_end <= span.start or interval.start >= span.end:
                cut.append(span)
                continue
            if interval.start > span.start:
                cut.append(Span(span.channel, span.start, interval.start))
            if gap_end < span.end:
                cut.append(Span(span.channel, gap_end, span.end))
        spans = cut
    return spans


def _offset(file: RecordedFile, when: datetime) -> float:
    """The file's offset of ``when`` (inside the file: the caller clamps it there)."""
    offset = file.offset_at(when)
    if offset is None:  # a rounding hair outside: the nearer end
        offset = 0.0 if when <= file.started_at else file.offset_at(file.covered_until) or 0.0
    return round(offset, 3)


def pieces_for_span(span: Span, files: Iterable[RecordedFile]) -> list[Piece]:
    """The stretches of ``files`` (of the span's channel) inside ``span``, in time order.

    A file holds media from ``started_at`` to ``covered_until`` (an open file: up to its
    last fragment on disk).
    """
    pieces = []
    for file in files:
        if file.channel != span.channel:
            continue
        start = max(span.start, file.started_at)
        end = min(span.end, file.covered_until)
        if (end - start).total_seconds() < MIN_PIECE_SECONDS:
            continue
        from_offset, to_offset = _offset(file, start), _offset(file, end)
        if to_offset - from_offset < MIN_PIECE_SECONDS:
            continue
        pieces.append(Piece(file.name, file.channel, start, end, from_offset, to_offset))
    return sorted(pieces, key=lambda p: (p.start, p.file))


def airing_pieces(airing: Airing, files: Iterable[RecordedFile], now: datetime) -> list[Piece]:
    """Everything recorded of what the venue saw during ``airing``, in time order."""
    candidates = list(files)
    return [
        piece for span in on_air_spans(airing, now) for piece in pieces_for_span(span, candidates)
    ]


def recorded_seconds(pieces: Iterable[Piece]) -> float:
    return round(sum(piece.seconds for piece in pieces), 3)


class IndexedFile(RecordedFile, Protocol):
    """An index entry with the file it names (served and exported, never taken from a URL)."""

    @property
    def path(self) -> Path: ...

    @property
    def kind(self) -> str: ...


class RecordingIndex(Protocol):
    """The recording index as the records read it: every file, open ones included."""

    def files(self) -> Sequence[IndexedFile]: ...


def find_file(index: RecordingIndex, name: str) -> IndexedFile | None:
    """The file the index knows by ``name`` (None: unknown). The name is matched against
    the index's own entries, never opened as a path."""
    return next((f for f in index.files() if f.name == name), None)


class NothingToExport(Exception):
    """The session has no airing (at that venue), or nothing of it was recorded."""


def session_pieces(
    airings: Iterable[Airing],
    files: Iterable[RecordedFile],
    session_id: str,
    venue_id: str | None,
    now: datetime,
) -> tuple[str, list[Piece]]:
    """The venue and, in time order, the recorded pieces of every airing of
    ``session_id`` there (a director's re-take makes a session air twice at a venue).

    Without ``venue_id`` the session must have aired at one venue only. An airing's id
    (``opening@jp#1``, ``unscheduled@us#2``) names that one airing instead.
    """
    airings = list(airings)
    mine = [a for a in airings if a.id == session_id and a.actual_start is not None]
    mine = mine or [a for a in airings if a.session == session_id and a.actual_start is not None]
    if not mine:
        raise NothingToExport(f"session '{session_id}' never went on air")
    venues = sorted({a.venue for a in mine})
    if venue_id is None:
        if len(venues) > 1:
            raise NothingToExport(
                f"session '{session_id}' aired at {', '.join(venues)}: choose one with --venue"
            )
        venue_id = venues[0]
    elif venue_id not in venues:
        raise NothingToExport(
            f"session '{session_id}' did not air at '{venue_id}' (it aired at {', '.join(venues)})"
        )
    candidates = list(files)
    at_venue = sorted((a for a in mine if a.venue == venue_id), key=lambda a: a.actual_start or now)
    pieces = [piece for a in at_venue for piece in airing_pieces(a, candidates, now)]
    if not pieces:
        raise NothingToExport(f"nothing of session '{session_id}' at '{venue_id}' was recorded")
    return venue_id, pieces

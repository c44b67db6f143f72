"""A recording index made of rows, for tests before (and beside) the recorder's own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from signaling.records.recording_join import IndexedFile


@dataclass(frozen=True)
class IndexRow:
    """One file: ``channel`` recorded from ``start``; offsets run with the wall clock,
    except after ``jumps`` (wall-clock moment, offset there) such as a reconnect's gap."""

    id: str
    channel: str
    path: Path
    start: datetime
    end: datetime | None
    jumps: tuple[tuple[datetime, float], ...] = ()

    def offset_at(self, moment: datetime) -> float:
        anchor, offset = self.start, 0.0
        for at, at_offset in self.jumps:
            if at <= moment:
                anchor, offset = at, at_offset
        return offset + (moment - anchor).total_seconds()


class RowIndex:
    def __init__(self, rows: Sequence[IndexRow]) -> None:
        self.rows = list(rows)

    def files(self) -> Sequence[IndexedFile]:
        return self.rows

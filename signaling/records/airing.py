"""One airing of a session at a venue, and how its status is judged. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Status(enum.Enum):
    ON_AIR = "on_air"
    AIRED = "aired"
    CUT_SHORT = "cut_short"
    OVERRAN = "overran"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Judgement:
    """How strict the log is: tolerances before an airing counts as short or over."""

    tolerance: timedelta = timedelta(minutes=2)
    # A source gone longer than this (at once) during an airing makes it failed.
    source_lost_limit: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Airing:
    id: str
    session: str
    venue: str
    channel: str | None
    scheduled_start: datetime
    scheduled_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    status: Status
    routed_by: str
    rehearsal: bool = False
    peak_venue_viewers: int = 0
    peak_channel_viewers: int = 0
    reconnects: int = 0
    longest_source_loss: float = 0.0  # seconds
    questions_asked: int = 0
    questions_answered: int = 0
    note: str = ""

    @property
    def open(self) -> bool:
        return self.status is Status.ON_AIR


def judge(airing: Airing, ended_at: datetime, rules: Judgement) -> Status:
    """The status of an airing that ended at ``ended_at``."""
    if airing.longest_source_loss > rules.source_lost_limit.total_seconds():
        return Status.FAILED
    if ended_at < airing.scheduled_end - rules.tolerance:
        return Status.CUT_SHORT
    if ended_at > airing.scheduled_end + rules.tolerance:
        return Status.OVERRAN
    return Status.AIRED

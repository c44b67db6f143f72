"""One airing of a session at a venue, and how its status is judged. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

# Why a venue saw the slate or nothing during an airing.
# node_down: the venue's home node (another node than the routing one) was not up.
OffAirCause = Literal["source_lost", "slate", "failover", "server_down", "node_down"]
OFF_AIR_CAUSES: tuple[OffAirCause, ...] = (
    "source_lost",
    "slate",
    "failover",
    "server_down",
    "node_down",
)


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
class OffAir:
    """A stretch of an airing when the venue did not see the session; ``end`` None: still."""

    start: datetime
    end: datetime | None
    cause: OffAirCause

    def seconds(self, now: datetime | None = None) -> float:
        end = self.end or now
        return max(0.0, (end - self.start).total_seconds()) if end else 0.0


@dataclass(frozen=True, slots=True)
class LanguageChange:
    """From ``at`` the venue output played ``language`` (None: the floor)."""

    at: datetime
    language: str | None


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
    # A director's route that carried no scheduled session: the times are the actual ones.
    unscheduled: bool = False
    off_air: tuple[OffAir, ...] = ()
    # The node whose venue output switched ("" in records made before nodes were named,
    # and for airings that never went on air).
    node: str = ""
    # The venue output's language when the airing began, then every change while on air.
    languages: tuple[LanguageChange, ...] = ()

    @property
    def open(self) -> bool:
        return self.status is Status.ON_AIR

    @property
    def language(self) -> str | None:
        """The output's language when the airing began (None: the floor, or unknown)."""
        return self.languages[0].language if self.languages else None

    @property
    def language_now(self) -> str | None:
        """The output's language at the latest change recorded."""
        return self.languages[-1].language if self.languages else None

    def seconds_off_air(self, now: datetime | None = None) -> float:
        """The total time off air (an interval still open counts up to ``now``)."""
        return round(sum(interval.seconds(now) for interval in self.off_air), 3)


def judge(airing: Airing, ended_at: datetime, rules: Judgement) -> Status:
    """The status of an airing that ended at ``ended_at``."""
    if airing.longest_source_loss > rules.source_lost_limit.total_seconds():
        return Status.FAILED
    if airing.unscheduled:
        return Status.AIRED  # nothing to be early or late against
    if ended_at < airing.scheduled_end - rules.tolerance:
        return Status.CUT_SHORT
    if ended_at > airing.scheduled_end + rules.tolerance:
        return Status.OVERRAN
    return Status.AIRED

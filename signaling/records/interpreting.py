"""Interpreters' time on air, per booth: what organisers pay interpreters from. Pure.

The media plane says who is on air in a channel's language booth from when (a
``LanguageNote``); the log keeps one ``OnAir`` interval per interpreter turn. The export
cuts each interval at the edges of the sessions its channel carried, and names the venues
whose output played that channel in that language meanwhile (from the airings' language
changes), so one row is one interpreter, one session, one language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, Protocol

from config.csv_export import csv_text
from config.event import Event
from signaling.records.airing import Airing

CSV_COLUMNS = (
    "session",
    "title",
    "channel",
    "language",
    "interpreter",
    "from_utc",
    "to_utc",
    "minutes",
    "venues",
    "open",
    "note",
)


class LanguageNote(Protocol):
    """Who is on air in ``channel``'s ``language`` booth since ``at`` (None: nobody)."""

    @property
    def channel(self) -> str: ...

    @property
    def language(self) -> str: ...

    @property
    def interpreter(self) -> str | None: ...

    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class OnAir:
    """One interpreter's turn on air in one booth; ``end`` None: still on air."""

    id: str
    channel: str
    language: str
    interpreter: str
    start: datetime
    end: datetime | None = None
    note: str = ""

    @property
    def open(self) -> bool:
        return self.end is None


class InterpretingLog:
    """On-air changes in, the intervals they opened or closed out. No I/O."""

    def __init__(self, intervals: Iterable[OnAir] = ()) -> None:
        self._intervals: dict[str, OnAir] = {i.id: i for i in intervals}

    def intervals(self) -> list[OnAir]:
        return sorted(self._intervals.values(), key=lambda i: (i.start, i.channel, i.language))

    def open_intervals(self) -> list[OnAir]:
        return [i for i in self._intervals.values() if i.open]

    def _open_in(self, channel: str, language: str) -> OnAir | None:
        return next(
            (
                i
                for i in self._intervals.values()
                if i.open and (i.channel, i.language) == (channel, language)
            ),
            None,
        )

    def _put(self, interval: OnAir) -> OnAir:
        self._intervals[interval.id] = interval
        return interval

    def heard(
        self, channel: str, language: str, interpreter: str | None, at: datetime
    ) -> list[OnAir]:
        """The booth's on-air interpreter is now ``interpreter`` (None: nobody)."""
        current = self._open_in(channel, language)
        if current is not None and current.interpreter == interpreter:
            return []  # told again (a restart of the media plane's report): same turn
        changed = []
        if current is not None:
            changed.append(self._put(replace(current, end=max(at, current.start))))
        if interpreter:
            booth = (channel, language)
            n = 1 + sum(1 for i in self._intervals.values() if (i.channel, i.language) == booth)
            turn = OnAir(f"{channel}/{language}#{n}", channel, language, interpreter, at)
            changed.append(self._put(turn))
        return changed

    def stop(self, at: datetime) -> list[OnAir]:
        """A clean stop: every turn on air ends now."""
        note = "closed at a clean stop of the server"
        return [
            self._put(replace(i, end=max(at, i.start), note=note)) for i in self.open_intervals()
        ]

    def recover(self, last_alive: datetime) -> list[OnAir]:
        """Turns an unclean stop left open end at the last moment the node was alive."""
        note = "closed at start-up: the server stopped during this turn"
        return [
            self._put(replace(i, end=max(last_alive, i.start), note=note))
            for i in self.open_intervals()
        ]


# -- the export ---------------------------------------------------------------------------


def _pieces(event: Event, interval: OnAir, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """``interval`` cut at the edges of the sessions on its channel: (session, from, to);
    a stretch outside every session has session ""."""
    on_channel = [s for s in event.sessions if s.channel == interval.channel]
    edges = {interval.start, end}
    for s in on_channel:
        edges.update(e for e in (s.start, s.end) if interval.start < e < end)
    cuts = sorted(edges)
    pieces: list[tuple[str, datetime, datetime]] = []
    for start, stop in pairwise(cuts):
        middle = start + (stop - start) / 2
        session_id = next((s.id for s in on_channel if s.start <= middle < s.end), "")
        if pieces and pieces[-1][0] == session_id:
            pieces[-1] = (session_id, pieces[-1][1], stop)
        else:
            pieces.append((session_id, start, stop))
    return pieces or [("", interval.start, end)]


def _played(airing: Airing, language: str, start: datetime, end: datetime, now: datetime) -> bool:
    """``airing``'s output played ``language`` at some moment within [start, end)."""
    if airing.actual_start is None:
        return False
    aired_until = airing.actual_end or now
    changes = airing.languages
    for n, change in enumerate(changes):
        until = changes[n + 1].at if n + 1 < len(changes) else aired_until
        since = max(change.at, airing.actual_start)
        if change.language == language and since < min(until, end) and max(since, start) < until:
            return True
    return False


def _venues(
    airings: Iterable[Airing], interval: OnAir, start: datetime, end: datetime, now: datetime
) -> list[str]:
    return sorted(
        {
            a.venue
            for a in airings
            if a.channel == interval.channel and _played(a, interval.language, start, end, now)
        }
    )


def interpreting_rows(
    event: Event, intervals: Iterable[OnAir], airings: list[Airing], now: datetime
) -> list[dict[str, Any]]:
    """One row per interpreter, session and language; an open turn counts up to ``now``."""
    rows = []
    for interval in sorted(intervals, key=lambda i: (i.start, i.channel, i.language)):
        end = interval.end or max(now, interval.start)
        for session_id, start, stop in _pieces(event, interval, end):
            session = event.session(session_id) if session_id else None
            rows.append(
                {
                    "session": session_id,
                    "title": str(session.title) if session else "",  # the default language
                    "channel": interval.channel,
                    "language": interval.language,
                    "interpreter": interval.interpreter,
                    "from_utc": _utc(start),
                    "to_utc": _utc(stop),
                    "minutes": round((stop - start).total_seconds() / 60, 2),
                    "venues": " ".join(_venues(airings, interval, start, stop, now)),
                    "open": interval.open and stop == end,
                    "note": interval.note,
                }
            )
    return rows


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV (the shared writer: formula-like text is neutralised)."""
    return csv_text(CSV_COLUMNS, rows)

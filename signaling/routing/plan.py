"""What the schedule wants on a venue output at a given moment. Pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from config.event import Event, Session


def venue_sessions(event: Event, venue_id: str) -> list[Session]:
    """Sessions sent to a venue, in time order (the loader forbids overlaps among them)."""
    return sorted((s for s in event.sessions if venue_id in s.venues), key=lambda s: s.start)


def planned_session(sessions: list[Session], at: datetime, pre_roll: timedelta) -> Session | None:
    """The session the schedule puts on the output at ``at``.

    A running session keeps the output until its end even when the next one's pre-roll
    has begun; otherwise a session owns the output from ``start - pre_roll``.
    """
    for session in sessions:
        if session.start <= at < session.end:
            return session
    for session in sessions:
        if session.start - pre_roll <= at < session.start:
            return session
    return None


def next_change(sessions: list[Session], after: datetime, pre_roll: timedelta) -> datetime | None:
    """The first moment after ``after`` at which ``planned_session`` may change."""
    edges = (
        edge for s in sessions for edge in (s.start - pre_roll, s.start, s.end) if edge > after
    )
    return min(edges, default=None)


def session_on_channel(
    event: Event, channel_id: str, at: datetime, pre_roll: timedelta
) -> Session | None:
    """The session a channel carries at ``at`` (or is about to, within the pre-roll)."""
    on_channel = sorted(
        (s for s in event.sessions if s.channel == channel_id), key=lambda s: s.start
    )
    return planned_session(on_channel, at, pre_roll)

"""The routing matrix as a state machine: requests in, routes to apply out. No I/O.

A route is *requested* (by the automation or a director) and *taken* only when the
media plane reports that the venue output really switched, at a keyframe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config.event import Event
from signaling.routing.plan import next_change, planned_session, session_on_channel, venue_sessions

AUTOMATION = "automation"


class RoutingError(ValueError):
    """A routing request names something that does not exist."""


@dataclass(frozen=True, slots=True)
class Route:
    """One crosspoint request: ``channel`` (or nothing) onto ``venue``'s output."""

    venue: str
    channel: str | None
    session: str | None
    by: str  # AUTOMATION or the director's name
    requested_at: datetime

    @property
    def manual(self) -> bool:
        return self.by != AUTOMATION


@dataclass(frozen=True, slots=True)
class Take:
    """A route the media plane confirmed, and when the output switched."""

    route: Route
    taken_at: datetime


@dataclass(slots=True)
class VenueRouting:
    venue: str
    paused: bool = False
    requested: Route | None = None
    on_air: Take | None = None
    # While a director's route holds: the session the schedule wanted at that moment
    # ("" for none). The hold ends when the schedule moves on to something else.
    held_against: str | None = None


class Router:
    """Decides what each venue output should carry; the caller applies and reports back."""

    def __init__(self, event: Event, pre_roll: timedelta = timedelta(minutes=2)) -> None:
        self.event = event
        self.pre_roll = pre_roll
        self._sessions = {v.id: venue_sessions(event, v.id) for v in event.venues}
        self._venues = {v.id: VenueRouting(v.id) for v in event.venues}

    def state(self, venue_id: str) -> VenueRouting:
        try:
            return self._venues[venue_id]
        except KeyError:
            raise RoutingError(f"unknown venue '{venue_id}'") from None

    def states(self) -> list[VenueRouting]:
        return list(self._venues.values())

    def _planned_id(self, venue_id: str, now: datetime) -> str:
        planned = planned_session(self._sessions[venue_id], now, self.pre_roll)
        return planned.id if planned else ""

    def tick(self, now: datetime) -> list[Route]:
        """The automation's requests at ``now`` for every venue it drives."""
        requests = []
        for state in self._venues.values():
            route = self._automate(state, now)
            if route is not None:
                requests.append(route)
        return requests

    def _automate(self, state: VenueRouting, now: datetime) -> Route | None:
        if state.paused:
            return None
        planned_id = self._planned_id(state.venue, now)
        if state.held_against is not None:
            if planned_id == state.held_against:
                return None  # the director's route holds until the schedule moves on
            state.held_against = None
        planned = self.event.session(planned_id) if planned_id else None
        channel = planned.channel if planned else None
        session_id = planned.id if planned else None
        current = state.requested
        if current is None and channel is None:
            return None
        if current is not None and (current.by, current.channel, current.session) == (
            AUTOMATION,
            channel,
            session_id,
        ):
            return None
        route = Route(state.venue, channel, session_id, AUTOMATION, now)
        state.requested = route
        return route

    def route(self, venue_id: str, channel_id: str | None, director: str, now: datetime) -> Route:
        """A director's crosspoint; it wins over the automation until the schedule moves on."""
        state = self.state(venue_id)
        if channel_id is not None and self.event.channel(channel_id) is None:
            raise RoutingError(f"unknown channel '{channel_id}'")
        if not director or director == AUTOMATION:
            raise RoutingError("a manual route needs the director's name")
        session = (
            session_on_channel(self.event, channel_id, now, self.pre_roll) if channel_id else None
        )
        route = Route(venue_id, channel_id, session.id if session else None, director, now)
        state.requested = route
        state.held_against = self._planned_id(venue_id, now)
        return route

    def pause(self, venue_id: str) -> None:
        """Stop the automation on a venue; what is on air stays."""
        self.state(venue_id).paused = True

    def resume(self, venue_id: str, now: datetime) -> Route | None:
        """Hand the venue back to the automation, which routes what the schedule wants now."""
        state = self.state(venue_id)
        state.paused = False
        state.held_against = None
        return self._automate(state, now)

    def taken(self, venue_id: str, channel_id: str | None, at: datetime) -> Take | None:
        """The media plane switched ``venue_id`` to ``channel_id`` at ``at``.

        Returns the take when it matches the latest request; a report for an older,
        superseded request returns None and changes nothing.
        """
        state = self.state(venue_id)
        requested = state.requested
        if requested is None or requested.channel != channel_id:
            return None
        if state.on_air is not None and state.on_air.route == requested:
            return None  # already confirmed
        state.on_air = Take(requested, at)
        return state.on_air

    def next_change(self, now: datetime) -> datetime | None:
        """When the automation next has something to decide, for the scheduler to sleep."""
        moments = [next_change(s, now, self.pre_roll) for s in self._sessions.values()]
        return min((m for m in moments if m is not None), default=None)

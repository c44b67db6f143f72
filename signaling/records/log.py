"""The as-run log as a state machine: media and routing facts in, airings out. No I/O.

Every method returns the airings it changed, for the caller to store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from config.event import Event
from signaling.records.airing import (
    Airing,
    Judgement,
    LanguageChange,
    OffAir,
    OffAirCause,
    Status,
    judge,
)
from signaling.routing.router import Take


class AsRunLog:
    def __init__(
        self,
        event: Event,
        since: datetime,
        rules: Judgement | None = None,
        airings: Iterable[Airing] = (),
    ) -> None:
        """``since``: when this event's log began; sessions ending before it are not judged."""
        self.event = event
        self.since = since
        self.rules = rules or Judgement()
        self.rehearsal = False
        self._airings: dict[str, Airing] = {a.id: a for a in airings}
        self._lost_since: dict[str, datetime] = {}
        self._lost_cause: dict[str, OffAirCause] = {}
        # What each venue output plays now; a new airing starts with it.
        self._languages: dict[str, str | None] = {v.id: v.language for v in event.venues}

    def airings(self) -> list[Airing]:
        return sorted(self._airings.values(), key=lambda a: (a.scheduled_start, a.venue, a.id))

    def open_airings(self) -> list[Airing]:
        """What is on air now (checked every poll: no sorting of the whole history)."""
        return [a for a in self._airings.values() if a.open]

    def open_on(self, venue_id: str) -> Airing | None:
        return next((a for a in self._airings.values() if a.open and a.venue == venue_id), None)

    def _put(self, airing: Airing) -> Airing:
        self._airings[airing.id] = airing
        return airing

    def _new_id(self, session_id: str, venue_id: str) -> str:
        n = 1 + sum(
            1 for a in self._airings.values() if (a.session, a.venue) == (session_id, venue_id)
        )
        return f"{session_id}@{venue_id}#{n}"

    def _close(self, airing: Airing, at: datetime, note: str = "") -> Airing:
        lost_since = self._lost_since.get(airing.channel or "")
        if lost_since is not None:
            airing = self._with_loss(airing, at, lost_since)
        airing = _end_off_air(airing, at)
        status = judge(airing, at, self.rules)
        return self._put(replace(airing, actual_end=at, status=status, note=note or airing.note))

    @staticmethod
    def _with_loss(airing: Airing, at: datetime, lost_since: datetime) -> Airing:
        # A source lost before the airing began counts from the airing's start.
        began = max(lost_since, airing.actual_start) if airing.actual_start else lost_since
        seconds = max(0.0, (at - began).total_seconds())
        return replace(airing, longest_source_loss=max(airing.longest_source_loss, seconds))

    def _off_air_if_lost(self, airing: Airing) -> Airing:
        """A new airing of a channel that shows nothing starts off air."""
        channel = airing.channel or ""
        if channel not in self._lost_since or airing.actual_start is None:
            return airing
        return _begin_off_air(airing, airing.actual_start, self._lost_cause[channel])

    def taken(self, take: Take, node: str = "") -> list[Airing]:
        """A venue output (on ``node``) switched: close what it carried, open the new
        session's airing."""
        route, at = take.route, take.taken_at
        changed = []
        current = self.open_on(route.venue)
        if current is not None:
            if (current.session, current.channel) == (route.session or "", route.channel):
                return self._confirmed(current, take, node)
            changed.append(self._close(current, at))
        session = self.event.session(route.session) if route.session else None
        if session is None and route.channel is not None and route.manual:
            changed.append(self._put(replace(self._unscheduled(take), node=node)))
        if session is not None:
            airing = Airing(
                id=self._new_id(session.id, route.venue),
                session=session.id,
                venue=route.venue,
                channel=route.channel,
                scheduled_start=session.start,
                scheduled_end=session.end,
                actual_start=at,
                actual_end=None,
                status=Status.ON_AIR,
                routed_by=route.by,
                rehearsal=self.rehearsal,
                node=node,
                languages=(LanguageChange(at, self._languages.get(route.venue)),),
            )
            changed.append(self._put(self._off_air_if_lost(airing)))
        return changed

    def _confirmed(self, current: Airing, take: Take, node: str) -> list[Airing]:
        """The output shows the airing it already carried (a restart, a director's take)."""
        airing = _end_off_air(current, take.taken_at, only="server_down")
        airing = _end_off_air(airing, take.taken_at, only="node_down")
        if node and node != airing.node:
            airing = replace(airing, node=node)
        if take.route.manual:
            airing = replace(airing, routed_by=take.route.by)
        if airing == current:
            return []
        return [self._put(airing)]

    def _unscheduled(self, take: Take) -> Airing:
        route, at = take.route, take.taken_at
        n = 1 + sum(1 for a in self._airings.values() if a.unscheduled and a.venue == route.venue)
        airing = Airing(
            id=f"unscheduled@{route.venue}#{n}",
            session="",
            venue=route.venue,
            channel=route.channel,
            scheduled_start=at,
            scheduled_end=at,
            actual_start=at,
            actual_end=None,
            status=Status.ON_AIR,
            routed_by=route.by,
            rehearsal=self.rehearsal,
            unscheduled=True,
            languages=(LanguageChange(at, self._languages.get(route.venue)),),
        )
        return self._off_air_if_lost(airing)

    def source_lost(
        self, channel_id: str, at: datetime, cause: OffAirCause = "source_lost"
    ) -> list[Airing]:
        """The channel shows nothing: every airing it feeds goes off air from ``at``."""
        self._lost_since.setdefault(channel_id, at)
        self._lost_cause[channel_id] = cause
        changed = []
        for airing in list(self._airings.values()):
            if airing.open and airing.channel == channel_id:
                updated = _begin_off_air(airing, at, cause)
                if updated != airing:
                    changed.append(self._put(updated))
        return changed

    def source_back(
        self, channel_id: str, at: datetime, cause: OffAirCause | None = None
    ) -> list[Airing]:
        """The channel's publisher is back: count a reconnect on every airing it feeds.

        ``cause`` renames the interval that ends now (a backup took over: "failover").
        """
        lost_since = self._lost_since.pop(channel_id, None)
        self._lost_cause.pop(channel_id, None)
        if lost_since is None:
            return []
        changed = []
        for airing in list(self._airings.values()):
            if airing.open and airing.channel == channel_id:
                airing = self._with_loss(airing, at, lost_since)
                airing = _end_off_air(airing, at, cause=cause)
                changed.append(self._put(replace(airing, reconnects=airing.reconnects + 1)))
        return changed

    def viewers(self, venues: Mapping[str, int], channels: Mapping[str, int]) -> list[Airing]:
        """Raise the peaks of open airings from current viewer counts."""
        changed = []
        for airing in self.open_airings():
            venue_peak = max(airing.peak_venue_viewers, venues.get(airing.venue, 0))
            channel_peak = max(airing.peak_channel_viewers, channels.get(airing.channel or "", 0))
            if (venue_peak, channel_peak) != (
                airing.peak_venue_viewers,
                airing.peak_channel_viewers,
            ):
                changed.append(
                    self._put(
                        replace(
                            airing, peak_venue_viewers=venue_peak, peak_channel_viewers=channel_peak
                        )
                    )
                )
        return changed

    def questions(self, session_id: str, asked: int, answered: int) -> list[Airing]:
        changed = []
        for airing in list(self._airings.values()):
            if airing.session == session_id and (
                airing.questions_asked,
                airing.questions_answered,
            ) != (
                asked,
                answered,
            ):
                changed.append(
                    self._put(replace(airing, questions_asked=asked, questions_answered=answered))
                )
        return changed

    def language(self, venue_id: str, language: str | None, at: datetime) -> list[Airing]:
        """``venue_id``'s output plays ``language`` from ``at``: its open airing notes it."""
        self._languages[venue_id] = language
        airing = self.open_on(venue_id)
        if airing is None or airing.language_now == language:
            return []
        change = LanguageChange(max(at, airing.actual_start or at), language)
        return [self._put(replace(airing, languages=(*airing.languages, change)))]

    def node_down(self, venue_id: str, node: str, at: datetime) -> list[Airing]:
        """The venue's home node is down: its open airing goes off air from ``at``."""
        airing = self.open_on(venue_id)
        if airing is None:
            return []
        updated = _begin_off_air(airing, at, "node_down")
        note = f"home node {node} down at {at.isoformat(timespec='seconds')}"
        return [self._put(replace(updated, note=note))] if updated != airing else []

    def node_back(self, venue_id: str, channel_id: str | None, at: datetime) -> list[Airing]:
        """The venue's home node shows the airing's channel again: its node_down ends."""
        airing = self.open_on(venue_id)
        if airing is None or airing.channel != channel_id:
            return []
        updated = _end_off_air(airing, at, only="node_down")
        return [self._put(updated)] if updated != airing else []

    def sweep(self, now: datetime, notes: Mapping[str, str] | None = None) -> list[Airing]:
        """Mark as skipped every scheduled airing whose time passed without being taken
        (``notes``: why, per venue, when known)."""
        aired = {(a.session, a.venue) for a in self._airings.values()}
        changed = []
        for session in self.event.sessions:
            if not (self.since <= session.end <= now):
                continue
            for venue_id in session.venues:
                if (session.id, venue_id) in aired:
                    continue
                skipped = Airing(
                    id=self._new_id(session.id, venue_id),
                    session=session.id,
                    venue=venue_id,
                    channel=session.channel,
                    scheduled_start=session.start,
                    scheduled_end=session.end,
                    actual_start=None,
                    actual_end=None,
                    status=Status.SKIPPED,
                    routed_by="",
                    rehearsal=self.rehearsal,
                    note=(notes or {}).get(venue_id, ""),
                )
                changed.append(self._put(skipped))
        return changed

    def continue_after_restart(self, last_alive: datetime, now: datetime) -> list[Airing]:
        """A restart within the grace period: open airings go on, off air since ``last_alive``.

        The interruption ends when the output shows the airing again (``taken``).
        """
        changed = []
        for airing in list(self._airings.values()):
            if airing.open:
                airing = _begin_off_air(_end_off_air(airing, last_alive), last_alive, "server_down")
                note = f"continued after a restart at {now.isoformat(timespec='seconds')}"
                changed.append(self._put(replace(airing, note=note)))
        return changed

    def stop(self, at: datetime) -> list[Airing]:
        """A clean stop: every open airing ends now."""
        return [
            self._close(a, at, note="closed at a clean stop of the server")
            for a in list(self._airings.values())
            if a.open
        ]

    def recover(self, last_alive: datetime) -> list[Airing]:
        """Close airings left open by an unclean stop, at the last moment the node was alive.

        An airing that began after the last heartbeat ends where it began (zero length):
        nothing says it stayed on air, and an end before the start would be nonsense.
        """
        note = "closed at start-up: the server stopped mid-airing"
        return [
            self._close(a, max(last_alive, a.actual_start or last_alive), note=note)
            for a in list(self._airings.values())
            if a.open
        ]


def _begin_off_air(airing: Airing, at: datetime, cause: OffAirCause) -> Airing:
    """``airing`` with an interval opened at ``at`` (unless one is open already)."""
    if any(interval.end is None for interval in airing.off_air):
        return airing
    start = max(at, airing.actual_start) if airing.actual_start else at
    return replace(airing, off_air=(*airing.off_air, OffAir(start, None, cause)))


def _end_off_air(
    airing: Airing,
    at: datetime,
    *,
    only: OffAirCause | None = None,
    cause: OffAirCause | None = None,
) -> Airing:
    """``airing`` with its open interval (of cause ``only``, if named) ended at ``at``."""
    intervals = []
    for interval in airing.off_air:
        if interval.end is None and (only is None or interval.cause == only):
            end = max(at, interval.start)  # never ends before it starts
            interval = OffAir(interval.start, end, cause or interval.cause)
        intervals.append(interval)
    return replace(airing, off_air=tuple(intervals))

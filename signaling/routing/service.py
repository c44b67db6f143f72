"""The routing service: runs the automation on a clock and talks to the media plane.

It owns the ``Router`` and the ``AsRunLog``; the media plane is reached through the
``MediaView`` port (crosspoints, live sources, audience) and reports back through
``switched``. Every change of the matrix
is handed to ``on_change`` (the control plane broadcasts it to directors).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from signaling.clock import Clock
from signaling.protocol.server import RouteView, Routing, VenueRouting, as_json
from signaling.records.airing import Airing
from signaling.records.log import AsRunLog
from signaling.routing.router import Route, Router

logger = logging.getLogger(__name__)


class MediaView(Protocol):
    """The media plane as the routing service needs it: crosspoints and what is live."""

    def switch_to(self, venue: str, channel: str | None) -> None: ...

    def live_channels(self) -> set[str]: ...

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        """Players per venue output and per channel, now."""
        ...


class QuestionCounts(Protocol):
    async def counts(self, session_id: str) -> tuple[int, int]:
        """Questions asked and answered in a session's Q&A."""
        ...


class AiringSink(Protocol):
    async def save(self, airings: list[Airing]) -> None: ...

    async def alive(self, at: datetime) -> None: ...


class RoutingService:
    def __init__(
        self,
        router: Router,
        log: AsRunLog,
        media: MediaView,
        clock: Clock,
        sink: AiringSink,
        on_change: Callable[[Routing], Awaitable[None]] | None = None,
        questions: QuestionCounts | None = None,
        poll: timedelta = timedelta(seconds=1),
        heartbeat: timedelta = timedelta(seconds=15),
    ) -> None:
        self.router = router
        self.log = log
        self.media = media
        self.clock = clock
        self.sink = sink
        self.on_change = on_change
        self.questions = questions
        self.poll = poll
        self.heartbeat = heartbeat
        self._wake = asyncio.Event()
        self._pending: list[Airing] = []
        self._last_beat: datetime | None = None

    # -- the loop -------------------------------------------------------------------

    async def run(self) -> None:
        """Drive the automation until cancelled."""
        while True:
            await self.step()
            now = self.clock.now()
            moment = self.router.next_change(now)
            poll = now + self.poll
            moment = poll if moment is None else min(moment, poll)
            self._wake.clear()
            await self.clock.wait_until(moment, self._wake)

    async def step(self) -> None:
        """One pass: apply what the schedule wants now, watch the sources, judge, store."""
        now = self.clock.now()
        routes = self.router.tick(now)
        for route in routes:
            self._apply(route)
        self._watch_media(now)
        self._pending.extend(self.log.sweep(now))
        beat = self._last_beat is None or now - self._last_beat >= self.heartbeat
        if beat:
            await self._count_questions()
        await self._flush(changed=bool(routes))
        if beat:
            self._last_beat = now
            await self.sink.alive(now)

    def _watch_media(self, now: datetime) -> None:
        """Source losses and returns of what is on air, and the audience peaks."""
        live = self.media.live_channels()
        on_air = {a.channel for a in self.log.open_airings() if a.channel}
        for channel in on_air - live:
            self.log.source_lost(channel, now)
        for channel in on_air & live:
            self._pending.extend(self.log.source_back(channel, now))
        self._pending.extend(self.log.viewers(*self.media.audience()))

    async def _count_questions(self) -> None:
        if self.questions is None:
            return
        for session_id in {a.session for a in self.log.open_airings()}:
            asked, answered = await self.questions.counts(session_id)
            self._pending.extend(self.log.questions(session_id, asked, answered))

    def wake(self) -> None:
        """Run a pass now (a clock jump in tests, a new schedule)."""
        self._wake.set()

    # -- what directors and the media plane do --------------------------------------

    async def route(self, venue: str, channel: str | None, director: str) -> Route:
        route = self.router.route(venue, channel, director, self.clock.now())
        self._apply(route)
        await self._flush(changed=True)
        return route

    async def pause(self, venue: str) -> None:
        self.router.pause(venue)
        await self._flush(changed=True)

    async def resume(self, venue: str) -> None:
        route = self.router.resume(venue, self.clock.now())
        if route is not None:
            self._apply(route)
        await self._flush(changed=True)

    async def switched(self, venue: str, channel: str | None, at: datetime) -> None:
        """The media plane reports that ``venue``'s output now shows ``channel``."""
        take = self.router.taken(venue, channel, at)
        if take is None:
            return
        self._pending.extend(self.log.taken(take))
        await self._flush(changed=True)

    def _apply(self, route: Route) -> None:
        on_air = self.router.state(route.venue).on_air
        if on_air is not None and on_air.route.channel == route.channel:
            # Same source, next session: nothing switches, so the take is now.
            take = self.router.taken(route.venue, route.channel, route.requested_at)
            if take is not None:
                self._pending.extend(self.log.taken(take))
            return
        self.media.switch_to(route.venue, route.channel)

    async def _flush(self, changed: bool) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            await self.sink.save(pending)
        if changed and self.on_change is not None:
            try:
                await self.on_change(self.matrix_frame())
            except Exception:
                logger.exception("could not announce the routing matrix")

    # -- views ------------------------------------------------------------------------

    def matrix_frame(self) -> Routing:
        """The routing matrix as the director page shows it."""
        venues = []
        for state in self.router.states():
            requested, on_air = state.requested, state.on_air
            venues.append(
                VenueRouting(
                    venue=state.venue,
                    automation="paused" if state.paused else "on",
                    held_by_director=state.held_against is not None,
                    requested=_route_view(requested),
                    on_air=_route_view(on_air.route) if on_air else None,
                    on_air_since=on_air.taken_at.isoformat() if on_air else None,
                )
            )
        return Routing(venues=venues)

    def matrix(self) -> dict[str, Any]:
        """The same matrix as plain JSON values (for ``GET /api/routing``)."""
        return as_json(self.matrix_frame())


def _route_view(route: Route | None) -> RouteView | None:
    if route is None:
        return None
    return RouteView(
        channel=route.channel,
        session=route.session,
        by=route.by,
        requested_at=route.requested_at.isoformat(),
    )

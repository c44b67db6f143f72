"""The routing service: runs the automation on a clock and talks to the media plane.

It owns the ``Router`` and the ``AsRunLog``; the media plane is reached through the
``MediaView`` port (crosspoints, live sources, audience, failover choice) and reports
back through ``switched`` and ``source_changed``. Every change of the matrix is handed
to ``on_change`` (the control plane broadcasts it to every page watching routing), and
the state directors set is kept through ``RoutingStateKeeper`` so a restart keeps it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from signaling.clock import Clock
from signaling.protocol.server import ChannelHealth, RouteView, Routing, VenueRouting, as_json
from signaling.records.airing import Airing, OffAirCause
from signaling.records.log import AsRunLog
from signaling.routing.languages import LanguageOutputs, OutputLanguages
from signaling.routing.persisted import (
    RoutingStateKeeper,
    SourceName,
    restore_routing,
    routing_state,
)
from signaling.routing.plan import session_on_channel
from signaling.routing.ports import AiringSink, Booths, Homes, QuestionCounts
from signaling.routing.router import Route, Router

SourceState = Literal["live", "lost", "idle"]

logger = logging.getLogger(__name__)


class MediaView(LanguageOutputs, Protocol):
    """The media plane as the routing service needs it: crosspoints, output languages
    and what is live."""

    def switch_to(self, venue: str, channel: str | None) -> None: ...

    def live_channels(self) -> set[str]: ...

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        """Players per venue output and per channel, now."""
        ...

    def use_source(self, channel: str, source: SourceName) -> None:
        """Feed ``channel``'s outputs from its primary or its backup publisher."""
        ...


@dataclass(frozen=True, slots=True)
class Health:
    """What the media plane last said about a channel, in clock time."""

    state: SourceState
    since: datetime
    source: SourceName | None
    backup_ready: bool


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
        # After a kill -9 the time off air is counted from the last heartbeat: keep it short.
        heartbeat: timedelta = timedelta(seconds=5),
        keeper: RoutingStateKeeper | None = None,
        node: str = "",
        homes: Homes | None = None,
        booths: Booths | None = None,
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
        self.keeper = keeper
        self._health: dict[str, Health] = {}
        self._sources: dict[str, SourceName] = {}
        self._off_air_since: dict[str, datetime] = {}
        # The node each local switch happens on (named in the airings), and the topology.
        self.node = node
        self.homes = homes
        self._homes_down: dict[str, str] = {}  # venue -> its home node, while down
        self.languages = OutputLanguages(router.event)
        self.booths = booths

    # -- the loop -------------------------------------------------------------------

    async def restore(self) -> None:
        """Put back what directors set before a restart and route it again (before ``run``)."""
        if self.keeper is not None:
            document = await self.keeper.load()
            if document is not None:
                self._sources = restore_routing(self.router, document)
                self.languages.restore(document.get("languages", {}))
        now = self.clock.now()
        for venue, language in self.languages.all().items():
            self.media.set_output_language(venue, language)
            self._pending.extend(self.log.language(venue, language, now))
        for channel, source in self._sources.items():
            self.media.use_source(channel, source)
        for state in self.router.states():
            if state.requested is not None:
                self.media.switch_to(state.venue, state.requested.channel)

    async def stop(self) -> None:
        """A clean stop: open airings end now, and the log says it was alive until now."""
        now = self.clock.now()
        self._pending.extend(self.log.stop(now))
        await self._flush(changed=False)
        await self.sink.alive(now)

    async def run(self) -> None:
        """Drive the automation until cancelled."""
        while True:
            await self.step()
            now = self.clock.now()
            moment = self.router.next_change(now)
            # Polls and heartbeats are real-time duties: a sped-up clock must not hurry them.
            poll = now + self.poll * self.clock.speed
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
        self._pending.extend(self.log.sweep(now, self._skip_notes()))
        beat = self._last_beat is None or now - self._last_beat >= self.heartbeat * self.clock.speed
        if beat:
            await self._count_questions()
        await self._flush(changed=bool(routes))
        if beat:
            self._last_beat = now
            await self.sink.alive(now)

    def _watch_media(self, now: datetime) -> None:
        """Source losses and returns of what is on air, and the audience peaks."""
        live = self.media.live_channels()
        # Channels the media plane reports health for are judged by those reports alone.
        on_air = {a.channel for a in self.log.open_airings() if a.channel} - set(self._health)
        for channel in on_air - live:
            self._pending.extend(self.log.source_lost(channel, now))
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

    async def use_source(self, channel: str, source: SourceName) -> None:
        """A director's failover choice; kept, and applied again after a restart."""
        self.media.use_source(channel, source)
        self._sources[channel] = source
        await self._flush(changed=True)

    async def set_language(self, venue: str, language: str | None, by: str) -> bool:
        """A director's or operator's choice of what ``venue``'s output plays (kept, sent
        to the media plane, noted on the airing); False when it already plays that."""
        if not self.languages.set(venue, language, by):
            return False
        self.media.set_output_language(venue, language)
        self._pending.extend(self.log.language(venue, language, self.clock.now()))
        await self._flush(changed=True)
        return True

    async def booths_changed(self) -> None:
        """Who is on air in a booth changed: the matrix says so to every page."""
        await self._flush(changed=True)

    def source_choices(self) -> dict[str, SourceName]:
        """The failover choices directors made, per channel."""
        return dict(self._sources)

    async def switched(
        self, venue: str, channel: str | None, at: datetime, node: str | None = None
    ) -> None:
        """The media plane reports that ``venue``'s output now shows ``channel`` (on
        ``node``: this node unless said)."""
        at = self.clock.from_real(at)
        take = self.router.taken(venue, channel, at)
        if take is None:
            # Already on air: a home node back after a restart shows it again.
            changed = self.log.node_back(venue, channel, at)
            if changed:
                self._pending.extend(changed)
                await self._flush(changed=True)
            return
        self._pending.extend(self.log.taken(take, node or self.node))
        await self._flush(changed=True)

    async def home_down(self, venue: str, node: str, at: datetime) -> None:
        """``venue``'s home node is down: its airing goes off air, the matrix says so."""
        self._homes_down[venue] = node
        self._pending.extend(self.log.node_down(venue, node, self.clock.from_real(at)))
        await self._flush(changed=True)

    async def home_back(self, venue: str, node: str) -> None:
        """``venue``'s home node is up again (it gets the plan; its switch ends the gap)."""
        self._homes_down.pop(venue, None)
        await self._flush(changed=True)

    def _skip_notes(self) -> dict[str, str]:
        return {venue: f"home node {node} was down" for venue, node in self._homes_down.items()}

    async def source_changed(
        self,
        channel: str,
        state: SourceState,
        source: SourceName | None,
        backup_ready: bool,
        at: datetime,
    ) -> None:
        """The media plane reports a channel's health; records and the matrix follow."""
        at = self.clock.from_real(at)
        before = self._health.get(channel)
        since = before.since if before is not None and before.state == state else at
        self._health[channel] = Health(state, since, source, backup_ready)
        if state == "live":
            # Back on the other publisher: the time off air was the failover's.
            failover = before is not None and before.source not in (None, source)
            self._pending.extend(
                self.log.source_back(channel, at, "failover" if failover else None)
            )
        else:
            cause: OffAirCause = "source_lost" if state == "lost" else "slate"
            self._pending.extend(self.log.source_lost(channel, at, cause))
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
        if not changed:
            return
        if self.keeper is not None:
            try:
                state = routing_state(self.router, dict(self._sources))
                await self.keeper.save(state | {"languages": self.languages.state()})
            except Exception:
                logger.exception("could not keep the routing state")
        if self.on_change is not None:
            try:
                await self.on_change(self.matrix_frame())
            except Exception:
                logger.exception("could not announce the routing matrix")

    # -- views ------------------------------------------------------------------------

    def _shows_slate(self, channel: str | None, live: set[str]) -> bool:
        if channel is None:
            return True
        health = self._health.get(channel)
        return health.state != "live" if health is not None else channel not in live

    def matrix_frame(self) -> Routing:
        """The routing matrix as the director page shows it, with every channel's health."""
        live = self.media.live_channels()
        now = self.clock.now()
        venues = []
        for state in self.router.states():
            requested, on_air = state.requested, state.on_air
            channel = on_air.route.channel if on_air else None
            home, home_up = self.homes.where(state.venue) if self.homes else (None, None)
            slate = self._shows_slate(channel, live) or home_up is False
            off_air_since = None
            if slate:
                health = self._health.get(channel) if channel else None
                began = health.since if health is not None else now
                off_air_since = self._off_air_since.setdefault(state.venue, began)
            else:
                self._off_air_since.pop(state.venue, None)
            venues.append(
                VenueRouting(
                    venue=state.venue,
                    automation="paused" if state.paused else "on",
                    held_by_director=state.held_against is not None,
                    requested=_route_view(requested),
                    on_air=_route_view(on_air.route) if on_air else None,
                    on_air_since=on_air.taken_at.isoformat() if on_air else None,
                    slate=slate,
                    off_air_since=off_air_since.isoformat() if off_air_since else None,
                    home=home,
                    home_up=home_up,
                    language=self.languages.language(state.venue),
                )
            )
        channels = {}
        booths = self.booths.on_air() if self.booths is not None else {}
        for channel_id in (c.id for c in self.router.event.channels):
            health = self._health.get(channel_id)
            if health is None:
                is_live = channel_id in live
                channels[channel_id] = ChannelHealth(
                    state="live" if is_live else "idle",
                    since=None,
                    source="primary" if is_live else None,
                    backup_ready=False,
                    interpreters=booths.get(channel_id, {}),
                    floor_language=self._floor_language(channel_id, now),
                )
            else:
                channels[channel_id] = ChannelHealth(
                    state=health.state,
                    since=health.since.isoformat(),
                    source=health.source,
                    backup_ready=health.backup_ready,
                    interpreters=booths.get(channel_id, {}),
                    floor_language=self._floor_language(channel_id, now),
                )
        return Routing(venues=venues, channels=channels)

    def _floor_language(self, channel_id: str, now: datetime) -> str | None:
        """What the floor speaks on ``channel_id`` now: the first language of its session
        on air, else its venue's language (a return feed speaks its room's)."""
        event = self.router.event
        session = session_on_channel(event, channel_id, now, timedelta(0))
        if session is not None:
            return session.languages[0]
        channel = event.channel(channel_id)
        venue = event.venue(channel.venue) if channel is not None else None
        return venue.language if venue is not None else None

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

"""Wires routing and as-run records: the automation between the control and media planes.

The ``RoutingService`` (signaling) reaches the media plane only through ``MediaPlaneView``
below, and hears of takes through the media hub's switch listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from signaling.clock import SystemClock
from signaling.hub import Hub
from signaling.qa.model import State
from signaling.records.airing import Judgement
from signaling.records.log import AsRunLog
from signaling.records.store import AiringStore
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from streaming.hub import MediaHub, callback_listener
from streaming.ports import SwitchEvent
from web import director_page, records_api, routing_api
from web.keys import EVENT, HUB, MEDIA, ROUTING, SETTINGS, STORE

logger = logging.getLogger(__name__)


class MediaPlaneView:
    """The media hub as the routing service sees it."""

    def __init__(self, hub: MediaHub) -> None:
        self._hub = hub

    def switch_to(self, venue: str, channel: str | None) -> None:
        self._hub.route(venue, channel)

    def live_channels(self) -> set[str]:
        return set(self._hub.live_channels())

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        audience = self._hub.audience()
        return dict(audience.per_venue), dict(audience.per_channel)


class HubQuestionCounts:
    """Questions asked and answered in a session, from the Q&A rooms."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def counts(self, session_id: str) -> tuple[int, int]:
        session = self._hub.event.session(session_id)
        if session is None or not session.qa:
            return 0, 0
        room = await self._hub.rooms.room(session_id)
        asked = len(room.questions)
        answered = sum(1 for q in room.questions.values() if q.state is State.ANSWERED)
        return asked, answered


async def _routing_lifetime(app: web.Application) -> AsyncIterator[None]:
    settings, event, hub = app[SETTINGS], app[EVENT], app[HUB]
    clock = SystemClock()
    now = clock.now()
    store = AiringStore(app[STORE], event.id)
    began = await store.began(now)
    log = AsRunLog(
        event,
        since=began,
        rules=Judgement(
            tolerance=timedelta(seconds=settings.asrun_tolerance_seconds),
            source_lost_limit=timedelta(seconds=settings.source_lost_seconds),
        ),
        airings=await store.load(),
    )
    log.rehearsal = settings.rehearsal
    last_alive = await store.last_alive()
    if last_alive is not None:
        closed = log.recover(last_alive)
        if closed:
            logger.warning("closed %d airing(s) left open by an unclean stop", len(closed))
            await store.save(closed)
    service = RoutingService(
        Router(event, pre_roll=timedelta(seconds=settings.pre_roll_seconds)),
        log,
        MediaPlaneView(app[MEDIA]),
        clock,
        store,
        on_change=hub.push_routing,
        questions=HubQuestionCounts(hub),
    )
    app[ROUTING] = service
    hub.routing = service
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    def switched(switch: SwitchEvent) -> None:
        # Called from the media plane's packet path: hand over, never block it.
        task = loop.create_task(service.switched(switch.venue, switch.channel, switch.at))
        pending.add(task)
        task.add_done_callback(pending.discard)

    app[MEDIA].add_switch_listener(callback_listener(switched))
    runner = loop.create_task(service.run(), name="routing")
    try:
        yield
    finally:
        hub.routing = None
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def setup(app: web.Application) -> None:
    """After the control and media planes (their cleanup contexts run first)."""
    if app[SETTINGS].routing:
        app.cleanup_ctx.append(_routing_lifetime)
    routing_api.setup(app)
    records_api.setup(app)
    director_page.setup(app)

"""Wires routing and as-run records: the automation between the control and media planes.

The ``RoutingService`` (signaling) reaches the media plane only through the adapters in
``web/adapters.py``: ``MediaPlaneView`` to switch and count, ``SwitchesToRouting`` to hear
what really went on air.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from signaling.clock import SystemClock
from signaling.records.airing import Judgement
from signaling.records.recovery import open_asrun_log
from signaling.records.store import AiringStore
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from web import director_page, records_api, routing_api
from web.adapters import HubQuestionCounts, MediaPlaneView, SwitchesToRouting
from web.keys import EVENT, HUB, MEDIA, ROUTING, SETTINGS, STORE


async def _routing_lifetime(app: web.Application) -> AsyncIterator[None]:
    settings, event, hub = app[SETTINGS], app[EVENT], app[HUB]
    clock = SystemClock()
    store = AiringStore(app[STORE], event.id)
    rules = Judgement(
        tolerance=timedelta(seconds=settings.asrun_tolerance_seconds),
        source_lost_limit=timedelta(seconds=settings.source_lost_seconds),
    )
    log = await open_asrun_log(store, event, rules, clock.now(), rehearsal=settings.rehearsal)
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
    switches = SwitchesToRouting(service)
    app[MEDIA].add_switch_listener(switches)
    runner = asyncio.get_running_loop().create_task(service.run(), name="routing")
    try:
        yield
    finally:
        hub.routing = None
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await switches.aclose()


def setup(app: web.Application) -> None:
    """After the control and media planes (their cleanup contexts run first)."""
    if app[SETTINGS].routing:
        app.cleanup_ctx.append(_routing_lifetime)
    routing_api.setup(app)
    records_api.setup(app)
    director_page.setup(app)

"""This node as the home of venues: it applies the routing node's orders for them and
reports back, over the bus (see ``signaling/routing/remote.py`` for the other end).

Orders are applied only when addressed to this node, for a venue this node is home to
(its settings or the event file), and newer than the last one applied for the venue.
Switches of those venues and the health of channels whose publisher is on this node go
back to the routing node; a hello (on start, after a lost subscription, and when the
routing node asks) announces the venues this node's settings make it home to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from config.event import Event
from signaling.bus.node import BusMessage, NodeBus
from signaling.routing.homes import (
    AUDIENCE,
    HEALTH,
    HELLO,
    LANGUAGE,
    ROUTE,
    ROUTING_HELLO,
    SWITCHED,
    ChannelHealthNote,
    HomeBook,
    HomeHello,
    OrderGate,
    Sequencer,
    VenueLanguageOrder,
    VenueRouteOrder,
    VenueSwitched,
)
from signaling.routing.languages import LanguageOutputs
from signaling.routing.outbox import Outbox, parsed, wire
from signaling.routing.persisted import SourceName
from signaling.routing.service import SourceState
from signaling.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# How long stopping waits for the background task (see signaling/tasks.py).
STOP_WAIT = 5.0


class VenueSwitcher(LanguageOutputs, Protocol):
    """The local media plane as a home node needs it."""

    def switch_to(self, venue: str, channel: str | None) -> None: ...

    def last_switch(self, venue: str) -> tuple[str | None, str | None, datetime] | None:
        """The output's last switch: (channel, previous, when), or None if it never did."""
        ...


class HomeAgent:
    """This node as the home of venues: applies orders, reports switches and health."""

    def __init__(
        self,
        bus: NodeBus,
        book: HomeBook,
        event: Event,
        media: VenueSwitcher,
        my_venues: tuple[str, ...],
        routing_here: bool,
        audience: Callable[[], Mapping[str, int]] | None = None,
        audience_every: float = 3.0,
    ) -> None:
        self.book = book
        self._bus = bus
        self._event = event
        self._media = media
        self._my_venues = my_venues
        self._routing_here = routing_here
        self._outbox = Outbox(bus)
        self._orders = Sequencer()
        self._gate = OrderGate()
        self._health: dict[str, ChannelHealthNote] = {}
        self.applied = 0
        # Players per venue output here, sent when they change (the records' peaks).
        self._audience = audience
        self._audience_every = audience_every
        self._audience_sent: dict[str, int] | None = None
        self._task: asyncio.Task[None] | None = None
        # Told of each hello after the book has it (the routing node re-sends its plan).
        self.hello_listeners: list[Callable[[str], None]] = []
        bus.on(ROUTE, self._heard_order)
        bus.on(LANGUAGE, self._heard_language)
        bus.on(ROUTING_HELLO, self._heard_routing_hello)
        bus.on(HELLO, self._heard_hello)
        bus.on_resubscribed(self._hello)

    async def start(self) -> None:
        self._outbox.start()
        await self._hello()
        if self._audience is not None and not self._routing_here:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._audience_loop(), name="home-audience")

    async def aclose(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await cancel_and_wait(task, STOP_WAIT, "the home agent's audience loop")
        await self._outbox.aclose()

    async def _audience_loop(self) -> None:
        while True:
            self.report_audience()
            await asyncio.sleep(self._audience_every)

    def report_audience(self) -> None:
        """Send the players of this node's home venues if they changed since last sent."""
        if self._audience is None:
            return
        everyone = self._audience()
        counts = {v: everyone.get(v, 0) for v in sorted(self.book.venues_of(self._bus.node))}
        if counts and counts != self._audience_sent:
            self._audience_sent = counts
            self._outbox.put(AUDIENCE, {"venues": counts})

    async def _hello(self) -> None:
        await self._bus.publish(HELLO, {"venues": list(self._my_venues)})

    async def _heard_routing_hello(self, message: BusMessage) -> None:
        if parsed(message, self._event) is None:
            return
        await self._hello()
        self._audience_sent = None  # the next look sends the counts whatever they are
        for note in list(self._health.values()):
            self._report_health(note)  # a new order: the routing node has no gate for us yet

    def _heard_hello(self, message: BusMessage) -> None:
        hello = parsed(message, self._event)
        if not isinstance(hello, HomeHello):
            return
        for venue in self.book.claim(hello.node, hello.venues):
            logger.warning("venue %s: node %s now claims it as its home", venue, hello.node)
        for listener in self.hello_listeners:
            listener(hello.node)

    def _heard_order(self, message: BusMessage) -> None:
        order = parsed(message, self._event)
        if not isinstance(order, VenueRouteOrder) or order.home != self._bus.node:
            return
        if not self.book.here(order.venue):
            logger.warning(
                "ignored an order from %s for venue %s: this node is not its home",
                order.node,
                order.venue,
            )
            return
        if not self._gate.admit(("route", order.venue), order.order):
            return  # a duplicate, or older than the last order applied
        try:
            self._media.switch_to(order.venue, order.channel)
            last = self._media.last_switch(order.venue)
        except Exception:
            logger.exception("could not switch venue %s to %s", order.venue, order.channel)
            return
        self.applied += 1
        if last is not None and last[0] == order.channel:
            # Already showing it (a restarted routing node re-sends its plan): no switch
            # will happen, so say what is on air, and since when, now.
            self.venue_switched(order.venue, *last)

    def _heard_language(self, message: BusMessage) -> None:
        order = parsed(message, self._event)
        if not isinstance(order, VenueLanguageOrder) or order.home != self._bus.node:
            return
        if not self.book.here(order.venue):
            logger.warning(
                "ignored a language order from %s for venue %s: this node is not its home",
                order.node,
                order.venue,
            )
            return
        if not self._gate.admit(("language", order.venue), order.order):
            return
        try:
            self._media.set_output_language(order.venue, order.language)
        except Exception:
            logger.exception("could not set venue %s to language %s", order.venue, order.language)
            return
        self.applied += 1

    # -- what this node reports -----------------------------------------------------------

    def venue_switched(
        self, venue: str, channel: str | None, previous: str | None, at: datetime
    ) -> None:
        """This node's output of ``venue`` switched; the routing node hears it if remote."""
        if self._routing_here or not self.book.here(venue):
            return
        switched = VenueSwitched(
            node=self._bus.node,
            venue=venue,
            channel=channel,
            previous=previous,
            at=at,
            order=self._orders.next(),
        )
        self._outbox.put(SWITCHED, wire(switched))

    def channel_health(
        self,
        channel: str,
        state: SourceState,
        source: SourceName | None,
        backup_ready: bool,
        at: datetime,
    ) -> None:
        """A channel published on this node changed health (not a relay pull of it)."""
        note = ChannelHealthNote(
            node=self._bus.node,
            channel=channel,
            state=state,
            source=source,
            backup_ready=backup_ready,
            at=at,
            order=(0, 0),
        )
        self._health[channel] = note
        if not self._routing_here:
            self._report_health(note)

    def _report_health(self, note: ChannelHealthNote) -> None:
        fields = wire(note)
        fields["order"] = list(self._orders.next())
        self._outbox.put(HEALTH, fields)

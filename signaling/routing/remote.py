"""Venues on other nodes, over the bus: both ends.

``RemoteVenues`` sits on the routing node between the routing service and the local media
plane: a switch for a venue whose home is another node goes out as a ``venue-route``
order instead, and what that node reports (``venue-switched``, ``channel-health``) comes
back into the service as if it had happened here, with the node named. It watches the
node directory: a home that drops out is told to the service (the airing goes off air,
cause ``node_down``); a home that comes back, or says hello after a restart, gets the
current plan again. The routing node re-sends rather than the home node asking because
the plan has one owner: a home that restarts only has to say hello (it does on start and
after a lost bus subscription), and the directory covers a home that died silently.

``HomeAgent`` (``signaling/routing/home_agent.py``) is the other end, on every node.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from config.event import Event
from signaling.bus.node import BusMessage, NodeBus, reraise_if_cancelling
from signaling.nodes import Directory, DirectoryUnavailable
from signaling.routing.homes import (
    AUDIENCE,
    HEALTH,
    LANGUAGE,
    ROUTE,
    ROUTING_HELLO,
    SWITCHED,
    ChannelHealthNote,
    HomeBook,
    OrderGate,
    Sequencer,
    VenueAudience,
    VenueLanguageOrder,
    VenueRouteOrder,
    VenueSwitched,
)
from signaling.routing.outbox import Outbox, parsed, wire
from signaling.routing.persisted import SourceName
from signaling.routing.service import MediaView, SourceState
from signaling.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# How long stopping waits for the background task (see signaling/tasks.py).
STOP_WAIT = 5.0


class RoutingInbox(Protocol):
    """What the routing service is told about venues served on other nodes."""

    async def switched(self, venue: str, channel: str | None, at: datetime, node: str) -> None: ...

    async def source_changed(
        self,
        channel: str,
        state: SourceState,
        source: SourceName | None,
        backup_ready: bool,
        at: datetime,
    ) -> None: ...

    async def home_down(self, venue: str, node: str, at: datetime) -> None: ...

    async def home_back(self, venue: str, node: str) -> None: ...


class RemoteVenues:
    """The routing node's media view: local venues here, the others over the bus."""

    def __init__(
        self,
        bus: NodeBus,
        book: HomeBook,
        event: Event,
        local: MediaView,
        directory: Directory,
        check_every: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.book = book
        self._bus = bus
        self._event = event
        self._local = local
        self._directory = directory
        self._check_every = check_every
        self._now = now
        self._outbox = Outbox(bus)
        self.orders = Sequencer()
        self._gate = OrderGate()
        self._plan: dict[str, str | None] = {}  # venue -> the channel last routed to it
        self._languages: dict[str, str | None] = {}  # venue -> the language last set
        self._remote_live: dict[str, str] = {}  # channel -> node holding its live publisher
        self._up: dict[str, bool] = {}  # remote venue -> its home was up at the last look
        self._players: dict[str, int] = {}  # remote venue -> players, as its home last said
        self._inbox: RoutingInbox | None = None
        self._task: asyncio.Task[None] | None = None
        for kind, handler in (
            (SWITCHED, self._heard_switch),
            (HEALTH, self._heard_health),
            (AUDIENCE, self._heard_audience),
        ):
            bus.on(kind, handler)

    def attach(self, inbox: RoutingInbox) -> None:
        """The routing service that hears what remote homes report (set once, before start)."""
        self._inbox = inbox

    # -- MediaView ------------------------------------------------------------------

    def switch_to(self, venue: str, channel: str | None) -> None:
        # Kept for every venue: a home that announces itself later gets it then.
        self._plan[venue] = channel
        # This node's own copy of the output follows the plan too, home elsewhere or not:
        # the director's monitor shows what the venue should show, and while the home node
        # is down a venue's operator (steered here, the home not being up) still sees the
        # programme. Its switches are not the venue's record (``serves_here``).
        self._local.switch_to(venue, channel)
        home = self.book.remote(venue)
        if home is not None:
            self._send(venue, home)

    def set_output_language(self, venue: str, language: str | None) -> None:
        # Like a switch: kept for a home that comes later, and this node's copy follows.
        self._languages[venue] = language
        self._local.set_output_language(venue, language)
        home = self.book.remote(venue)
        if home is not None:
            self._send_language(venue, home)

    def live_channels(self) -> set[str]:
        return self._local.live_channels() | set(self._remote_live)

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        venues, channels = self._local.audience()
        for venue in venues.keys() | self._players.keys():
            if self.book.remote(venue) is not None:
                # This node's own output of a remote venue is not the venue's audience.
                venues[venue] = self._players.get(venue, 0)
        return venues, channels

    def use_source(self, channel: str, source: SourceName) -> None:
        self._local.use_source(channel, source)

    # -- the topology, for the matrix -------------------------------------------------

    def where(self, venue: str) -> tuple[str | None, bool | None]:
        """The venue's home node (None: this routing node) and whether it is up (None:
        not looked at yet, or served here)."""
        home = self.book.remote(venue)
        return (None, None) if home is None else (home, self._up.get(venue))

    def serves_here(self, venue: str) -> bool:
        """This node's own output is the venue's (its local switches are the real ones)."""
        return self.book.remote(venue) is None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._outbox.start()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="home-watch")
        # Homes announce their venues (and re-send channel health) when asked.
        await self._bus.publish(ROUTING_HELLO, {})

    async def aclose(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await cancel_and_wait(task, STOP_WAIT, "the home node check")
        await self._outbox.aclose()

    def _send(self, venue: str, home: str) -> None:
        order = VenueRouteOrder(
            node=self._bus.node,
            home=home,
            venue=venue,
            channel=self._plan.get(venue),
            order=self.orders.next(),
        )
        self._outbox.put(ROUTE, wire(order))

    def _send_language(self, venue: str, home: str) -> None:
        order = VenueLanguageOrder(
            node=self._bus.node,
            home=home,
            venue=venue,
            language=self._languages.get(venue),
            order=self.orders.next(),
        )
        self._outbox.put(LANGUAGE, wire(order))

    def _republish(self, node: str) -> None:
        for venue in self.book.venues_of(node):
            if venue in self._languages:
                self._send_language(venue, node)
            if venue in self._plan:
                self._send(venue, node)

    # -- what homes say ------------------------------------------------------------------

    async def _heard_switch(self, message: BusMessage) -> None:
        switched = parsed(message, self._event)
        if not isinstance(switched, VenueSwitched):
            return
        if self.book.remote(switched.venue) != switched.node:
            if switched.node == self._bus.node:
                return  # a sibling worker's copy of a venue served here: not the record
            logger.warning(
                "ignored a switch of %s from %s: not its home", switched.venue, switched.node
            )
            return
        if not self._gate.admit(("switch", switched.node, switched.venue), switched.order):
            return  # a duplicate or an overtaken report
        if self._inbox is not None:
            await self._inbox.switched(switched.venue, switched.channel, switched.at, switched.node)

    async def _heard_health(self, message: BusMessage) -> None:
        note = parsed(message, self._event)
        if not isinstance(note, ChannelHealthNote):
            return
        if not self._gate.admit(("health", note.node, note.channel), note.order):
            return
        if note.state == "live":
            self._remote_live[note.channel] = note.node
        elif self._remote_live.get(note.channel) == note.node:
            del self._remote_live[note.channel]
        if self._inbox is not None:
            await self._inbox.source_changed(
                note.channel, note.state, note.source, note.backup_ready, note.at
            )

    def _heard_audience(self, message: BusMessage) -> None:
        counts = parsed(message, self._event)
        if not isinstance(counts, VenueAudience):
            return
        for venue, players in counts.venues.items():
            if self.book.remote(venue) == counts.node:
                self._players[venue] = players

    def home_said_hello(self, node: str) -> None:
        """A node (re)started or came back on the bus (its hello is in the book already):
        whatever its outputs show now, it gets the current plan again."""
        self._republish(node)

    # -- the homes' liveness --------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            try:
                await self.check_homes()
            except DirectoryUnavailable as error:
                logger.warning("cannot see which home nodes are up: %s", error)
            except Exception:
                reraise_if_cancelling()
                logger.exception("home node check failed")
            await asyncio.sleep(self._check_every)

    async def check_homes(self) -> None:
        """Compare each remote venue's home with the directory; tell the service changes."""
        up = {entry.id for entry in await self._directory.nodes()}
        for venue in sorted(self.book.homes()):
            home = self.book.remote(venue)
            if home is None:
                self._up.pop(venue, None)
                continue
            now_up, was_up = home in up, self._up.get(venue)
            self._up[venue] = now_up
            if now_up == was_up or self._inbox is None:
                continue
            if not now_up:
                self._players.pop(venue, None)
                logger.warning("venue %s: its home node %s is down", venue, home)
                await self._inbox.home_down(venue, home, self._now())
            elif was_up is False:
                logger.info("venue %s: its home node %s is back", venue, home)
                await self._inbox.home_back(venue, home)
                if venue in self._languages:
                    self._send_language(venue, home)
                if venue in self._plan:
                    self._send(venue, home)

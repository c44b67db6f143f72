"""The control plane of one node, put together: the façade the web layer talks to.

Each duty has its own part: ``ClientRegistry`` (clients, rooms, sending, the sweep),
``NodeBus`` (the bus by message kind), ``PresenceFeed``, ``TalkbackRelay``, the Q&A
``RoomService`` whose changes go out through ``frames_for``, and ``Commands``, which is
handed the parts it needs. The hub builds them, starts and stops them, and nothing else.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from config import Event
from signaling.auth.revocation import RevocationLog, Revocations
from signaling.bus import Bus
from signaling.bus.node import BusMessage, NodeBus
from signaling.captions.lines import CaptionLimits
from signaling.captions.log import CaptionLog
from signaling.captions.service import CaptionService
from signaling.clients import Client
from signaling.commands import Commands
from signaling.presence_feed import PresenceFeed
from signaling.protocol import messages as m
from signaling.protocol.budget import MessageRate
from signaling.protocol.server import Ack, Frame, Routing, encode_frame
from signaling.qa import events as ev
from signaling.qa.fanout import frames_for
from signaling.qa.limits import ActionLimiter, Limits
from signaling.qa.room import Room
from signaling.qa.service import RoomService
from signaling.qa.vote_watch import VoteWatch
from signaling.registry import ClientRegistry, SendStats
from signaling.revoker import Revoker
from signaling.routing.service import RoutingService
from signaling.store import EventStore
from signaling.talkback import hears_talkback
from signaling.talkback_history import TalkbackHistory
from signaling.talkback_relay import TalkbackRelay

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubOptions:
    """Per-node knobs; tests shrink the timers."""

    max_backlog: int = 1024 * 1024  # bytes a client may fall behind before it is dropped
    send_timeout: float = 5.0  # seconds a client's backlog may stay non-empty
    heartbeat: float = 20.0
    max_message: int = 64 * 1024
    presence_interval: float = 1.0
    presence_refresh: float = 10.0
    bus_retry: float = 1.0
    revocation_refresh: float = 5.0  # seconds between re-reads of the revocation list
    limits: Limits = field(default_factory=Limits)
    messages: MessageRate = field(default_factory=MessageRate)
    captions: CaptionLimits = field(default_factory=CaptionLimits)


class RoomFanout:
    """Sends each applied Q&A event to the room's members, as ``frames_for`` decides."""

    def __init__(self, clients: ClientRegistry) -> None:
        self._clients = clients

    def room_changed(self, room: Room, seq: int, event: ev.RoomEvent, touched: set[str]) -> None:
        members = self._clients.members(room.id)
        for frame, group in frames_for(room, seq, event, touched, members):
            self._clients.send_to(group, frame)


class Hub:
    """One node's control plane; ``start``/``stop`` own its parts' background tasks."""

    def __init__(
        self,
        event: Event,
        store: EventStore,
        bus: Bus,
        options: HubOptions | None = None,
        clock: Callable[[], float] = time.time,
        revocations: Revocations | None = None,
        node: str | None = None,
    ) -> None:
        self.event = event
        self.options = options = options or HubOptions()
        # The node id (config/node.py); a hub built alone (tests) gets a random one.
        self.node = node or secrets.token_hex(4)
        self.clients = ClientRegistry(send_timeout=options.send_timeout)
        self.bus = NodeBus(bus, self.node, retry=options.bus_retry)
        self.rooms = RoomService(store, RoomFanout(self.clients))
        self.presence_feed = PresenceFeed(
            self.clients, self.bus, options.presence_interval, options.presence_refresh
        )
        self.talkback = TalkbackRelay(self.clients, self.bus, TalkbackHistory(store, event))
        self.captions = CaptionService(
            event, self.clients, self.bus, CaptionLog(store, event.id), options.captions, clock
        )
        # The set the token authority checks (``TokenAuthority.revocations``), kept current.
        self.revoker = Revoker(
            RevocationLog(store, event.id),
            revocations if revocations is not None else Revocations(),
            self.clients,
            self.bus,
            options.revocation_refresh,
        )
        # Set by the wiring on the node that runs the routing automation.
        self.routing: RoutingService | None = None
        # Several workers: the routing worker hands each matrix frame to its siblings
        # (``routing_frames``), which keep the last one to show (``mirrored_routing``).
        self.routing_frames: Callable[[Frame], None] | None = None
        self.mirrored_routing: Frame | None = None
        self.bus.on("event", self._heard_event)
        self.bus.on_resubscribed(self.rooms.catch_up_all)
        self._commands = Commands(
            event=event,
            clients=self.clients,
            rooms=self.rooms,
            bus=self.bus,
            presence=self.presence_feed,
            talkback=self.talkback,
            routing=lambda: self.routing,
            mirrored_routing=lambda: self.mirrored_routing,
            limiter=ActionLimiter(options.limits),
            votes=VoteWatch(options.limits.suspect_votes, options.limits.suspect_window),
            clock=clock,
            captions=self.captions,
        )

    async def start(self) -> None:
        await self.bus.start()
        await self.revoker.start()
        self.presence_feed.start()
        self.clients.start()

    async def stop(self) -> None:
        await self.revoker.stop()
        await self.presence_feed.stop()
        await self.bus.stop()
        await self.clients.stop()
        self.drop_all("the server is shutting down")

    def drop_all(self, reason: str) -> None:
        """Ask every client's writer to close its socket (server shutdown)."""
        self.clients.drop_all(reason)

    @property
    def connections(self) -> int:
        return len(self.clients)

    @property
    def stats(self) -> SendStats:
        return self.clients.stats

    def presence(self) -> dict[str, object]:
        """Presence summed over the nodes, as plain JSON values (for HTTP)."""
        return self.presence_feed.counts().as_json()

    async def greet(self, client: Client) -> None:
        """What a page gets right after its welcome: the talkback it missed."""
        if not self._hears_any_talkback(client):
            return
        try:
            await self.talkback.replay_to(client)
        except Exception:
            # A store that is down must not keep the page from connecting.
            logger.exception("could not replay the talkback history")

    def _hears_any_talkback(self, client: Client) -> bool:
        return any(hears_talkback(client.grant, v.id) for v in self.event.venues)

    async def handle(self, client: Client, message: m.ClientMessage) -> Ack:
        """Carry out one message for ``client``; its ``ack`` frame, or a ``SignalingError``."""
        return await self._commands.run(client, message)

    async def push_routing(self, matrix: Routing) -> None:
        """Send the routing matrix to every page watching it (the service calls this)."""
        frame = encode_frame(matrix)
        self.clients.send_to([c for c in self.clients.everyone() if c.watches_routing], frame)
        if self.routing_frames is not None:
            self.routing_frames(frame)

    def show_routing(self, frame: Frame) -> None:
        """A sibling worker's matrix: kept for pages that ask, sent to those watching."""
        self.mirrored_routing = frame
        self.clients.send_to([c for c in self.clients.everyone() if c.watches_routing], frame)

    async def _heard_event(self, message: BusMessage) -> None:
        await self.rooms.receive(str(message["room"]), int(message["seq"]), str(message["event"]))

"""The control hub of one node: clients, dispatch with role checks, fan-out, the bus.

Fan-out never awaits a client: frames go to each client's bounded outbox, and a client
whose outbox is full is dropped (and counted) instead of slowing the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from config import Event
from signaling.bus import Bus
from signaling.clients import Client, Frame
from signaling.commands import Commands
from signaling.presence import Counts, PresenceBoard, count
from signaling.protocol import encode
from signaling.protocol import messages as m
from signaling.qa import events as ev
from signaling.qa.limits import ActionLimiter, Limits
from signaling.qa.room import Room
from signaling.qa.service import RoomService
from signaling.qa.views import HIDING_EVENTS, ROOM_EVENTS, question_view
from signaling.routing.service import RoutingService
from signaling.store import EventStore
from signaling.talkback import hears_talkback

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
    limits: Limits = field(default_factory=Limits)


@dataclass(slots=True)
class HubStats:
    dropped_slow: int = 0
    frames_sent: int = 0
    errors_sent: int = 0


class Hub:
    """Owns the node's clients and rooms; ``start``/``stop`` own its background tasks."""

    def __init__(
        self,
        event: Event,
        store: EventStore,
        bus: Bus,
        options: HubOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.event = event
        self.options = options or HubOptions()
        self.node = secrets.token_hex(4)
        self.stats = HubStats()
        self._store = store
        self._bus = bus
        self._clock = clock
        self._clients: set[Client] = set()
        self._members: dict[str, set[Client]] = {}
        self.rooms = RoomService(store, self)
        self._commands = Commands(self, ActionLimiter(self.options.limits))
        self._board = PresenceBoard(stale_after=3 * self.options.presence_refresh)
        self._presence_dirty = True
        self._last_presence: dict[str, object] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        # Set by the wiring on the node that runs the routing automation.
        self.routing: RoutingService | None = None

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        messages = await self._bus.subscribe()
        self._tasks.append(asyncio.create_task(self._listen(messages), name="hub-bus"))
        self._tasks.append(asyncio.create_task(self._presence_loop(), name="hub-presence"))
        self._tasks.append(asyncio.create_task(self._sweep_loop(), name="hub-sweep"))

    async def stop(self) -> None:
        self._stopping = True
        await self._bus.aclose()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.drop_all("the server is shutting down")

    def drop_all(self, reason: str) -> None:
        """Ask every client's writer to close its socket (server shutdown)."""
        for client in list(self._clients):
            client.drop(reason)

    @property
    def connections(self) -> int:
        return len(self._clients)

    def now(self) -> float:
        return self._clock()

    # --------------------------------------------------------------- clients

    def connect(self, client: Client) -> None:
        self._clients.add(client)
        self._presence_dirty = True

    def disconnect(self, client: Client) -> None:
        self._clients.discard(client)
        for room in client.rooms:
            self._members.get(room, set()).discard(client)
        self._presence_dirty = True

    def join(self, client: Client, room: str) -> None:
        client.rooms.add(room)
        self._members.setdefault(room, set()).add(client)
        self._presence_dirty = True

    def leave(self, client: Client, room: str) -> None:
        client.rooms.discard(room)
        self._members.get(room, set()).discard(client)
        self._presence_dirty = True

    def presence_changed(self) -> None:
        self._presence_dirty = True

    def send(self, client: Client, frame: Frame | str) -> None:
        was_dropped = client.dropped
        if client.send(frame):
            self.stats.frames_sent += 1
        elif not was_dropped and client.dropped:
            self.stats.dropped_slow += 1

    def sweep(self, now: float) -> None:
        """Drop clients whose backlog has not emptied for ``send_timeout`` seconds."""
        for client in list(self._clients):
            if client.backlog() == 0:
                client.backlog_since = None
            elif client.backlog_since is None:
                client.backlog_since = now
            elif now - client.backlog_since > self.options.send_timeout:
                client.drop("too slow: send timed out")
                self.stats.dropped_slow += 1

    async def _sweep_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.options.send_timeout / 4)
            self.sweep(time.monotonic())

    async def handle(self, client: Client, message: m.ClientMessage) -> dict[str, Any] | None:
        """Carry out one message for ``client``; an ack payload, or a ``SignalingError``."""
        return await self._commands.run(client, message)

    # ---------------------------------------------------------------- fan-out

    def room_changed(self, room: Room, seq: int, event: ev.RoomEvent, touched: set[str]) -> None:
        members = self._members.get(room.id)
        if not members:
            return
        for question_id in touched:
            self._fan_out_question(room, seq, event, question_id, members)
        if isinstance(event, ROOM_EVENTS):
            frame = Frame(
                encode({"type": "room", "room": room.id, "event_id": seq, **room.room_view()})
            )
            for client in list(members):
                self.send(client, frame)
        if isinstance(event, ev.Dismissed):
            self._tell_asker(room, seq, event, members)

    def _fan_out_question(
        self, room: Room, seq: int, event: ev.RoomEvent, question_id: str, members: set[Client]
    ) -> None:
        question = room.questions[question_id]
        # Encode once per audience, not once per client.
        public_view = question_view(question, "", moderator=False)
        public: Frame | None = None
        if public_view is not None:
            public = _question_frame(room.id, seq, public_view)
        elif isinstance(event, HIDING_EVENTS):
            public = Frame(
                encode(
                    {
                        "type": "question_removed",
                        "room": room.id,
                        "event_id": seq,
                        "id": question_id,
                    }
                )
            )
        moderator: Frame | None = None
        for client in list(members):
            if client.grant.moderates(room.id):
                if moderator is None:
                    moderator = _question_frame(room.id, seq, question.moderator_view())
                self.send(client, moderator)
            elif client.identity == question.asker:
                self.send(client, _question_frame(room.id, seq, question.asker_view()))
            elif public is not None:
                self.send(client, public)

    def _tell_asker(self, room: Room, seq: int, event: ev.Dismissed, members: set[Client]) -> None:
        asker = room.questions[event.question].asker
        frame = encode(
            {
                "type": "notice",
                "room": room.id,
                "event_id": seq,
                "kind": "dismissed",
                "question": event.question,
                "reason": event.reason,
            }
        )
        for client in list(members):
            if client.identity == asker:
                self.send(client, frame)

    # --------------------------------------------------------------- talkback

    async def talkback(self, frame: dict[str, Any]) -> None:
        """Deliver a talkback line here and on every other node."""
        self._deliver_talkback(frame)
        await self._publish({"kind": "talkback", "node": self.node, "frame": frame})

    def _deliver_talkback(self, frame: dict[str, Any]) -> None:
        venue = str(frame.get("venue"))
        encoded = Frame(encode(frame))
        for client in list(self._clients):
            if hears_talkback(client.grant, venue):
                self.send(client, encoded)

    # -------------------------------------------------------------------- bus

    async def announce(self, room: str, seq: int, body: str) -> None:
        """Tell the other nodes about an event this node stored."""
        message = {"kind": "event", "node": self.node, "room": room, "seq": seq, "event": body}
        await self._publish(message)

    async def _publish(self, message: dict[str, Any]) -> None:
        try:
            await self._bus.publish(encode(message))
        except Exception:
            # redis-py may turn a cancellation into a connection error: never swallow that.
            _reraise_if_cancelling()
            # The store has the event; other nodes catch up on their next read.
            logger.exception("bus publish failed")

    async def _listen(self, messages: Any) -> None:
        """Apply bus messages; if the subscription breaks (Redis restarted), subscribe again
        and catch the loaded rooms up from the store, which has every event."""
        while True:
            try:
                async for raw in messages:
                    try:
                        await self._on_bus(msgspec.json.decode(raw))
                    except Exception:
                        _reraise_if_cancelling()
                        logger.exception("bad bus message")
                return  # the bus was closed: we are stopping
            except Exception:
                _reraise_if_cancelling()
                logger.exception("bus subscription lost; subscribing again")
            while not self._stopping:
                await asyncio.sleep(self.options.bus_retry)
                try:
                    messages = await self._bus.subscribe()
                    await self.rooms.catch_up_all()
                    break
                except Exception:
                    _reraise_if_cancelling()
                    logger.warning("bus still unavailable; retrying")
            if self._stopping:
                return

    async def _on_bus(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "event":
            if message.get("node") != self.node:
                await self.rooms.receive(message["room"], int(message["seq"]), message["event"])
        elif kind == "talkback":
            if message.get("node") != self.node and isinstance(message.get("frame"), dict):
                self._deliver_talkback(message["frame"])
        elif kind == "presence":
            counts = Counts.from_json(message.get("counts", {}))
            self._board.update(str(message.get("node")), counts, time.monotonic())
            self._push_presence()

    # --------------------------------------------------------------- presence

    async def _presence_loop(self) -> None:
        # Bursts of joins and leaves coalesce into one update per ``presence_interval``;
        # an unchanged node still speaks every ``presence_refresh`` so others know it lives.
        refresh_at = 0.0
        while not self._stopping:
            now = time.monotonic()
            if self._presence_dirty or now >= refresh_at:
                self._presence_dirty = False
                refresh_at = now + self.options.presence_refresh
                counts = count(self._clients)
                self._board.update(self.node, counts, now)
                self._push_presence()
                await self._publish(
                    {"kind": "presence", "node": self.node, "counts": counts.as_json()}
                )
            await asyncio.sleep(self.options.presence_interval)

    def presence(self) -> dict[str, object]:
        return self._board.total(time.monotonic()).as_json()

    def _push_presence(self) -> None:
        current = self.presence()
        if current == self._last_presence:
            return
        self._last_presence = current
        frame = Frame(encode({"type": "presence", **current}))
        for client in list(self._clients):
            if client.watches_presence:
                self.send(client, frame)

    async def push_routing(self, matrix: dict[str, Any]) -> None:
        """Send the routing matrix to every page watching it (the service calls this)."""
        frame = Frame(encode(matrix))
        for client in list(self._clients):
            if client.watches_routing:
                self.send(client, frame)

    def send_presence(self, client: Client) -> None:
        self.send(client, encode({"type": "presence", **self.presence()}))


def _reraise_if_cancelling() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _question_frame(room: str, seq: int, view: dict[str, Any]) -> Frame:
    return Frame(encode({"type": "question", "room": room, "event_id": seq, "question": view}))

"""One dispatch table from message type to action; every action checks the role first."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from signaling.clients import Client
from signaling.errors import Forbidden, NotFound
from signaling.protocol import encode
from signaling.protocol import messages as m
from signaling.qa import events as ev
from signaling.qa.limits import ActionLimiter
from signaling.qa.room import Room
from signaling.qa.views import snapshot, touched_by
from signaling.routing.router import RoutingError
from signaling.talkback import talkback_frame, talkback_text, talkback_venue

if TYPE_CHECKING:
    from signaling.hub import Hub
    from signaling.routing.service import RoutingService

Ack = dict[str, Any] | None
Decide = Callable[[Room], ev.RoomEvent]


class Commands:
    """Carries out client messages on behalf of the hub."""

    def __init__(self, hub: Hub, limiter: ActionLimiter) -> None:
        self._hub = hub
        self._limiter = limiter
        self._table: dict[type[m.Message], Callable[[Client, Any], Awaitable[Ack]]] = {
            m.Join: self.join,
            m.Leave: self.leave,
            m.Present: self.present,
            m.WatchPresence: self.watch_presence,
            m.Talkback: self.talkback,
            m.Ask: self.ask,
            m.Vote: self.vote,
            m.WatchRouting: self.watch_routing,
            m.Route: self.route,
            m.SetAutomation: self.set_automation,
        }
        for kind in m.MODERATION:
            self._table[kind] = self.moderate

    async def run(self, client: Client, message: m.ClientMessage) -> Ack:
        return await self._table[type(message)](client, message)

    def _qa_room(self, room: str) -> str:
        session = self._hub.event.session(room)
        if session is None:
            raise NotFound(f"no session '{room}'")
        if not session.qa:
            raise NotFound(f"session '{room}' has no Q&A", code="qa_off")
        return room

    async def join(self, client: Client, message: m.Join) -> Ack:
        room_id = self._qa_room(message.room)
        room = await self._hub.rooms.room(room_id)
        self._hub.join(client, room_id)
        moderator = client.grant.moderates(room_id)
        last = message.last_event_id
        if 0 < last <= room.seq:
            # Replay: only what changed since the event the client saw last.
            events = await self._hub.rooms.events_since(room_id, last)
            frame = snapshot(room, client.identity, moderator, only=touched_by(events))
            frame["replayed"] = len(events)
        else:
            frame = snapshot(room, client.identity, moderator)
        self._hub.send(client, encode(frame))
        return {"room": room_id, "event_id": room.seq, "moderator": moderator}

    async def leave(self, client: Client, message: m.Leave) -> Ack:
        self._hub.leave(client, message.room)
        return None

    async def present(self, client: Client, message: m.Present) -> Ack:
        event = self._hub.event
        if message.channel is not None and event.channel(message.channel) is None:
            raise NotFound(f"no channel '{message.channel}'")
        if message.venue is not None and event.venue(message.venue) is None:
            raise NotFound(f"no venue '{message.venue}'")
        client.channel, client.venue = message.channel, message.venue
        self._hub.presence_changed()
        return None

    async def watch_presence(self, client: Client, message: m.WatchPresence) -> Ack:
        if not client.grant.watches_presence():
            raise Forbidden("presence is for moderators and directors")
        client.watches_presence = True
        self._hub.send_presence(client)
        return None

    def _routing(self) -> RoutingService:
        routing = self._hub.routing
        if routing is None:
            raise NotFound("routing does not run on this node", code="no_routing")
        return routing

    def _director(self, client: Client) -> None:
        if not client.grant.directs:
            raise Forbidden("only a director routes venue outputs")

    async def watch_routing(self, client: Client, message: m.WatchRouting) -> Ack:
        # The matrix is not secret: every page may show what goes where.
        routing = self._routing()
        client.watches_routing = True
        self._hub.send(client, encode(routing.matrix()))
        return None

    async def route(self, client: Client, message: m.Route) -> Ack:
        self._director(client)
        try:
            route = await self._routing().route(message.venue, message.channel, client.identity)
        except RoutingError as error:
            raise NotFound(str(error)) from None
        return {"venue": route.venue, "channel": route.channel, "session": route.session}

    async def set_automation(self, client: Client, message: m.SetAutomation) -> Ack:
        self._director(client)
        routing = self._routing()
        try:
            await (routing.resume(message.venue) if message.on else routing.pause(message.venue))
        except RoutingError as error:
            raise NotFound(str(error)) from None
        return {"venue": message.venue, "automation": "on" if message.on else "paused"}

    async def talkback(self, client: Client, message: m.Talkback) -> Ack:
        venue = talkback_venue(client.grant, message.venue)
        if self._hub.event.venue(venue) is None:
            raise NotFound(f"no venue '{venue}'")
        text = talkback_text(message.text)
        self._limiter.check("talkback", client.identity, client.address, time.monotonic())
        await self._hub.talkback(talkback_frame(client.grant, venue, text, self._hub.now()))
        return {"venue": venue}

    async def ask(self, client: Client, message: m.Ask) -> Ack:
        room_id = self._qa_room(message.room)
        origin_venue: str | None = None
        if message.origin == "sub_venue":
            origin_venue = client.grant.may_relay_for()
            if origin_venue is None:
                raise Forbidden("only a sub-venue operator relays questions from a venue")
        self._limiter.check("ask", client.identity, client.address, time.monotonic())
        now = self._hub.now()

        def decide(room: Room) -> ev.RoomEvent:
            return room.decide_ask(
                by=client.identity,
                text=message.text,
                name=message.name,
                language=message.language,
                origin=message.origin,
                origin_venue=origin_venue,
                now=now,
            )

        seq, question = await self._commit(room_id, decide)
        return {"event_id": seq, "question": question}

    async def vote(self, client: Client, message: m.Vote) -> Ack:
        room_id = self._qa_room(message.room)
        self._limiter.check("vote", client.identity, client.address, time.monotonic())
        now = self._hub.now()
        seq, _ = await self._commit(
            room_id,
            lambda room: room.decide_vote(
                by=client.identity, question_id=message.question, on=message.on, now=now
            ),
        )
        return {"event_id": seq}

    async def moderate(self, client: Client, message: Any) -> Ack:
        room_id = self._qa_room(message.room)
        if not client.grant.moderates(room_id):
            raise Forbidden("only a moderator of this session may do that")
        seq, question = await self._commit(
            room_id, _moderation(client.identity, message, self._hub.now())
        )
        return {"event_id": seq, "question": question}

    async def _commit(self, room_id: str, decide: Decide) -> tuple[int, str | None]:
        seq, body = await self._hub.rooms.commit(room_id, decide)
        await self._hub.announce(room_id, seq, body)
        question = getattr(ev.load_event(body), "question", None)
        return seq, question if isinstance(question, str) else None


def _moderation(by: str, message: Any, now: float) -> Decide:
    """The decision a moderation message asks for."""
    if isinstance(message, m.Approve):
        return lambda r: r.decide_approve(by=by, question_id=message.question, now=now)
    if isinstance(message, m.Dismiss):
        return lambda r: r.decide_dismiss(
            by=by, question_id=message.question, reason=message.reason, now=now
        )
    if isinstance(message, m.Edit):
        return lambda r: r.decide_edit(
            by=by, question_id=message.question, text=message.text, now=now
        )
    if isinstance(message, m.Merge):
        return lambda r: r.decide_merge(
            by=by, question_id=message.question, into=message.into, now=now
        )
    if isinstance(message, m.Translate):
        return lambda r: r.decide_translate(
            by=by,
            question_id=message.question,
            language=message.language,
            text=message.text,
            now=now,
        )
    if isinstance(message, m.Stage):
        return lambda r: r.decide_stage(by=by, question_id=message.question, now=now)
    if isinstance(message, m.Next):
        return lambda r: r.decide_next(by=by, now=now)
    if isinstance(message, m.Unstage):
        return lambda r: r.decide_unstage(by=by, now=now)
    if isinstance(message, m.Answered):
        return lambda r: r.decide_answered(by=by, question_id=message.question, now=now)
    if isinstance(message, m.Prioritize):
        return lambda r: r.decide_prioritize(by=by, question_id=message.question, now=now)
    if isinstance(message, m.SetMode):
        return lambda r: r.decide_mode(by=by, mode=message.mode, now=now)
    if isinstance(message, m.SetTimer):
        return lambda r: r.decide_timer(by=by, seconds=message.seconds, now=now)
    raise TypeError(f"not a moderation message: {type(message).__name__}")

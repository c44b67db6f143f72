"""One dispatch table from message type to action; every action checks the role first."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from config import Event
from signaling.auth.grants import Role
from signaling.bus.node import NodeBus
from signaling.captions.service import CaptionService
from signaling.clients import Client
from signaling.errors import Forbidden, NotFound
from signaling.presence_feed import PresenceFeed
from signaling.protocol import messages as m
from signaling.protocol.server import (
    Ack,
    AutomationAck,
    CaptionAck,
    Frame,
    JoinAck,
    LanguageAck,
    QuestionAck,
    RouteAck,
    SourceAck,
    TalkbackAck,
    VoteAck,
    encode_frame,
)
from signaling.qa import events as ev
from signaling.qa.fanout import snapshot_for, touched_by
from signaling.qa.limits import ActionLimiter
from signaling.qa.room import Room
from signaling.qa.service import RoomService
from signaling.qa.vote_watch import VoteWatch
from signaling.registry import ClientRegistry
from signaling.routing.languages import LanguageError, may_set_language
from signaling.routing.router import RoutingError
from signaling.routing.service import RoutingService
from signaling.talkback import talkback_frame, talkback_text, talkback_venue
from signaling.talkback_relay import TalkbackRelay

Decide = Callable[[Room], ev.RoomEvent]
# The actor named on a suspicion flag: the node itself, not a person.
VOTE_WATCH = "vote watch"


class Commands:
    """Carries out client messages with the parts of the node each one needs."""

    def __init__(
        self,
        *,
        event: Event,
        clients: ClientRegistry,
        rooms: RoomService,
        bus: NodeBus,
        presence: PresenceFeed,
        talkback: TalkbackRelay,
        routing: Callable[[], RoutingService | None],
        limiter: ActionLimiter,
        votes: VoteWatch,
        clock: Callable[[], float] = time.time,
        mirrored_routing: Callable[[], Frame | None] = lambda: None,
        captions: CaptionService | None = None,
    ) -> None:
        self._event = event
        self._clients = clients
        self._rooms = rooms
        self._bus = bus
        self._presence = presence
        self._talkback = talkback
        self._routing_now = routing
        self._mirrored_routing = mirrored_routing
        self._limiter = limiter
        self._votes = votes
        self._clock = clock
        self._captions = captions
        self._table: dict[type[m.Message], Callable[[Client, Any], Awaitable[Ack | None]]] = {
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
            m.UseSource: self.use_source,
            m.SetOutputLanguage: self.set_output_language,
            m.WatchCaptions: self.watch_captions,
            m.Caption: self.caption,
        }
        for kind in m.MODERATION:
            self._table[kind] = self.moderate

    async def run(self, client: Client, message: m.ClientMessage) -> Ack:
        """Carry out ``message``; the ``ack`` frame that answers it, or a ``SignalingError``."""
        ack = await self._table[type(message)](client, message)
        return msgspec.structs.replace(
            ack or Ack(), of=str(message.__struct_config__.tag), ref=message.ref
        )

    def _qa_room(self, room: str) -> str:
        session = self._event.session(room)
        if session is None:
            raise NotFound(f"no session '{room}'")
        if not session.qa:
            raise NotFound(f"session '{room}' has no Q&A", code="qa_off")
        return room

    async def join(self, client: Client, message: m.Join) -> Ack | None:
        room_id = self._qa_room(message.room)
        room = await self._rooms.room(room_id)
        self._clients.join(client, room_id)
        moderator = client.grant.moderates(room_id)
        last = message.last_event_id
        if 0 < last <= room.seq:
            # Replay: only what changed since the event the client saw last.
            events = await self._rooms.events_since(room_id, last)
            frame = snapshot_for(
                room, client.identity, moderator, only=touched_by(events), replayed=len(events)
            )
        else:
            frame = snapshot_for(room, client.identity, moderator)
        self._clients.send(client, encode_frame(frame))
        return JoinAck(room=room_id, event_id=room.seq, moderator=moderator)

    async def leave(self, client: Client, message: m.Leave) -> Ack | None:
        self._clients.leave(client, message.room)
        return None

    async def present(self, client: Client, message: m.Present) -> Ack | None:
        event = self._event
        if message.channel is not None and event.channel(message.channel) is None:
            raise NotFound(f"no channel '{message.channel}'")
        if message.venue is not None and event.venue(message.venue) is None:
            raise NotFound(f"no venue '{message.venue}'")
        client.channel, client.venue = message.channel, message.venue
        self._clients.changed()
        return None

    async def watch_presence(self, client: Client, message: m.WatchPresence) -> Ack | None:
        if not client.grant.watches_presence():
            raise Forbidden("presence is for moderators and directors")
        client.watches_presence = True
        self._presence.send_to(client)
        return None

    def _routing(self) -> RoutingService:
        routing = self._routing_now()
        if routing is None:
            raise NotFound("routing does not run on this node", code="no_routing")
        return routing

    def _director(self, client: Client) -> None:
        if not client.grant.directs:
            raise Forbidden("only a director routes venue outputs")

    async def watch_routing(self, client: Client, message: m.WatchRouting) -> Ack | None:
        # The matrix is not secret: every page may show what goes where.
        routing = self._routing_now()
        if routing is not None:
            frame = encode_frame(routing.matrix_frame())
        else:
            # A sibling worker of the routing one shows the matrix that worker sent last.
            mirrored = self._mirrored_routing()
            if mirrored is None:
                raise NotFound("routing does not run on this node", code="no_routing")
            frame = mirrored
        client.watches_routing = True
        self._clients.send(client, frame)
        return None

    async def route(self, client: Client, message: m.Route) -> Ack | None:
        self._director(client)
        try:
            route = await self._routing().route(message.venue, message.channel, client.identity)
        except RoutingError as error:
            raise NotFound(str(error)) from None
        return RouteAck(venue=route.venue, channel=route.channel, session=route.session)

    async def set_automation(self, client: Client, message: m.SetAutomation) -> Ack | None:
        self._director(client)
        routing = self._routing()
        try:
            await (routing.resume(message.venue) if message.on else routing.pause(message.venue))
        except RoutingError as error:
            raise NotFound(str(error)) from None
        return AutomationAck(venue=message.venue, automation="on" if message.on else "paused")

    async def use_source(self, client: Client, message: m.UseSource) -> Ack | None:
        self._director(client)
        if self._event.channel(message.channel) is None:
            raise NotFound(f"no channel '{message.channel}'")
        await self._routing().use_source(message.channel, message.source)
        return SourceAck(channel=message.channel, source=message.source)

    async def set_output_language(self, client: Client, message: m.SetOutputLanguage) -> Ack | None:
        if self._event.venue(message.venue) is None:
            raise NotFound(f"no venue '{message.venue}'")
        grant = client.grant
        operator_venue = grant.venue if grant.role is Role.OPERATOR else None
        if not may_set_language(grant.directs, operator_venue, message.venue):
            raise Forbidden("only a director, or this venue's operator, sets its output language")
        self._limiter.check("language", client.identity, client.address, time.monotonic())
        try:
            changed = await self._routing().set_language(
                message.venue, message.language, client.identity
            )
        except LanguageError as error:
            raise NotFound(str(error), code="bad_language") from None
        return LanguageAck(venue=message.venue, language=message.language, changed=changed)

    async def talkback(self, client: Client, message: m.Talkback) -> Ack | None:
        venue = talkback_venue(client.grant, message.venue)
        if self._event.venue(venue) is None:
            raise NotFound(f"no venue '{venue}'")
        text = talkback_text(message.text)
        self._limiter.check("talkback", client.identity, client.address, time.monotonic())
        await self._talkback.say(talkback_frame(client.grant, venue, text, self._clock()))
        return TalkbackAck(venue=venue)

    def _caption_service(self) -> CaptionService:
        if self._captions is None:
            raise NotFound("captions do not run on this node", code="no_captions")
        return self._captions

    async def watch_captions(self, client: Client, message: m.WatchCaptions) -> Ack | None:
        await self._caption_service().watch(client, message.session, message.language)
        return None

    async def caption(self, client: Client, message: m.Caption) -> Ack | None:
        lines = await self._caption_service().send(
            client.grant, message.session, message.language, list(message.lines)
        )
        return CaptionAck(
            session=message.session, language=message.language, seqs=[line.seq for line in lines]
        )

    async def ask(self, client: Client, message: m.Ask) -> Ack | None:
        room_id = self._qa_room(message.room)
        origin_venue: str | None = None
        if message.origin == "sub_venue":
            origin_venue = client.grant.may_relay_for()
            if origin_venue is None:
                raise Forbidden("only a sub-venue operator relays questions from a venue")
        self._limiter.check("ask", client.identity, client.address, time.monotonic())
        now = self._clock()

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
        return QuestionAck(event_id=seq, question=question)

    async def vote(self, client: Client, message: m.Vote) -> Ack | None:
        room_id = self._qa_room(message.room)
        session = self._event.session(room_id)
        if session is not None and session.qa_votes == "signed_in" and client.grant.anonymous:
            raise Forbidden(
                "this room takes votes from invited people only: open your invite link",
                code="sign_in_to_vote",
            )
        self._limiter.check("vote", client.identity, client.address, time.monotonic())
        now = self._clock()
        seq, _ = await self._commit(
            room_id,
            lambda room: room.decide_vote(
                by=client.identity, question_id=message.question, on=message.on, now=now
            ),
        )
        if message.on:
            await self._watch_burst(room_id, message.question, client.address, now)
        return VoteAck(event_id=seq)

    async def _watch_burst(self, room_id: str, question: str, address: str, now: float) -> None:
        """Flag ``question`` to its moderators once its votes arrive in a burst from one address."""
        burst = self._votes.vote(room_id, question, address, time.monotonic())
        if burst is None:
            return
        flag = ev.Flagged(
            at=now, by=VOTE_WATCH, question=question, votes=burst, seconds=self._votes.window
        )
        await self._commit(room_id, lambda room: flag)

    async def moderate(self, client: Client, message: Any) -> Ack | None:
        room_id = self._qa_room(message.room)
        if not client.grant.moderates(room_id):
            raise Forbidden("only a moderator of this session may do that")
        seq, question = await self._commit(
            room_id, _moderation(client.identity, message, self._clock())
        )
        return QuestionAck(event_id=seq, question=question)

    async def _commit(self, room_id: str, decide: Decide) -> tuple[int, str | None]:
        seq, event, body = await self._rooms.commit(room_id, decide)
        # Other nodes apply it from the bus; the store has it should the bus be down.
        await self._bus.publish("event", {"room": room_id, "seq": seq, "event": body})
        question = getattr(event, "question", None)
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

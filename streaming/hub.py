"""The media plane's owner: channels, venue outputs and every WHIP/WHEP session."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiortc.exceptions import OperationError

from config import Event
from streaming import aiortc_glue as glue
from streaming.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    NotLive,
    Unauthenticated,
    UnsupportedOffer,
)
from streaming.feed import Feed
from streaming.http_rules import TrickleFragment, new_etag, new_session_id
from streaming.ports import MediaAccess, SwitchEvent, SwitchListener
from streaming.publisher import PublisherSession
from streaming.sdp_answer import advertise_addresses
from streaming.sdp_offer import Offer, check_play_offer, check_publish_offer, parse_offer
from streaming.source import ChannelSource
from streaming.stats import RateTracker, Totals
from streaming.subscriber import SubscriberSession
from streaming.venue_output import VenueOutput

logger = logging.getLogger(__name__)

Session = PublisherSession | SubscriberSession


@dataclass(frozen=True, slots=True)
class Negotiated:
    """A new session: its id, our SDP answer and its ETag."""

    session_id: str
    answer: str
    etag: str


@dataclass(slots=True)
class _SessionMeta:
    path: str
    etag: str
    remote_ufrag: str | None


def _offer_kinds(offer: Offer) -> list[str]:
    return [s.kind for s in offer.sections]


class MediaHub:
    """Creates and ends sessions, routes venue outputs, owns every background task."""

    def __init__(
        self,
        event: Event,
        video_codec: str,
        access: MediaAccess,
        advertised_addresses: tuple[str, ...] = (),
    ) -> None:
        self.event = event
        self.video_codec = video_codec
        self.access = access
        self.advertised_addresses = advertised_addresses
        self.sources = {c.id: ChannelSource(c.id, time.monotonic) for c in event.channels}
        self.outputs = {v.id: VenueOutput(v.id, self.source, self._switched) for v in event.venues}
        self.publishers: dict[str, PublisherSession] = {}
        self.subscribers: dict[str, SubscriberSession] = {}
        self.rates = RateTracker()
        self.totals = Totals()
        self.first_frames: list[float] = []
        self.first_frame_count = 0
        self.first_frame_sum = 0.0
        self._meta: dict[str, _SessionMeta] = {}
        self._switch_listeners: list[SwitchListener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._sampler: asyncio.Task[None] | None = None
        self._dropped_seen = 0

    # -- lookups -----------------------------------------------------------------------

    def source(self, channel: str) -> ChannelSource:
        try:
            return self.sources[channel]
        except KeyError:
            raise NotFound(f"there is no channel '{channel}' in this event") from None

    def venue_output(self, venue: str) -> VenueOutput:
        try:
            return self.outputs[venue]
        except KeyError:
            raise NotFound(f"there is no venue '{venue}' in this event") from None

    def session_path(self, session_id: str) -> str:
        meta = self._meta.get(session_id)
        if meta is None:
            raise NotFound("no such session (it may have ended)")
        return meta.path

    def session_etag(self, session_id: str) -> str:
        self.session_path(session_id)
        return self._meta[session_id].etag

    # -- lifecycle ---------------------------------------------------------------------

    def add_switch_listener(self, listener: SwitchListener) -> None:
        self._switch_listeners.append(listener)

    def start(self) -> None:
        """Start the once-a-second stats sampler."""
        self._sampler = asyncio.get_running_loop().create_task(self._sample_forever())

    async def aclose(self) -> None:
        """End every session and task."""
        if self._sampler is not None:
            self._sampler.cancel()
            await asyncio.gather(self._sampler, return_exceptions=True)
        sessions: list[Session] = [*self.publishers.values(), *self.subscribers.values()]
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for output in self.outputs.values():
            output.close()

    # -- access ------------------------------------------------------------------------

    @staticmethod
    def _require(allowed: bool, token: str | None) -> None:
        if allowed:
            return
        if token is None:
            raise Unauthenticated("a Bearer token is required")
        raise Forbidden("this token does not allow that")

    # -- WHIP --------------------------------------------------------------------------

    async def publish(self, channel: str, offer_sdp: str, token: str | None) -> Negotiated:
        """A WHIP offer for ``channel``; the new publisher replaces the old once live."""
        # Channel and venue ids are public (the schedule lists them): 404 before 401.
        source = self.source(channel)
        self._require(self.access.may_publish(token, channel), token)
        offer = parse_offer(offer_sdp)
        check_publish_offer(offer, self.video_codec)
        session = PublisherSession(
            new_session_id(), source, self.video_codec, self._publisher_live, self._end_soon
        )
        self.publishers[session.id] = session
        return await self._negotiate(session, offer, offer_sdp, f"/whip/{channel}/{session.id}")

    def _publisher_live(self, session: PublisherSession) -> None:
        for other in list(self.publishers.values()):
            if other is not session and other.channel == session.channel:
                logger.info("channel %s: a new publisher replaces %s", other.channel, other.id)
                self._end_soon(other)

    # -- WHEP --------------------------------------------------------------------------

    async def play(self, channel: str, offer_sdp: str, token: str | None) -> Negotiated:
        """A WHEP offer for a live channel."""
        source = self.source(channel)
        self._require(self.access.may_play(token, channel), token)
        if not source.live:
            raise NotLive(f"channel '{channel}' is not live")
        offer = parse_offer(offer_sdp)
        check_play_offer(offer, self.video_codec)
        return await self._subscribe(
            source, f"channel:{channel}", offer, offer_sdp, f"/whep/{channel}"
        )

    async def play_venue(self, venue: str, offer_sdp: str, token: str | None) -> Negotiated:
        """A WHEP offer for a venue output: always accepted; media starts when routed."""
        output = self.venue_output(venue)
        self._require(self.access.may_play_venue(token, venue), token)
        offer = parse_offer(offer_sdp)
        check_play_offer(offer, self.video_codec)
        return await self._subscribe(
            output, f"venue:{venue}", offer, offer_sdp, f"/whep/venue/{venue}"
        )

    async def _subscribe(
        self, feed: Feed, label: str, offer: Offer, offer_sdp: str, base: str
    ) -> Negotiated:
        session = SubscriberSession(new_session_id(), feed, label, self.video_codec, self._end_soon)
        self.subscribers[session.id] = session
        return await self._negotiate(session, offer, offer_sdp, f"{base}/{session.id}")

    async def _negotiate(
        self, session: Session, offer: Offer, offer_sdp: str, path: str
    ) -> Negotiated:
        try:
            answer = await session.answer(offer_sdp, _offer_kinds(offer))
        except OperationError as error:
            await self._end(session)
            raise UnsupportedOffer(f"no common codec: {error}") from None
        except ValueError as error:
            await self._end(session)
            raise BadRequest(f"the offer was refused: {error}") from None
        except Exception:
            await self._end(session)
            logger.exception("negotiation failed")
            raise BadRequest("the offer could not be applied") from None
        etag = new_etag()
        self._meta[session.id] = _SessionMeta(path, etag, offer.ice_ufrag)
        return Negotiated(session.id, advertise_addresses(answer, self.advertised_addresses), etag)

    # -- session URLs ------------------------------------------------------------------

    def _find(self, session_id: str) -> Session:
        session: Session | None = self.publishers.get(session_id) or self.subscribers.get(
            session_id
        )
        if session is None:
            raise NotFound("no such session (it may have ended)")
        return session

    async def end(self, session_id: str) -> None:
        """DELETE on a session URL."""
        await self._end(self._find(session_id))

    async def trickle(self, session_id: str, fragment: TrickleFragment) -> None:
        """PATCH with candidates; an ICE restart is refused (aiortc cannot do one)."""
        session = self._find(session_id)
        meta = self._meta[session_id]
        if fragment.ufrag is not None and fragment.ufrag != meta.remote_ufrag:
            raise UnsupportedOffer("ICE restarts are not supported; start a new session")
        mids = [t.mid for t in session.pc.getTransceivers()]
        for mid, line in fragment.candidates:
            try:
                candidate = glue.remote_candidate(line, mid if mid in mids else mids[0])
                await session.add_remote_candidate(candidate)
            except (ValueError, IndexError):
                raise BadRequest(f"malformed candidate: {line[:80]}") from None

    # -- routing -----------------------------------------------------------------------

    def route(self, venue: str, channel: str | None) -> VenueOutput:
        """Route ``channel`` (None: nothing) to ``venue``'s output."""
        output = self.venue_output(venue)
        if channel is not None:
            self.source(channel)
        output.switch_to(channel)
        return output

    def _switched(self, event: SwitchEvent) -> None:
        logger.info("venue %s now shows %s (was %s)", event.venue, event.channel, event.previous)
        for listener in self._switch_listeners:
            try:
                listener.venue_switched(event)
            except Exception:
                logger.exception("switch listener failed")

    # -- ending ------------------------------------------------------------------------

    def _end_soon(self, session: Session) -> None:
        task = asyncio.get_running_loop().create_task(self._end(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end(self, session: Session) -> None:
        self._meta.pop(session.id, None)
        if isinstance(session, PublisherSession):
            self.publishers.pop(session.id, None)
        else:
            if self.subscribers.pop(session.id, None) is not None:
                self.totals.add_ended(session)
        await session.close()

    # -- stats -------------------------------------------------------------------------

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.sample()

    def sample(self) -> None:
        """Update bitrates and frame rates from the counters (once a second)."""
        now = time.monotonic()
        live: set[Any] = set()
        for publisher in self.publishers.values():
            for track in publisher.tracks:
                if track.ingest is not None:
                    key = (publisher.id, track.video)
                    live.add(key)
                    self.rates.sample(key, now, track.ingest.stats.bytes, track.ingest.stats.frames)
        for subscriber in self.subscribers.values():
            if subscriber.first_frame_after is not None and not subscriber.first_frame_counted:
                subscriber.first_frame_counted = True
                self.first_frames.append(subscriber.first_frame_after)
                self.first_frame_count += 1
                self.first_frame_sum += subscriber.first_frame_after
                del self.first_frames[:-1000]
            for sub_track in subscriber.tracks:
                if sub_track.writer is not None:
                    key = (subscriber.id, sub_track.video)
                    live.add(key)
                    stats = sub_track.writer.stats
                    self.rates.sample(key, now, stats.bytes_sent, stats.frames_sent)
        self.rates.forget_except(live)
        self._log_drops()

    def _log_drops(self) -> None:
        """One aggregated line per second about slow subscribers, not one per packet."""
        slow = 0
        dropped = 0
        for subscriber in self.subscribers.values():
            drops = sum(t.writer.stats.dropped for t in subscriber.tracks if t.writer)
            dropped += drops
            slow += drops > 0
        new = dropped - self._dropped_seen
        self._dropped_seen = dropped
        if new > 0:
            logger.warning("dropped %d packets for %d slow subscriber(s)", new, slow)


def callback_listener(callback: Callable[[SwitchEvent], None]) -> SwitchListener:
    """A ``SwitchListener`` from a plain function."""

    class _Listener:
        def venue_switched(self, event: SwitchEvent) -> None:
            callback(event)

    return _Listener()

"""The media plane's owner: channels, venue outputs and every WHIP/WHEP session."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from types import MappingProxyType

from aiortc.exceptions import OperationError

from config import Event, MediaSettings, RelaySettings
from streaming import aiortc_glue as glue
from streaming.admission import Admission, AdmissionLimits, Ticket
from streaming.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    NotLive,
    OverCapacity,
    Unauthenticated,
    UnsupportedOffer,
)
from streaming.feed import Feed
from streaming.http_rules import TrickleFragment, new_session_id
from streaming.hub_languages import HubLanguages, event_languages, is_interpreter
from streaming.hub_snapshots import HubSnapshots, venue_output_snapshot
from streaming.ice_ports import AnyFreePort, IcePorts
from streaming.language_relay import LanguageRelays
from streaming.languages import LanguageDesk, LanguageTrack, parse_language
from streaming.memory import HeapTrimmer
from streaming.nack import RepairTuning
from streaming.native_batch import new_sources
from streaming.ports import (
    MediaAccess,
    SourceEvent,
    SourceListener,
    SourceRole,
    SwitchEvent,
    SwitchListener,
    UpstreamLocator,
)
from streaming.publisher import PublisherSession
from streaming.rate_limit import TokenBucket
from streaming.relay import RelayLinks, RelayPull
from streaming.sdp_answer import advertise_addresses, with_opus_fec
from streaming.sdp_offer import Offer, check_play_offer, check_publish_offer, parse_offer
from streaming.session_urls import Negotiated, SessionUrls
from streaming.slates import SlateBook
from streaming.snapshots import VenueOutputSnapshot
from streaming.source import ChannelSource
from streaming.stats import StatsSampler
from streaming.subscriber import SubscriberSession
from streaming.venue_output import VenueOutput
from streaming.watchdog import SourceWatch, WatchSettings
from streaming.whep_client import WhepClient

logger = logging.getLogger(__name__)

Session = PublisherSession | SubscriberSession


def _offer_kinds(offer: Offer) -> list[str]:
    return [s.kind for s in offer.sections]


class MediaHub(HubSnapshots, HubLanguages):
    """Creates and ends sessions, routes venue outputs, owns every background task.

    Its state stays inside; readers get frozen snapshots built when they ask.
    """

    def __init__(
        self,
        event: Event,
        video_codec: str,
        access: MediaAccess,
        advertised_addresses: tuple[str, ...] = (),
        limits: MediaSettings | None = None,
        watch: WatchSettings | None = None,
        now: Callable[[], datetime] | None = None,
        ice_ports: IcePorts | None = None,
        upstream: UpstreamLocator | None = None,
        relay: RelaySettings | None = None,
        relay_token: Callable[[], str | None] | None = None,
        session_ids: Callable[[], str] = new_session_id,  # a worker's ids name it (web/)
    ) -> None:
        self.video_codec, self._new_id = video_codec, session_ids
        self._ice_ports = ice_ports or AnyFreePort()
        self.access = access
        self._advertised_addresses = advertised_addresses
        limits = limits or MediaSettings()
        self._admission = Admission(AdmissionLimits.from_settings(limits))
        self._connect_timeout = float(limits.connect_timeout_seconds)
        self._language_limits = limits  # booth size, switch rate (streaming/hub_languages.py)
        self._switch_budgets: weakref.WeakKeyDictionary[SubscriberSession, TokenBucket] = (
            weakref.WeakKeyDictionary()
        )
        self._tuning = RepairTuning.from_settings(limits)
        self.reaped = 0
        self._trimmer = HeapTrimmer()
        self._sources = new_sources(event, limits)
        self._watch = SourceWatch(self._sources, self._source_changed, watch or WatchSettings())
        self._languages = LanguageDesk(self._source, known=event_languages(event))
        self._slates = SlateBook(
            event,
            video_codec,
            self._slate_ready,
            now or (lambda: datetime.now(UTC)),
            wanted=self._has_venue_viewers,
        )
        self._outputs = {
            v.id: VenueOutput(
                v.id,
                self._source,
                self._switched,
                self._slates.feeds[v.id],
                self._watch.is_live,
                self._languages.listened,
                v.language,
            )
            for v in event.venues
        }
        self._publishers: dict[str, PublisherSession] = {}
        self._subscribers: dict[str, SubscriberSession] = {}
        self._stats = StatsSampler(
            MappingProxyType(self._publishers), MappingProxyType(self._subscribers)
        )
        self._urls = SessionUrls()
        self._tokens: dict[str, str] = {}  # each session's token: ended if it is revoked
        self._switch_listeners: list[SwitchListener] = []
        self._source_listeners: list[SourceListener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # An edge: channels nobody publishes here are pulled from ``upstream``, with
        # ``relay_token`` (this node's own credentials), else the static ``relay.token``.
        self._relays: RelayLinks | None = None
        self._language_relays: LanguageRelays | None = None
        if upstream is not None:
            relay = relay or RelaySettings()
            static_token = relay.token
            credentials = relay_token or (lambda: static_token)
            self._relays = RelayLinks(
                self._sources,
                upstream,
                WhepClient(credentials),
                relay,
                video_codec,
                self._wanted,
                self._relay_session,
                tuning=self._tuning,
            )
            # A relayed channel's language tracks come over links of their own.
            self._language_relays = LanguageRelays(
                self._languages, self._source, WhepClient(credentials), relay, video_codec
            )

    # -- lookups -----------------------------------------------------------------------

    def _source(self, channel: str) -> ChannelSource:
        try:
            return self._sources[channel]
        except KeyError:
            raise NotFound(f"there is no channel '{channel}' in this event") from None

    def _venue_output(self, venue: str) -> VenueOutput:
        try:
            return self._outputs[venue]
        except KeyError:
            raise NotFound(f"there is no venue '{venue}' in this event") from None

    def session_at(self, path: str) -> str:
        """The id of the session whose URL is ``path`` (secret included); else ``NotFound``."""
        return self._urls.resolve(path)

    def session_etag(self, session_id: str) -> str:
        return self._urls.get(session_id).etag

    @property
    def session_urls(self) -> int:
        """Session URLs that work now (one per live session)."""
        return len(self._urls)

    @property
    def heap_trims(self) -> int:
        """How often freed memory was handed back after a burst of sessions ended."""
        return self._trimmer.trims

    @property
    def admitted(self) -> int:
        """WHEP sessions admission control counts now."""
        return self._admission.total

    def channel_feed(self, channel: str) -> Feed:
        """The live source of ``channel`` as a feed readers attach to (the audio tap)."""
        return self._source(channel)

    # -- lifecycle ---------------------------------------------------------------------

    def add_switch_listener(self, listener: SwitchListener) -> None:
        self._switch_listeners.append(listener)

    def add_source_listener(self, listener: SourceListener) -> None:
        self._source_listeners.append(listener)

    def start(self) -> None:
        """Start the stats sampler, the source health watch and the slates."""
        self._stats.start()
        self._watch.start()
        self._slates.start()
        if self._relays is not None:
            self._relays.start()
        if self._language_relays is not None:
            self._language_relays.start()

    async def aclose(self) -> None:
        """End every session and task."""
        if self._language_relays is not None:
            await self._language_relays.aclose()
        if self._relays is not None:
            await self._relays.aclose()
        await self._stats.aclose()
        await self._watch.aclose()
        await self._slates.aclose()
        sessions: list[Session] = [*self._publishers.values(), *self._subscribers.values()]
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for output in self._outputs.values():
            output.close()
        self._languages.close()
        self._trimmer.close()

    # -- access ------------------------------------------------------------------------

    @staticmethod
    def _require(allowed: bool, token: str | None) -> None:
        if allowed:
            return
        if token is None:
            raise Unauthenticated("a Bearer token is required")
        raise Forbidden("this token does not allow that")

    # -- WHIP --------------------------------------------------------------------------

    async def publish(
        self, channel: str, offer_sdp: str, token: str | None, *, backup: bool = False
    ) -> Negotiated:
        """A WHIP offer for ``channel`` (its backup with ``backup``); it replaces the
        publisher in the same role once live. (An interpreter's: ``publish_interpretation``.)"""
        # Channel and venue ids are public (the schedule lists them): 404 before 401.
        source = self._source(channel)
        self._require(self.access.may_publish(token, channel), token)
        offer = parse_offer(offer_sdp)
        check_publish_offer(offer, self.video_codec)
        session = PublisherSession(
            self._new_id(),
            source,
            self.video_codec,
            self._publisher_live,
            self._end_soon,
            "backup" if backup else "primary",
            self._ice_ports,
            self._tuning,
        )
        self._publishers[session.id] = session
        self._remember_token(session, token)
        return await self._negotiate(session, offer, offer_sdp, f"/whip/{channel}", None)

    def _publisher_live(self, session: PublisherSession) -> None:
        if is_interpreter(session):
            return  # a booth has many seats: nobody is replaced
        for other in list(self._publishers.values()):
            if (
                other is not session
                and not is_interpreter(other)
                and other.channel == session.channel
                and other.role == session.role
            ):
                logger.info("channel %s: a new %s replaces %s", other.channel, other.role, other.id)
                self._end_soon(other)

    # -- WHEP --------------------------------------------------------------------------

    async def play(
        self,
        channel: str,
        offer_sdp: str,
        token: str | None,
        address: str,
        language: str | None = None,
    ) -> Negotiated:
        """A WHEP offer for a live channel from client ``address`` (admission counts it);
        its audio is the ``language`` track (the floor while that is not live)."""
        source = self._source(channel)
        language = parse_language(language)
        audio = None if language is None else self._languages.listened(channel, language)
        self._require(self.access.may_play(token, channel), token)
        if not source.live and self._relays is None:
            raise NotLive(f"channel '{channel}' is not live")
        offer = parse_offer(offer_sdp)
        check_play_offer(offer, self.video_codec)
        # An edge pulls the channel from upstream (a good offer first: junk pulls nothing).
        if not source.live and (self._relays is None or not await self._relays.bring_live(channel)):
            raise NotLive(f"channel '{channel}' is not live")
        label, base = f"channel:{channel}", f"/whep/{channel}"
        return await self._subscribe(source, label, offer, offer_sdp, base, address, token, audio)

    async def play_venue(
        self, venue: str, offer_sdp: str, token: str | None, address: str
    ) -> Negotiated:
        """A WHEP offer for a venue output: always accepted; media starts when routed."""
        output = self._venue_output(venue)
        self._require(self.access.may_play_venue(token, venue), token)
        offer = parse_offer(offer_sdp)
        check_play_offer(offer, self.video_codec)
        negotiated = await self._subscribe(
            output, f"venue:{venue}", offer, offer_sdp, f"/whep/venue/{venue}", address, token
        )
        self._slates.wake()
        return negotiated

    def _wanted(self) -> set[str]:
        """Channels with a local player, or routed to a venue output with one (for relays)."""
        channels: set[str] = set()
        venues: set[str] = set()
        for session in self._subscribers.values():
            kind, _, name = session.label.partition(":")
            (channels if kind == "channel" else venues).add(name)
        for venue in venues:
            routed = self._outputs[venue].routed_channel if venue in self._outputs else None
            if routed is not None:
                channels.add(routed)
        return channels

    def _relay_session(self, session: RelayPull, started: bool) -> None:
        # Listed with the publishers while it runs: stats, snapshots and metrics see it.
        if started:
            self._publishers[session.id] = session
        else:
            self._publishers.pop(session.id, None)

    def _has_venue_viewers(self, venue: str) -> bool:
        label = f"venue:{venue}"
        return any(s.label == label for s in self._subscribers.values())

    async def _subscribe(
        self,
        feed: Feed,
        label: str,
        offer: Offer,
        offer_sdp: str,
        base: str,
        address: str,
        token: str | None,
        audio: LanguageTrack | None = None,
    ) -> Negotiated:
        # Admitted before anything costly; the ticket goes back when the session ends.
        ticket = self._admission.admit(address, label, time.monotonic())
        session = SubscriberSession(
            self._new_id(),
            feed,
            label,
            self.video_codec,
            self._end_soon,
            self._ice_ports,
            self._tuning,
        )
        if audio is not None:
            session.listen_to(audio, audio.language)
        self._subscribers[session.id] = session
        self._remember_token(session, token)
        return await self._negotiate(session, offer, offer_sdp, base, ticket)

    def _remember_token(self, session: Session, token: str | None) -> None:
        if token:
            self._tokens[session.id] = token

    def end_revoked(self) -> int:
        """End every session whose token has been revoked (the revocation list changed)."""
        return self.end_opened_with(self.access.revoked, "its token was revoked")

    def end_opened_with(self, doomed: Callable[[str], bool], why: str) -> int:
        """End every session opened with a token ``doomed`` says must go (logged: ``why``)."""
        ended = 0
        for session_id, token in list(self._tokens.items()):
            if not doomed(token):
                continue
            session = self._publishers.get(session_id) or self._subscribers.get(session_id)
            if session is not None:
                logger.warning("session %s ends: %s", session_id, why)
                self._end_soon(session)
                ended += 1
            # Forgotten now, so a second revocation does not end it twice.
            del self._tokens[session_id]
        return ended

    async def _negotiate(
        self, session: Session, offer: Offer, offer_sdp: str, base: str, ticket: Ticket | None
    ) -> Negotiated:
        url = self._urls.add(session.id, base, offer.ice_ufrag, ticket)
        # Armed before negotiating, so even a set-up cut short (a cancelled request) ends.
        url.reaper = asyncio.get_running_loop().call_later(
            self._connect_timeout, self._reap_unconnected, session
        )
        try:
            answer = await session.answer(offer_sdp, _offer_kinds(offer))
        except OverCapacity:  # no media port left (ice.udp_port_min..max)
            await self._end(session)
            raise
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
        answer = advertise_addresses(answer, self._advertised_addresses)
        if offer.opus_fec:  # keep what the offer asked for: FEC survives every hop
            answer = with_opus_fec(answer)
        return Negotiated(session.id, answer, url.etag, url.path)

    # -- session URLs ------------------------------------------------------------------

    def _find(self, session_id: str) -> Session:
        session: Session | None = self._publishers.get(session_id) or self._subscribers.get(
            session_id
        )
        if session is None:
            raise NotFound("no such session (it may have ended)")
        return session

    async def end(self, session_id: str) -> None:
        """DELETE on a session URL."""
        session = self._find(session_id)
        if isinstance(session, PublisherSession):
            session.ended_cleanly = True
        await self._end(session)

    async def trickle(self, session_id: str, fragment: TrickleFragment) -> None:
        """PATCH with candidates; an ICE restart is refused (aiortc cannot do one)."""
        session = self._find(session_id)
        meta = self._urls.get(session_id)
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

    def route(self, venue: str, channel: str | None) -> VenueOutputSnapshot:
        """Route ``channel`` (None: nothing) to ``venue``'s output."""
        output = self._venue_output(venue)
        if channel is not None:
            self._source(channel)
        output.switch_to(channel)
        return venue_output_snapshot(output)

    def use_source(self, channel: str, role: SourceRole) -> None:
        """The director's choice of publisher for ``channel``, cut in at its next keyframe."""
        self._source(channel)
        self._watch.use_source(channel, role)

    def _source_changed(self, event: SourceEvent) -> None:
        # Listeners must tell a relayed source from a local publisher (directory claims).
        on_air = self._sources[event.channel].publisher
        event = dataclasses.replace(event, relayed=isinstance(on_air, RelayPull))
        logger.info(
            "channel %s is %s (on air: %s, backup ready: %s)",
            event.channel,
            event.state,
            event.source,
            event.backup_ready,
        )
        for output in self._outputs.values():
            if output.routed_channel == event.channel:
                output.refresh()
        for listener in self._source_listeners:
            try:
                listener.source_changed(event)
            except Exception:
                logger.exception("source listener failed")

    def _slate_ready(self, venue: str) -> None:
        self._outputs[venue].refresh()

    def _switched(self, event: SwitchEvent) -> None:
        logger.info("venue %s now shows %s (was %s)", event.venue, event.channel, event.previous)
        for listener in self._switch_listeners:
            try:
                listener.venue_switched(event)
            except Exception:
                logger.exception("switch listener failed")

    # -- ending ------------------------------------------------------------------------

    def _reap_unconnected(self, session: Session) -> None:
        # Never connected: a client that went away, or a flood of offers nobody answers.
        if session.connection_state != "connected" and session.id in self._urls:
            # Debug only: a flood of offers would be a flood of lines; metrics count them.
            logger.debug("session %s did not connect in time; ending it", session.id)
            self.reaped += 1
            self._end_soon(session)

    def _end_soon(self, session: Session) -> None:
        task = asyncio.get_running_loop().create_task(self._end(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end(self, session: Session) -> None:
        self._tokens.pop(session.id, None)
        url = self._urls.pop(session.id)
        if url is not None:
            if url.reaper is not None:
                url.reaper.cancel()
            if url.ticket is not None:
                self._admission.release(url.ticket)
        if isinstance(session, PublisherSession):
            self._publishers.pop(session.id, None)
        elif self._subscribers.pop(session.id, None) is not None:
            self._stats.subscriber_ended(session)
        await session.close()
        self._trimmer.session_ended()


def callback_listener(callback: Callable[[SwitchEvent], None]) -> SwitchListener:
    """A ``SwitchListener`` from a plain function."""

    class _Listener:
        def venue_switched(self, event: SwitchEvent) -> None:
            callback(event)

    return _Listener()

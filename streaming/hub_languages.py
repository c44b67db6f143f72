"""The media hub's language half: interpreters' WHIP, listeners' choice, booth hand-over.

``MediaHub`` inherits these (like ``HubSnapshots``); the tracks themselves live in
``streaming/languages.py``. Kept apart so the hub's own module stays about sessions and
routing.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable

from config import Event, MediaSettings
from streaming.admission import CAP_RETRY_AFTER, Ticket
from streaming.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    OverCapacity,
    TooManyRequests,
    Unauthenticated,
)
from streaming.feed import Feed
from streaming.ice_ports import IcePorts
from streaming.languages import BoothSeat, BoothSnapshot, LanguageDesk, parse_language
from streaming.nack import RepairTuning
from streaming.ports import LanguageListener, MediaAccess
from streaming.publisher import PublisherSession
from streaming.rate_limit import TokenBucket
from streaming.relay import RelayPull
from streaming.sdp_offer import Offer, check_publish_offer, parse_offer
from streaming.session_urls import Negotiated
from streaming.source import ChannelSource
from streaming.subscriber import SubscriberSession
from streaming.venue_output import VenueOutput


class HubLanguages:
    """Language tracks as the hub's callers see them (attributes are the hub's)."""

    access: MediaAccess
    video_codec: str
    _languages: LanguageDesk
    _publishers: dict[str, PublisherSession]
    _subscribers: dict[str, SubscriberSession]
    _ice_ports: IcePorts
    _tuning: RepairTuning
    _new_id: Callable[[], str]
    _language_limits: MediaSettings
    _switch_budgets: weakref.WeakKeyDictionary[SubscriberSession, TokenBucket]

    def _source(self, channel: str) -> ChannelSource:
        raise NotImplementedError

    def _venue_output(self, venue: str) -> VenueOutput:
        raise NotImplementedError

    def _publisher_live(self, session: PublisherSession) -> None:
        raise NotImplementedError

    def _end_soon(self, session: PublisherSession | SubscriberSession) -> None:
        raise NotImplementedError

    def _remember_token(
        self, session: PublisherSession | SubscriberSession, token: str | None
    ) -> None:
        raise NotImplementedError

    async def _negotiate(
        self,
        session: PublisherSession,
        offer: Offer,
        offer_sdp: str,
        base: str,
        ticket: Ticket | None,
    ) -> Negotiated:
        raise NotImplementedError

    def language_feed(self, channel: str, language: str) -> Feed:
        """``channel``'s ``language`` track as a feed readers attach to (the recorder)."""
        self._source(channel)
        return self._languages.track(channel, language)

    def live_languages(self, channel: str) -> tuple[str, ...]:
        """The languages of ``channel`` with an interpreter on air now."""
        return self._languages.live_languages(channel)

    def add_language_listener(self, listener: LanguageListener) -> None:
        """``listener.language_changed`` hears every on-air change in every booth."""
        self._languages.add_listener(listener)

    def _interpreter(self, channel: str, language: str | None, token: str | None) -> str:
        """The name of the interpreter ``token`` is for that booth; 401/403 otherwise."""
        self._source(channel)
        if language is None:
            raise BadRequest("?lang= names the language track to publish, like ja or ru")
        name = self.access.interpreter(token, channel, language)
        if name is None:
            if token is None:
                raise Unauthenticated("an interpreter token is required")
            raise Forbidden(f"this token does not interpret channel '{channel}' into '{language}'")
        return name

    async def publish_interpretation(
        self, channel: str, language: str | None, offer_sdp: str, token: str | None
    ) -> Negotiated:
        """WHIP ``?lang=``: an interpreter's voice, a seat in that language's booth; it
        replaces nobody (the booth decides who is on air)."""
        name = self._interpreter(channel, parse_language(language), token)
        assert language is not None
        offer = parse_offer(offer_sdp)
        check_publish_offer(offer, self.video_codec)
        if offer.of_kind("video"):
            raise BadRequest("an interpreter publishes audio only: offer no video section")
        self._check_booth_room(channel, language)
        seat = self._languages.new_seat(channel, language, name)
        session = PublisherSession(
            self._new_id(),
            seat,
            self.video_codec,
            self._publisher_live,
            self._end_soon,
            "primary",
            self._ice_ports,
            self._tuning,
        )
        self._publishers[session.id] = session
        self._remember_token(session, token)
        return await self._negotiate(session, offer, offer_sdp, f"/whip/{channel}", None)

    def _check_booth_room(self, channel: str, language: str) -> None:
        """``OverCapacity`` when that booth has ``max_interpreters_per_booth`` sessions
        open here (connected or still connecting)."""
        cap = self._language_limits.max_interpreters_per_booth
        open_here = sum(
            1
            for session in self._publishers.values()
            if isinstance(session.source, BoothSeat)
            and (session.source.track.channel, session.source.track.language) == (channel, language)
        )
        if open_here >= cap:
            raise OverCapacity(
                f"the '{language}' booth of {channel} has {cap} interpreter sessions already",
                CAP_RETRY_AFTER,
            )

    def _spend_switch(self, session: SubscriberSession) -> None:
        """``TooManyRequests`` past the session's switch budget (burst, then per minute)."""
        limits = self._language_limits
        budget = self._switch_budgets.get(session)
        if budget is None:
            rate = limits.language_switches_per_minute / 60
            budget = self._switch_budgets[session] = TokenBucket(rate, limits.language_switch_burst)
        if not budget.allow(time.monotonic()):
            wait = math.ceil(1 / budget.rate)
            raise TooManyRequests("this player switches language too often; wait", wait)

    def choose_language(self, session_id: str, language: object) -> str | None:
        """A WHEP player's audio from now on: ``language`` (a code; None or "floor": the
        floor). No renegotiation; answers the language chosen."""
        chosen = parse_language(language)
        session = self._subscribers.get(session_id)
        if session is None:
            raise NotFound("no such player session (it may have ended)")
        self._spend_switch(session)
        kind, _, channel = session.label.partition(":")
        if kind != "channel":
            raise Conflict("a venue output's language is set by the director, not a player")
        feed = session.feed if chosen is None else self._languages.listened(channel, chosen)
        session.listen_to(feed, chosen)
        return chosen

    def take_over(self, channel: str, language: str, token: str | None) -> str:
        """The interpreter of ``token`` goes on air in that booth (their own live session)."""
        name = self._interpreter(channel, parse_language(language), token)
        seat = self._languages.seat_of(channel, language, name)
        if seat is None:
            raise Conflict(f"{name} has no live session in the '{language}' booth to put on air")
        seat.track.take(seat)
        return name

    def floor_here(self, channel: str) -> bool:
        """The channel's floor is live from a publisher of this process, not pulled from a
        sibling worker or an upstream: where its booth sits (web/worker_proxy.py)."""
        source = self._source(channel)
        return source.live and not isinstance(source.publisher, RelayPull | None)

    def pulled_here(self, channel: str) -> bool:
        """The channel's floor comes over a relay link (from an upstream node or a sibling
        worker): its origin records it, so this process does not (``streaming/recorder``)."""
        return isinstance(self._source(channel).publisher, RelayPull)

    def booths(self, channel: str, token: str | None) -> tuple[BoothSnapshot, ...]:
        """Who is connected and on air in ``channel``'s booths (for its interpreters,
        producers and directors)."""
        self._source(channel)
        if not self.access.may_see_booth(token, channel):
            if token is None:
                raise Unauthenticated("a token is required")
            raise Forbidden("this token does not show this channel's booths")
        return self._languages.booths(channel)

    def set_output_language(self, venue: str, language: str | None) -> None:
        """``venue``'s output plays its channel's ``language`` track (None: the floor)."""
        output = self._venue_output(venue)
        chosen = parse_language(language)
        if chosen is not None and not self._languages.listenable(chosen):
            raise BadRequest(f"'{chosen}' is not a language of this event")
        output.set_language(chosen)


def event_languages(event: Event) -> frozenset[str]:
    """Every language the event names: its sessions' (floor and interpreted), its venues'."""
    named = {code for session in event.sessions for code in session.languages}
    named |= {venue.language for venue in event.venues if venue.language}
    return frozenset(named)


def is_interpreter(session: PublisherSession) -> bool:
    """A session publishing a language track (not the channel's floor)."""
    return isinstance(session.source, BoothSeat)

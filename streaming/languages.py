"""Language tracks: a programme channel's floor audio plus one track per interpreted language.

Interpreters of one language share a booth: each WHIP session is a seat; several may be
connected, exactly one is on air (the first to connect, until another takes over). A
language track is a feed of audio only: the on-air interpreter's packets, or the floor
(the channel's own audio) while nobody is on air, so a listener who chose ``ja`` hears
the floor at once when the last Japanese interpreter leaves and the interpreter again
when one is back. Every change is a new epoch at the listener's writer, which re-bases
sequence numbers and timestamps the way a venue-output switch does: no renegotiation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from config.languages import language_problem
from streaming.consumers import Consumers
from streaming.errors import BadRequest
from streaming.feed import PacketConsumer
from streaming.packet import MediaPacket
from streaming.ports import LanguageEvent, LanguageListener, SourceRole
from streaming.send_batch import SendBatch
from streaming.source import ChannelSource, KeyframeSource, next_epoch

logger = logging.getLogger(__name__)

# What a client may send instead of a code to mean the floor.
FLOOR_WORDS = ("", "floor")


def parse_language(value: object) -> str | None:
    """A requested language: a code, or None for the floor; ``BadRequest`` otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 35:
        raise BadRequest("expected a language code like ja or ru, or null / 'floor' (the floor)")
    if value in FLOOR_WORDS:
        return None
    problem = language_problem(value)  # the event files' rule: ISO 639-1 (jp is not ja)
    if problem is not None:
        shown = problem if len(problem) <= 120 else problem[:120] + "…"
        raise BadRequest(f"{shown} (or 'floor')")
    return value


class BoothSeat(ChannelSource):
    """One interpreter's WHIP session's "source": it feeds their language track.

    A ``ChannelSource`` to the publisher session (so the ingest path stays one path);
    its packets go to the booth, which forwards them only while this seat is on air.
    """

    def __init__(self, track: LanguageTrack, name: str) -> None:
        super().__init__(track.channel, time.monotonic, track.batch)
        self.track = track
        self.name = name  # the identity in their token: who the booth shows, who may take
        # Fed by a relay link from the node with the interpreters (streaming/language_relay.py):
        # not shown in the booth, not reported in language events.
        self.relayed = False
        self.joined_at: float | None = None

    @property
    def language(self) -> str:
        return self.track.language

    def attach_publisher(self, publisher: KeyframeSource, role: SourceRole = "primary") -> int:
        self.publisher = publisher
        self.epoch = next_epoch()
        self.joined_at = time.monotonic()
        self.track.seated(self)
        return self.epoch

    def detach_publisher(self, publisher: KeyframeSource, *, cleanly: bool = False) -> None:
        if self.publisher is publisher:
            self.publisher = None
            self.track.left(self)

    def request_keyframe(self) -> None:
        """Audio only: there is no picture to ask for."""

    def push(self, packet: MediaPacket) -> None:
        self.track.push(self, packet)


class _FloorTap:
    """The floor's audio for a language track while nobody is on air in its booth."""

    kinds = (False,)

    def __init__(self, track: LanguageTrack) -> None:
        self.track = track

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self.track._from_floor(packet, frame, batch)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Audio needs no replay."""


class LanguageTrack:
    """One channel's audio in one language: a feed of audio packets (no video)."""

    def __init__(
        self, floor: ChannelSource, language: str, on_air_changed: Callable[[LanguageTrack], None]
    ) -> None:
        self.floor = floor
        self.channel = floor.channel
        self.language = language
        self.batch = floor.batch
        self.seats: list[BoothSeat] = []  # connected interpreters, in the order they came
        self.on_air: BoothSeat | None = None
        self._on_air_changed = on_air_changed
        self._consumers = Consumers()
        self._owner = f"{floor.channel} ({language})"
        self._floor_tap: _FloorTap | None = None
        # The interpreter last reported on air (None: nobody, or a relayed seat).
        self.reported: str | None = None

    @property
    def live(self) -> bool:
        """An interpreter is on air (otherwise listeners hear the floor)."""
        return self.on_air is not None

    @property
    def consumer_count(self) -> int:
        return self._consumers.count()

    # -- the booth ---------------------------------------------------------------------

    def seated(self, seat: BoothSeat) -> None:
        """``seat``'s media started: in the booth; on air if nobody else is."""
        if seat not in self.seats:
            self.seats.append(seat)
        if self.on_air is None:
            self._put_on_air(seat)

    def left(self, seat: BoothSeat) -> None:
        """``seat`` ended; if it was on air, the same interpreter's newer seat (their
        page reconnected) takes over, else the one connected longest, else the floor."""
        if seat in self.seats:
            self.seats.remove(seat)
        if self.on_air is seat:
            same = [s for s in self.seats if s.name == seat.name and s.relayed == seat.relayed]
            successor = same[-1] if same else (self.seats[0] if self.seats else None)
            self._put_on_air(successor)

    def take(self, seat: BoothSeat) -> None:
        """Put ``seat`` on air: from the next packet on, its voice is the track."""
        if seat not in self.seats:
            raise ValueError("that interpreter is not connected to this booth")
        if self.on_air is not seat:
            self._put_on_air(seat)

    def _put_on_air(self, seat: BoothSeat | None) -> None:
        self.on_air = seat
        self._tap_floor(seat is None and bool(self.consumer_count))
        logger.info(
            "channel %s, %s: %s on air",
            self.channel,
            self.language,
            seat.name if seat else "nobody (the floor)",
        )
        try:
            self._on_air_changed(self)
        except Exception:
            logger.exception("language listener failed for %s", self._owner)

    # -- packets -----------------------------------------------------------------------

    def push(self, seat: BoothSeat, packet: MediaPacket) -> None:
        """One packet from an interpreter: forwarded if they are on air and it is audio."""
        seat.slots["primary"].last_packet_at = packet.arrival
        if seat is not self.on_air or packet.video or packet.epoch != seat.epoch:
            return
        self._consumers.deliver(packet, (), self.batch, self._owner)
        self.batch.flush()

    def _from_floor(
        self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch
    ) -> None:
        if self.on_air is None:  # delivered in the floor's own batch; it flushes it
            self._consumers.deliver(packet, frame, batch, self._owner)

    def _tap_floor(self, wanted: bool) -> None:
        if wanted and self._floor_tap is None:
            self._floor_tap = _FloorTap(self)
            self.floor.add_consumer(self._floor_tap)
        elif not wanted and self._floor_tap is not None:
            self.floor.remove_consumer(self._floor_tap)
            self._floor_tap = None

    # -- the Feed protocol -------------------------------------------------------------

    def add_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.add(consumer)
        self._tap_floor(self.on_air is None and bool(self.consumer_count))

    def remove_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.remove(consumer)
        self._tap_floor(self.on_air is None and bool(self.consumer_count))

    def gop_snapshot(self) -> list[MediaPacket]:
        return []

    def request_keyframe(self) -> None:
        self.floor.request_keyframe()

    def close(self) -> None:
        self._tap_floor(False)
        for consumers in self._consumers.values():
            consumers.clear()


@dataclass(frozen=True, slots=True)
class BoothSnapshot:
    """One language's booth: who is connected (in the order they came) and who is on air."""

    language: str
    connected: tuple[str, ...]
    on_air: str | None


class LanguageDesk:
    """Every channel's language tracks (made when first asked for) and their listeners."""

    def __init__(
        self,
        sources: Callable[[str], ChannelSource],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        known: frozenset[str] | None = None,
    ) -> None:
        self._sources = sources
        self._now = now
        # The languages the event names (sessions, venues): what a listener may ask for
        # before any interpreter of it came, so listeners cannot make tracks without end.
        self._known = known
        self._tracks: dict[tuple[str, str], LanguageTrack] = {}
        self._listeners: list[LanguageListener] = []

    def add_listener(self, listener: LanguageListener) -> None:
        self._listeners.append(listener)

    def tracks(self) -> tuple[LanguageTrack, ...]:
        """Every language track asked for so far."""
        return tuple(self._tracks.values())

    def track(self, channel: str, language: str) -> LanguageTrack:
        """``channel``'s ``language`` track (``NotFound`` for an unknown channel)."""
        key = (channel, language)
        found = self._tracks.get(key)
        if found is None:
            found = LanguageTrack(self._sources(channel), language, self._changed)
            self._tracks[key] = found
        return found

    def listenable(self, language: str) -> bool:
        """A listener may ask for ``language``: the event names it, or an interpreter of
        it has connected (so listeners cannot make tracks without end)."""
        if self._known is None or language in self._known:
            return True
        return any(track.language == language for track in self._tracks.values())

    def listened(self, channel: str, language: str) -> LanguageTrack:
        """The track a listener (a player, a venue output) asks for; ``BadRequest`` for a
        language that is not ``listenable``."""
        if not self.listenable(language):
            self._sources(channel)  # an unknown channel is still a 404
            listed = ", ".join(sorted(self._known or ()))
            raise BadRequest(f"'{language}' is not a language of this event ({listed})")
        return self.track(channel, language)

    def new_seat(self, channel: str, language: str, name: str) -> BoothSeat:
        """A place in ``channel``'s ``language`` booth for one interpreter's session."""
        return BoothSeat(self.track(channel, language), name)

    def seat_of(self, channel: str, language: str, name: str) -> BoothSeat | None:
        """``name``'s connected seat in that booth (their newest if they have several)."""
        track = self._tracks.get((channel, language))
        if track is None:
            return None
        return next((s for s in reversed(track.seats) if s.name == name), None)

    def booths(self, channel: str) -> tuple[BoothSnapshot, ...]:
        """``channel``'s booths that have anyone connected, by language."""
        self._sources(channel)
        return tuple(
            BoothSnapshot(
                language,
                tuple(seat.name for seat in track.seats if not seat.relayed),
                track.reported,
            )
            for (name, language), track in sorted(self._tracks.items())
            if name == channel and any(not seat.relayed for seat in track.seats)
        )

    def live_languages(self, channel: str) -> tuple[str, ...]:
        """The languages of ``channel`` with an interpreter on air now."""
        return tuple(
            language
            for (name, language), track in sorted(self._tracks.items())
            if name == channel and track.live
        )

    def _changed(self, track: LanguageTrack) -> None:
        on_air = track.on_air
        interpreter = on_air.name if on_air is not None and not on_air.relayed else None
        if interpreter == track.reported:
            return  # a relayed seat came or went: nothing an interpreter did here
        track.reported = interpreter
        event = LanguageEvent(track.channel, track.language, interpreter, self._now())
        for listener in self._listeners:
            try:
                listener.language_changed(event)
            except Exception:
                logger.exception("language listener failed")

    def close(self) -> None:
        for track in self._tracks.values():
            track.close()

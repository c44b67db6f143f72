"""A venue's switchable programme output (``/whep/venue/{venue}``).

``switch_to(channel)`` arms a switch; it happens in the packet path at the first
keyframe of the new source, audio and video together, and is reported with the moment
it happened. Subscribers keep their connections: their writers see a new epoch and
re-base sequence numbers and timestamps, so there is no renegotiation.

With a slate, the output never shows black or a frozen picture: when nothing is routed
or the routed channel is not live it cuts to the venue's slate at once (the slate
restarts at its keyframe) and keeps waiting on the channel, which cuts back in at its
first keyframe. The slate reports itself as channel None.

A language (``set_language``) makes the output's audio the on-air channel's track in that
language (``streaming/languages.py``: the interpreter, else the floor) instead of the
channel's own audio; it follows every cut, so it stays across video switches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from streaming.consumers import Consumers
from streaming.feed import Feed, PacketConsumer
from streaming.packet import MediaPacket
from streaming.ports import SwitchEvent
from streaming.send_batch import SendBatch
from streaming.source import ChannelSource

logger = logging.getLogger(__name__)


class Switchable(Feed, Protocol):
    """What an output can cut to: a channel's source or the venue's slate (channel None)."""

    @property
    def channel(self) -> str | None: ...


class Slate(Switchable, Protocol):
    """The venue's slate; ``ready`` once its picture is encoded."""

    @property
    def ready(self) -> bool: ...


def _always_live(channel: str) -> bool:
    return True


class _Tap:
    """Receives one source's packets on behalf of the output."""

    kinds = (True, False)

    def __init__(self, output: VenueOutput, source: Switchable) -> None:
        self.output = output
        self.source = source

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self.output._from_source(self, packet, frame, batch)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Sources never replay to a venue output; it asks for their cache itself."""


class _LanguageTap:
    """Receives the on-air channel's language track (audio) on behalf of the output."""

    kinds = (False,)

    def __init__(self, output: VenueOutput, channel: str, language: str, feed: Feed) -> None:
        self.output = output
        self.channel = channel
        self.language = language
        self.feed = feed

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        output = self.output
        if output.on_air_channel == self.channel:
            output._consumers.deliver(packet, frame, batch, output._owner)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Audio needs no replay."""


class VenueOutput:
    """Plays whichever channel is routed to the venue, switching at keyframes."""

    def __init__(
        self,
        venue: str,
        sources: Callable[[str], ChannelSource],
        on_switch: Callable[[SwitchEvent], None],
        slate: Slate | None = None,
        is_live: Callable[[str], bool] = _always_live,
        languages: Callable[[str, str], Feed] | None = None,
        language: str | None = None,
    ) -> None:
        self._venue = venue
        self._owner = f"venue {venue}"  # in log lines about a failed consumer
        self._sources = sources
        self._on_switch = on_switch
        self._slate = slate
        self._is_live = is_live
        self._routed: str | None = None
        self._active: _Tap | None = None
        self._pending: _Tap | None = None
        self._consumers = Consumers()
        self._last_switch: SwitchEvent | None = None
        # A channel's track in a language (None: no tracks, floor only), and our choice.
        self._languages = languages
        self._language = language
        self._language_tap: _LanguageTap | None = None

    @property
    def venue(self) -> str:
        return self._venue

    @property
    def routed_channel(self) -> str | None:
        return self._routed

    @property
    def on_air_channel(self) -> str | None:
        return self._active.source.channel if self._active else None

    @property
    def on_slate(self) -> bool:
        """The slate is on air."""
        return self._active is not None and self._active.source is self._slate

    @property
    def consumer_count(self) -> int:
        return self._consumers.count()

    @property
    def language(self) -> str | None:
        """The language track the output plays (None: the floor)."""
        return self._language

    def set_language(self, language: str | None) -> None:
        """Play the routed channel's ``language`` track from now on (None: the floor)."""
        self._language = language
        self._follow_language()

    def _follow_language(self) -> None:
        channel = self.on_air_channel
        wanted = None
        if self._languages is not None and channel is not None and self._language is not None:
            wanted = (channel, self._language)
        tap = self._language_tap
        if tap is not None and (tap.channel, tap.language) == wanted:
            return
        if tap is not None:
            tap.feed.remove_consumer(tap)
            self._language_tap = None
        if wanted is not None and self._languages is not None:
            feed = self._languages(*wanted)
            self._language_tap = _LanguageTap(self, *wanted, feed)
            feed.add_consumer(self._language_tap)

    @property
    def last_switch(self) -> SwitchEvent | None:
        """The most recent cut, if there was one."""
        return self._last_switch

    def switch_to(self, channel: str | None) -> None:
        """Route ``channel`` (None: nothing) here; the cut happens at its next keyframe."""
        if channel is not None:
            self._sources(channel)  # unknown channels fail before anything changes
        self._routed = channel
        self._update(routed=True)

    def refresh(self) -> None:
        """Show what should be on air now (the routed channel's health or slate changed)."""
        self._update(routed=False)

    def _update(self, routed: bool) -> None:
        channel = self._routed
        source = self._sources(channel) if channel is not None else None
        slate = self._slate if self._slate is not None and self._slate.ready else None
        if source is not None and (slate is None or self._is_live(source.channel)):
            self._arm(source)
            return
        if slate is None:  # no slate (yet): as before, nothing (a route to it is reported)
            self._drop_pending()
            if routed or self._active is not None:
                self._cut(None, [])
            return
        if self._active is None or self._active.source is not slate:
            tap = _Tap(self, slate)
            self._cut(tap, [])
            slate.add_consumer(tap)
            slate.request_keyframe()
        if source is None:
            self._drop_pending()
        elif self._pending is None or self._pending.source is not source:
            # Back on air at the channel's first keyframe, without waiting for a check.
            self._drop_pending()
            self._pending = _Tap(self, source)
            source.add_consumer(self._pending)

    def _arm(self, source: ChannelSource) -> None:
        if self._active is not None and self._active.source is source:
            self._drop_pending()
            return
        if self._pending is not None and self._pending.source is source:
            source.request_keyframe()
            return
        self._drop_pending()
        self._pending = _Tap(self, source)
        source.add_consumer(self._pending)
        gop = source.gop_snapshot()
        if (self._active is None or self.on_slate) and gop:
            # Nothing (or the slate) on air: start with the cached pictures at once
            # instead of waiting for a keyframe the publisher may never send on request.
            self._cut(self._pending, [])
            for consumer in tuple(self._consumers[True]):
                consumer.start(gop)
            return
        source.request_keyframe()

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending.source.remove_consumer(self._pending)
            self._pending = None

    def add_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.add(consumer)

    def remove_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.remove(consumer)

    def gop_snapshot(self) -> list[MediaPacket]:
        return self._active.source.gop_snapshot() if self._active else []

    def request_keyframe(self) -> None:
        if self._active is not None:
            self._active.source.request_keyframe()

    def _from_source(
        self, tap: _Tap, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch
    ) -> None:
        if tap is self._pending:
            if not (packet.video and packet.keyframe and not packet.late):
                return
            self._cut(tap, frame)
        elif tap is not self._active:
            return
        if not packet.video and self._language_tap is not None:
            return  # the language track carries the audio (the floor when not live)
        # Into the source's batch: its flush sends the venue's viewers' copies too.
        self._consumers.deliver(packet, frame, batch, self._owner)

    def _cut(self, tap: _Tap | None, frame: Sequence[MediaPacket]) -> None:
        previous = self.on_air_channel
        if self._active is not None:
            self._active.source.remove_consumer(self._active)
        self._active = tap
        if tap is self._pending:
            self._pending = None
        self._follow_language()
        if tap is not None and previous is None and tap.source.channel is None:
            return  # nothing to the slate: still nothing on air, no switch to report
        event = SwitchEvent(self._venue, self.on_air_channel, previous, datetime.now(UTC))
        self._last_switch = event
        try:
            self._on_switch(event)
        except Exception:
            logger.exception("switch listener failed for venue %s", self._venue)

    def close(self) -> None:
        """Detach from every source."""
        for tap in (self._active, self._pending):
            if tap is not None:
                tap.source.remove_consumer(tap)
        self._active = self._pending = None
        self._follow_language()
        for consumers in self._consumers.values():
            consumers.clear()

"""What the media hub shows its readers: frozen snapshots, built when asked.

``MediaHub`` inherits these; they only read the hub's state (never in the packet path)
and live here so the hub's own module is about sessions and routing.
"""

from __future__ import annotations

from collections import Counter
from types import MappingProxyType

from streaming.admission import Admission
from streaming.publisher import PublisherSession
from streaming.relay import RelayLinks
from streaming.snapshots import (
    Audience,
    ChannelSnapshot,
    MediaSnapshot,
    PublisherSnapshot,
    SubscriberSnapshot,
    VenueOutputSnapshot,
)
from streaming.source import ChannelSource
from streaming.stats import StatsSampler
from streaming.subscriber import SubscriberSession
from streaming.venue_output import VenueOutput
from streaming.watchdog import SourceWatch


class HubSnapshots:
    """The reading half of ``MediaHub`` (the attributes are the hub's, set in its init)."""

    video_codec: str
    reaped: int
    _sources: dict[str, ChannelSource]
    _outputs: dict[str, VenueOutput]
    _publishers: dict[str, PublisherSession]
    _subscribers: dict[str, SubscriberSession]
    _stats: StatsSampler
    _watch: SourceWatch
    _admission: Admission
    _relays: RelayLinks | None

    def _source(self, channel: str) -> ChannelSource:
        raise NotImplementedError

    def _venue_output(self, venue: str) -> VenueOutput:
        raise NotImplementedError

    # -- snapshots (built when read, never in the packet path) --------------------------

    def channel(self, channel: str) -> ChannelSnapshot:
        """One channel's source now; ``NotFound`` for a channel not in the event."""
        return self._channel_snapshot(self._source(channel))

    def venue_output(self, venue: str) -> VenueOutputSnapshot:
        """One venue output now; ``NotFound`` for a venue not in the event."""
        return venue_output_snapshot(self._venue_output(venue))

    def live_channels(self) -> frozenset[str]:
        """The channels that have a publisher now."""
        return frozenset(channel for channel, source in self._sources.items() if source.live)

    def audience(self) -> Audience:
        """Players now, per venue output and per channel."""
        labels = Counter(s.label for s in self._subscribers.values())
        venues = {k.removeprefix("venue:"): n for k, n in labels.items() if k.startswith("venue:")}
        channels = {
            k.removeprefix("channel:"): n for k, n in labels.items() if k.startswith("channel:")
        }
        return Audience(MappingProxyType(venues), MappingProxyType(channels))

    def publishers(self) -> tuple[PublisherSnapshot, ...]:
        """Every WHIP session with its stats."""
        return tuple(self._stats.publisher(p) for p in self._publishers.values())

    def subscribers(self) -> tuple[SubscriberSnapshot, ...]:
        """Every WHEP session with its stats."""
        return tuple(self._stats.subscriber(s) for s in self._subscribers.values())

    def snapshot(self) -> MediaSnapshot:
        """The whole media plane at one moment, for ``/api/streams`` and ``/metrics``."""
        return MediaSnapshot(
            video_codec=self.video_codec,
            channels=tuple(self._channel_snapshot(s) for s in self._sources.values()),
            venues=tuple(venue_output_snapshot(o) for o in self._outputs.values()),
            publishers=self.publishers(),
            subscribers=self.subscribers(),
            ended_totals=self._stats.ended_totals(),
            first_frames=self._stats.first_frames(),
            refused=MappingProxyType(dict(self._admission.refused)),
            reaped=self.reaped,
            relays=self._relays.snapshots(self._stats.publisher) if self._relays else (),
        )

    def _channel_snapshot(self, source: ChannelSource) -> ChannelSnapshot:
        publisher = next((p.id for p in self._publishers.values() if source.publisher is p), None)
        backup_slot = source.slots["backup"].publisher
        backup = next((p.id for p in self._publishers.values() if backup_slot is p), None)
        health = self._watch.health(source.channel)
        return ChannelSnapshot(
            id=source.channel,
            live=source.live,
            publisher=publisher,
            consumers=source.consumer_count,
            has_cached_keyframe=source.has_cached_keyframe,
            health=health.state,
            since=health.since,
            source=health.source,
            backup_ready=health.backup_ready,
            backup=backup,
            lost_total=health.lost_total,
        )


def venue_output_snapshot(output: VenueOutput) -> VenueOutputSnapshot:
    """One venue output as readers see it."""
    return VenueOutputSnapshot(
        venue=output.venue,
        routed_channel=output.routed_channel,
        on_air_channel=output.on_air_channel,
        consumers=output.consumer_count,
        last_switch=output.last_switch,
        on_slate=output.on_slate,
        language=output.language,
    )

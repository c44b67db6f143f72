"""Prometheus view of the media plane, read from the hub at scrape time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from streaming.stats import subscriber_counters

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from streaming.hub import MediaHub

PREFIX = "venuebridge_media_"


class MediaCollector(Collector):
    """Per channel publisher stats; subscriber stats summed per feed (bounded cardinality)."""

    def __init__(self, hub: MediaHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        yield from self._channels()
        yield from self._publishers()
        yield from self._subscribers()

    def _channels(self) -> Iterator[Metric]:
        live = GaugeMetricFamily(
            PREFIX + "channel_live", "1 if the channel has a publisher.", labels=["channel"]
        )
        for channel, source in self.hub.sources.items():
            live.add_metric([channel], 1.0 if source.live else 0.0)
        yield live

    def _publishers(self) -> Iterator[Metric]:
        labels = ["channel", "kind"]
        bitrate = GaugeMetricFamily(
            PREFIX + "publisher_bitrate_bps", "Publisher bitrate.", labels=labels
        )
        fps = GaugeMetricFamily(PREFIX + "publisher_fps", "Publisher frame rate.", labels=labels)
        counters = {
            name: CounterMetricFamily(
                PREFIX + f"publisher_{name}", f"Publisher {name}.", labels=labels
            )
            for name in ("packets", "packets_lost", "nacks_sent", "keyframes")
        }
        for session in self.hub.publishers.values():
            for track in session.tracks:
                if track.ingest is None:
                    continue
                key = [session.channel, "video" if track.video else "audio"]
                rate = self.hub.rates.rate((session.id, track.video))
                bitrate.add_metric(key, rate[0])
                fps.add_metric(key, rate[1])
                stats = track.ingest.stats
                values = {
                    "packets": stats.packets,
                    "packets_lost": max(0, stats.lost),
                    "nacks_sent": stats.nacks_sent,
                    "keyframes": stats.keyframes,
                }
                for name, family in counters.items():
                    family.add_metric(key, values[name])
        yield bitrate
        yield fps
        yield from counters.values()

    def _subscribers(self) -> Iterator[Metric]:
        count: dict[str, int] = defaultdict(int)
        totals: dict[tuple[str, str, str], int] = defaultdict(int, self.hub.totals.counters)
        rtts: dict[str, list[float]] = defaultdict(list)
        for session in self.hub.subscribers.values():
            count[session.label] += 1
            for track in session.tracks:
                if track.writer is None:
                    continue
                kind = "video" if track.video else "audio"
                for name, value in subscriber_counters(track.writer.stats).items():
                    totals[(session.label, kind, name)] += value
                totals[(session.label, kind, "keyframe_requests")] += track.keyframe_requests
                if track.rtt is not None:
                    rtts[session.label].append(track.rtt)
        gauge = GaugeMetricFamily(
            PREFIX + "subscribers", "Connected subscribers per feed.", labels=["feed"]
        )
        for label, value in count.items():
            gauge.add_metric([label], value)
        yield gauge
        families: dict[str, CounterMetricFamily] = {}
        for (label, kind, name), value in sorted(totals.items()):
            family = families.setdefault(
                name,
                CounterMetricFamily(
                    PREFIX + f"subscriber_{name}",
                    f"Subscriber {name.replace('_', ' ')}.",
                    labels=["feed", "kind"],
                ),
            )
            family.add_metric([label, kind], value)
        yield from families.values()
        rtt = GaugeMetricFamily(
            PREFIX + "subscriber_rtt_seconds", "Mean RTT from RTCP.", labels=["feed"]
        )
        for label, values in rtts.items():
            rtt.add_metric([label], sum(values) / len(values))
        yield rtt
        yield SummaryMetricFamily(
            PREFIX + "time_to_first_frame_seconds",
            "Offer to first video packet sent.",
            count_value=self.hub.first_frame_count,
            sum_value=self.hub.first_frame_sum,
        )

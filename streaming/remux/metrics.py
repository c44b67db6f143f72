"""Prometheus view of the shared depacketizing: packets depacketized, feeds being read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from streaming.remux.frame_source import FrameSources

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

PREFIX = "venuebridge_remux_"


class FrameSourcesCollector(Collector):
    """Read at scrape time: with a channel recorded and packaged for HLS, the packet
    counter grows by one per packet of the channel (one depacketizing pass), not two."""

    def __init__(self, frames: FrameSources) -> None:
        self._frames = frames

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            PREFIX + "depacketized_packets",
            "Packets depacketized for recording and HLS (once each, shared by both).",
            self._frames.depacketized,
        )
        yield GaugeMetricFamily(
            PREFIX + "frame_sources",
            "Feeds (channels, language tracks) being depacketized now.",
            self._frames.active,
        )

"""Prometheus view of the recorder: the free-space alarm, open files, bytes written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from streaming.recorder.recorder import Recorder

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

PREFIX = "venuebridge_recording_"


class RecorderCollector(Collector):
    """Read at scrape time from ``Recorder.status()``."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def collect(self) -> Iterator[Metric]:
        status = self._recorder.status()
        yield GaugeMetricFamily(
            PREFIX + "stopped",
            "1 while recording is stopped by the free-space floor (the alarm).",
            value=1.0 if status.alarm else 0.0,
        )
        yield GaugeMetricFamily(
            PREFIX + "free_megabytes", "Free space on the recording disk (MiB).", status.free_mb
        )
        yield GaugeMetricFamily(PREFIX + "open_files", "Files being written.", status.open_files)
        yield CounterMetricFamily(PREFIX + "files", "Files started.", status.files_written)
        yield CounterMetricFamily(PREFIX + "bytes", "Bytes written.", status.bytes_written)
        yield CounterMetricFamily(
            PREFIX + "dropped_packets",
            "Packets dropped because remuxing fell behind.",
            status.dropped_packets,
        )

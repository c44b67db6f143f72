"""Prometheus view of the media plane, read from the hub at scrape time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from streaming.snapshots import CounterKey, MediaSnapshot
from streaming.udp_mux import DROP_REASONS, UdpMuxStats

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

PREFIX = "venuebridge_media_"


class Snapshots(Protocol):
    """Whatever gives a snapshot of the media plane (the hub)."""

    def snapshot(self) -> MediaSnapshot: ...


class MediaCollector(Collector):
    """Per channel publisher stats; subscriber stats summed per feed (bounded cardinality)."""

    def __init__(self, hub: Snapshots) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        snapshot = self._hub.snapshot()  # one consistent picture per scrape
        yield from _channels(snapshot)
        yield from _publishers(snapshot)
        yield from _subscribers(snapshot)
        yield from _admission(snapshot)
        yield from _relays(snapshot)


def _channels(snapshot: MediaSnapshot) -> Iterator[Metric]:
    live = GaugeMetricFamily(
        PREFIX + "channel_live", "1 if the channel has a publisher.", labels=["channel"]
    )
    up = GaugeMetricFamily(
        PREFIX + "source_up",
        "1 if the channel's media is flowing (source health live).",
        labels=["channel"],
    )
    on_backup = GaugeMetricFamily(
        PREFIX + "source_on_backup", "1 if the backup publisher is on air.", labels=["channel"]
    )
    lost = CounterMetricFamily(
        PREFIX + "source_lost", "Times the channel's source was lost.", labels=["channel"]
    )
    for channel in snapshot.channels:
        live.add_metric([channel.id], 1.0 if channel.live else 0.0)
        up.add_metric([channel.id], 1.0 if channel.health == "live" else 0.0)
        on_backup.add_metric([channel.id], 1.0 if channel.source == "backup" else 0.0)
        lost.add_metric([channel.id], channel.lost_total)
    yield live
    yield up
    yield on_backup
    yield lost
    slate = GaugeMetricFamily(
        PREFIX + "venue_on_slate", "1 if the venue output shows its slate.", labels=["venue"]
    )
    for output in snapshot.venues:
        slate.add_metric([output.venue], 1.0 if output.on_slate else 0.0)
    yield slate


def _relays(snapshot: MediaSnapshot) -> Iterator[Metric]:
    labels = ["channel", "upstream"]
    up = GaugeMetricFamily(
        PREFIX + "relay_up", "1 if the relay pull of the channel receives media.", labels=labels
    )
    attempts = CounterMetricFamily(
        PREFIX + "relay_attempts", "WHEP sessions opened upstream for the pull.", labels=labels
    )
    lost = CounterMetricFamily(
        PREFIX + "relay_packets_lost", "Packets lost on the current pull.", labels=labels
    )
    rtt = GaugeMetricFamily(
        PREFIX + "relay_rtt_seconds",
        "Round trip of the pull, seen from a NACK to its retransmission.",
        labels=labels,
    )
    loss = GaugeMetricFamily(
        PREFIX + "relay_loss_ratio",
        "Loss on the pull in the last receiver report (before retransmission).",
        labels=labels,
    )
    counters = {
        "nacks_sent": "NACK packets sent upstream on the current pull.",
        "retransmissions": "Lost packets repaired by a retransmission on the current pull.",
        "keyframe_requests": "Keyframe requests (PLI) sent upstream on the current pull.",
        "keyframes_for_loss": "Keyframes asked for because loss was beyond repair.",
        "freezes": "Waits between decodable video frames over 200 ms on the current pull.",
        "freeze_seconds": "Time without decodable video on the current pull.",
        "holes_repaired_in_hold": "Holes repaired while the repair hold kept what followed.",
        "hold_skipped": "Packets the repair hold gave up on (their hole waited the hold).",
    }
    families = {
        name: CounterMetricFamily(PREFIX + f"relay_{name}", text, labels=labels)
        for name, text in counters.items()
    }
    for relay in snapshot.relays:
        key = [relay.channel, relay.upstream or ""]
        up.add_metric(key, 1.0 if relay.state == "live" else 0.0)
        attempts.add_metric(key, relay.attempts)
        lost.add_metric(key, relay.packets_lost)
        if relay.rtt_s is not None:
            rtt.add_metric(key, relay.rtt_s)
        loss.add_metric(key, relay.loss_fraction)
        values = {
            "nacks_sent": relay.nacks_sent,
            "retransmissions": relay.retransmissions,
            "keyframe_requests": relay.keyframe_requests_sent,
            "keyframes_for_loss": relay.keyframes_for_loss,
            "freezes": relay.freezes,
            "freeze_seconds": relay.freeze_s,
            "holes_repaired_in_hold": relay.holes_repaired_in_hold,
            "hold_skipped": relay.hold_skipped,
        }
        for name, family in families.items():
            family.add_metric(key, values[name])
    yield up
    yield attempts
    yield lost
    yield rtt
    yield loss
    yield from families.values()


def _publishers(snapshot: MediaSnapshot) -> Iterator[Metric]:
    labels = ["channel", "kind"]
    bitrate = GaugeMetricFamily(
        PREFIX + "publisher_bitrate_bps", "Publisher bitrate.", labels=labels
    )
    fps = GaugeMetricFamily(PREFIX + "publisher_fps", "Publisher frame rate.", labels=labels)
    counters = {
        name: CounterMetricFamily(PREFIX + f"publisher_{name}", f"Publisher {name}.", labels=labels)
        for name in ("packets", "packets_lost", "nacks_sent", "keyframes")
    }
    for session in snapshot.publishers:
        for track in session.tracks:
            key = [session.channel, track.kind]
            bitrate.add_metric(key, track.bitrate_bps)
            fps.add_metric(key, track.fps)
            values = {
                "packets": track.packets,
                "packets_lost": track.packets_lost,
                "nacks_sent": track.nacks_sent,
                "keyframes": track.keyframes,
            }
            for name, family in counters.items():
                family.add_metric(key, values[name])
    yield bitrate
    yield fps
    yield from counters.values()


def _subscribers(snapshot: MediaSnapshot) -> Iterator[Metric]:
    count: dict[str, int] = defaultdict(int)
    totals: dict[CounterKey, int] = defaultdict(int, snapshot.ended_totals)
    rtts: dict[str, list[float]] = defaultdict(list)
    losses: dict[str, list[float]] = defaultdict(list)
    for session in snapshot.subscribers:
        count[session.feed] += 1
        for track in session.tracks:
            for name, value in track.counters().items():
                totals[(session.feed, track.kind, name)] += value
            if track.rtt_s is not None:
                rtts[session.feed].append(track.rtt_s)
            if track.video:
                losses[session.feed].append(track.loss_fraction)
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
    loss = GaugeMetricFamily(
        PREFIX + "subscriber_loss_ratio",
        "Mean video loss in subscribers' last receiver reports.",
        labels=["feed"],
    )
    for label, values in losses.items():
        loss.add_metric([label], sum(values) / len(values))
    yield loss
    yield SummaryMetricFamily(
        PREFIX + "time_to_first_frame_seconds",
        "Offer to first video packet sent.",
        count_value=snapshot.first_frames.count,
        sum_value=snapshot.first_frames.total_seconds,
    )


def _admission(snapshot: MediaSnapshot) -> Iterator[Metric]:
    refused = CounterMetricFamily(
        PREFIX + "sessions_refused",
        "WHEP set-ups refused by admission control, by limit.",
        labels=["reason"],
    )
    for reason, count in sorted(snapshot.refused.items()):
        refused.add_metric([reason], count)
    yield refused
    yield CounterMetricFamily(
        PREFIX + "sessions_reaped",
        "Sessions ended because they did not connect in time.",
        value=snapshot.reaped,
    )


class MuxStats(Protocol):
    """The media socket's counters (``streaming/udp_mux.py``)."""

    def stats(self) -> UdpMuxStats: ...


class UdpMuxCollector(Collector):
    """The one media UDP port: who is on it, what it answered, what it dropped and why."""

    def __init__(self, mux: MuxStats) -> None:
        self._mux = mux

    def collect(self) -> Iterator[Metric]:
        stats = self._mux.stats()
        yield GaugeMetricFamily(
            PREFIX + "udp_mux_sockets",
            "Sockets of the media port (one per address).",
            stats.sockets,
        )
        yield GaugeMetricFamily(
            PREFIX + "udp_mux_connections", "ICE connections on the media port.", stats.connections
        )
        yield GaugeMetricFamily(
            PREFIX + "udp_mux_addresses",
            "Remote addresses routed to a connection.",
            stats.addresses,
        )
        yield CounterMetricFamily(
            PREFIX + "udp_mux_stun_answers",
            "Plain STUN binding requests answered (port checks).",
            stats.stun_answers,
        )
        dropped = CounterMetricFamily(
            PREFIX + "udp_mux_dropped",
            "Packets on the media port that no connection took, by reason.",
            labels=["reason"],
        )
        for reason in DROP_REASONS:
            dropped.add_metric([reason], stats.dropped[reason])
        yield dropped

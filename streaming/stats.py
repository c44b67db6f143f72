"""Stats of the media plane: rates sampled once a second, totals that survive sessions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streaming.hub import MediaHub
    from streaming.publisher import PublisherSession
    from streaming.subscriber import SubscriberSession


class RateTracker:
    """Bitrate and frame rate per key from cumulative counters sampled over time."""

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[float, int, int]] = {}
        self.rates: dict[Hashable, tuple[float, float]] = {}

    def sample(self, key: Hashable, now: float, total_bytes: int, total_frames: int) -> None:
        """Record the counters of ``key`` at ``now``; rates are over the last interval."""
        last = self._last.get(key)
        self._last[key] = (now, total_bytes, total_frames)
        if last is None or now <= last[0]:
            return
        elapsed = now - last[0]
        self.rates[key] = (
            (total_bytes - last[1]) * 8 / elapsed,
            (total_frames - last[2]) / elapsed,
        )

    def rate(self, key: Hashable) -> tuple[float, float]:
        """``(bits per second, frames per second)``; zeros until two samples exist."""
        return self.rates.get(key, (0.0, 0.0))

    def forget_except(self, keys: set[Any]) -> None:
        for key in [k for k in self._last if k not in keys]:
            self._last.pop(key, None)
            self.rates.pop(key, None)


@dataclass(slots=True)
class Totals:
    """Counters of ended subscribers, per (feed, kind), so metrics never go backwards."""

    counters: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def add_ended(self, session: SubscriberSession) -> None:
        for track in session.tracks:
            if track.writer is None:
                continue
            kind = "video" if track.video else "audio"
            for name, value in subscriber_counters(track.writer.stats).items():
                self.counters[(session.label, kind, name)] += value
            self.counters[(session.label, kind, "keyframe_requests")] += track.keyframe_requests


def subscriber_counters(stats: Any) -> dict[str, int]:
    """The cumulative counters of a writer, by metric name."""
    return {
        "packets_sent": stats.packets_sent,
        "bytes_sent": stats.bytes_sent,
        "queue_drops": stats.dropped,
        "nacks_received": stats.nacks_received,
        "retransmitted": stats.retransmitted,
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def publisher_json(hub: MediaHub, session: PublisherSession) -> dict[str, Any]:
    tracks = []
    for track in session.tracks:
        if track.ingest is None:
            continue
        stats = track.ingest.stats
        bitrate, fps = hub.rates.rate((session.id, track.video))
        tracks.append(
            {
                "kind": "video" if track.video else "audio",
                "bitrate_bps": round(bitrate),
                "fps": round(fps, 1) if track.video else None,
                "packets": stats.packets,
                "packets_lost": max(0, stats.lost),
                "nacks_sent": stats.nacks_sent,
                "keyframes": stats.keyframes,
                "frames": stats.frames,
            }
        )
    first_key = next(
        (t.ingest.stats.first_keyframe_at for t in session.tracks if t.ingest and t.video), None
    )
    return {
        "id": session.id,
        "channel": session.channel,
        "state": session.connection_state,
        "live": session.source.publisher is session,
        "time_to_first_keyframe_s": _round(first_key - session.created_at if first_key else None),
        "keyframe_requests_sent": session.keyframe_requests_sent,
        "tracks": tracks,
    }


def subscriber_json(hub: MediaHub, session: SubscriberSession) -> dict[str, Any]:
    tracks = []
    for track in session.tracks:
        if track.writer is None:
            continue
        stats = track.writer.stats
        bitrate, fps = hub.rates.rate((session.id, track.video))
        tracks.append(
            {
                "kind": "video" if track.video else "audio",
                "bitrate_bps": round(bitrate),
                "fps": round(fps, 1) if track.video else None,
                "packets_sent": stats.packets_sent,
                "keyframes_sent": stats.keyframes_sent,
                "packets_lost": track.packets_lost,
                "nacks_received": stats.nacks_received,
                "retransmitted": stats.retransmitted,
                "keyframe_requests": track.keyframe_requests,
                "queue_drops": stats.dropped,
                "queued": track.writer.queued,
                "rtt_s": _round(track.rtt, 4),
                "send_errors": track.sink.send_errors if track.sink else 0,
            }
        )
    return {
        "id": session.id,
        "feed": session.label,
        "state": session.connection_state,
        "time_to_first_frame_s": _round(session.first_frame_after),
        "tracks": tracks,
    }


def streams_json(hub: MediaHub) -> dict[str, Any]:
    """What ``GET /api/streams`` shows."""
    return {
        "video_codec": hub.video_codec,
        "channels": [
            {"id": channel, "live": source.live, "subscribers": source.consumer_count}
            for channel, source in hub.sources.items()
        ],
        "venues": [
            {
                "id": venue,
                "routed": output.routed_channel,
                "on_air": output.on_air_channel,
                "subscribers": output.consumer_count,
                "last_switch": output.switches[-1].at.isoformat() if output.switches else None,
            }
            for venue, output in hub.outputs.items()
        ],
        "publishers": [publisher_json(hub, p) for p in hub.publishers.values()],
        "subscribers": [subscriber_json(hub, s) for s in hub.subscribers.values()],
    }

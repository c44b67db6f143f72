"""Stats of the media plane: rates sampled once a second, totals that survive sessions.

The hub owns a ``StatsSampler`` and hands it read-only views of its sessions; the sampler
reads the counters the packet path keeps anyway, so sampling costs nothing per packet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Any

from streaming.publisher import PublisherSession
from streaming.snapshots import (
    CounterKey,
    FirstFrames,
    MediaSnapshot,
    PublisherSnapshot,
    PublisherTrackSnapshot,
    SubscriberSnapshot,
    SubscriberTrackSnapshot,
)
from streaming.subscriber import SubscriberSession

logger = logging.getLogger(__name__)

SAMPLE_INTERVAL = 1.0
# How many first-frame times are kept for a look at the recent ones.
RECENT_FIRST_FRAMES = 1000


class RateTracker:
    """Bitrate and frame rate per key from cumulative counters sampled over time."""

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[float, int, int]] = {}
        self._rates: dict[Hashable, tuple[float, float]] = {}

    def sample(self, key: Hashable, now: float, total_bytes: int, total_frames: int) -> None:
        """Record the counters of ``key`` at ``now``; rates are over the last interval."""
        last = self._last.get(key)
        self._last[key] = (now, total_bytes, total_frames)
        if last is None or now <= last[0]:
            return
        elapsed = now - last[0]
        self._rates[key] = (
            (total_bytes - last[1]) * 8 / elapsed,
            (total_frames - last[2]) / elapsed,
        )

    def rate(self, key: Hashable) -> tuple[float, float]:
        """``(bits per second, frames per second)``; zeros until two samples exist."""
        return self._rates.get(key, (0.0, 0.0))

    def forget_except(self, keys: set[Any]) -> None:
        """Drop every key not in ``keys`` (their sessions or tracks are gone)."""
        for key in [k for k in self._last if k not in keys]:
            self._last.pop(key, None)
            self._rates.pop(key, None)


def publisher_snapshot(session: PublisherSession, rates: RateTracker) -> PublisherSnapshot:
    """A publisher's stats now; only tracks whose media has started."""
    now = time.monotonic()
    tracks = []
    first_keyframe_at = None
    for track in session.tracks:
        if track.ingest is None:
            continue
        stats = track.ingest.stats
        if track.video and first_keyframe_at is None:
            first_keyframe_at = stats.first_keyframe_at
        bitrate, fps = rates.rate((session.id, track.video))
        tracks.append(
            PublisherTrackSnapshot(
                video=track.video,
                bitrate_bps=bitrate,
                fps=fps,
                packets=stats.packets,
                packets_lost=max(0, stats.lost),
                nacks_sent=stats.nacks_sent,
                keyframes=stats.keyframes,
                frames=stats.frames,
                nack_retries=track.ingest.nacks.retries,
                repaired=track.ingest.nacks.repaired,
                given_up=track.ingest.nacks.given_up,
                keyframes_wanted=stats.keyframes_wanted,
                repair_rtt_s=track.ingest.nacks.rtt,
                loss_fraction=track.ingest.reported_fraction_lost / 256,
                freeze_s=track.ingest.freeze.total_at(now) if track.video else 0.0,
                freezes=track.ingest.freeze.freezes,
            )
        )
    return PublisherSnapshot(
        id=session.id,
        channel=session.channel,
        state=session.connection_state,
        live=session.source.publisher is session,
        time_to_first_keyframe_s=(
            first_keyframe_at - session.created_at if first_keyframe_at else None
        ),
        keyframe_requests_sent=session.keyframe_requests_sent,
        tracks=tuple(tracks),
    )


def subscriber_snapshot(session: SubscriberSession, rates: RateTracker) -> SubscriberSnapshot:
    """A subscriber's stats now; only tracks whose sending has started."""
    tracks = []
    for track in session.tracks:
        if track.writer is None:
            continue
        stats = track.writer.stats
        bitrate, fps = rates.rate((session.id, track.video))
        tracks.append(
            SubscriberTrackSnapshot(
                video=track.video,
                bitrate_bps=bitrate,
                fps=fps,
                packets_sent=stats.packets_sent,
                bytes_sent=stats.bytes_sent,
                keyframes_sent=stats.keyframes_sent,
                packets_lost=track.packets_lost,
                nacks_received=stats.nacks_received,
                retransmitted=stats.retransmitted,
                keyframe_requests=track.keyframe_requests,
                queue_drops=stats.dropped,
                queued=track.writer.queued,
                rtt_s=track.rtt,
                send_errors=track.sink.send_errors if track.sink else 0,
                loss_fraction=track.fraction_lost / 256,
                nack_history=track.writer.history_size,
            )
        )
    return SubscriberSnapshot(
        id=session.id,
        feed=session.label,
        state=session.connection_state,
        time_to_first_frame_s=session.first_frame_after,
        tracks=tuple(tracks),
    )


class StatsSampler:
    """Samples rates once a second, counts first frames, keeps the totals of ended players.

    Owned by the hub, which calls ``start``, ``aclose`` and ``subscriber_ended``; it only
    reads the sessions it is given.
    """

    def __init__(
        self,
        publishers: Mapping[str, PublisherSession],
        subscribers: Mapping[str, SubscriberSession],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publishers = publishers
        self._subscribers = subscribers
        self._clock = clock
        self._rates = RateTracker()
        self._ended: defaultdict[CounterKey, int] = defaultdict(int)
        self._first_frame_counted: set[str] = set()
        self._first_frame_count = 0
        self._first_frame_sum = 0.0
        self._recent_first_frames: deque[float] = deque(maxlen=RECENT_FIRST_FRAMES)
        self._dropped_seen = 0
        self._task: asyncio.Task[None] | None = None

    # -- lifetime ----------------------------------------------------------------------

    def start(self) -> None:
        """Start sampling once a second."""
        self._task = asyncio.get_running_loop().create_task(self._sample_forever())

    async def aclose(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL)
            self.sample()

    # -- what the hub tells it ---------------------------------------------------------

    def subscriber_ended(self, session: SubscriberSession) -> None:
        """Fold an ended subscriber's counters into the totals, so metrics never go back."""
        self._first_frame_counted.discard(session.id)
        for track in subscriber_snapshot(session, self._rates).tracks:
            for name, value in track.counters().items():
                self._ended[(session.label, track.kind, name)] += value

    # -- sampling ----------------------------------------------------------------------

    def sample(self) -> None:
        """Update bitrates and frame rates from the counters (once a second)."""
        now = self._clock()
        live: set[Any] = set()
        for publisher in self._publishers.values():
            for track in publisher.tracks:
                if track.ingest is not None:
                    key = (publisher.id, track.video)
                    live.add(key)
                    stats = track.ingest.stats
                    self._rates.sample(key, now, stats.bytes, stats.frames)
        for subscriber in self._subscribers.values():
            self._count_first_frame(subscriber)
            for sub_track in subscriber.tracks:
                if sub_track.writer is not None:
                    key = (subscriber.id, sub_track.video)
                    live.add(key)
                    writer_stats = sub_track.writer.stats
                    self._rates.sample(key, now, writer_stats.bytes_sent, writer_stats.frames_sent)
        self._rates.forget_except(live)
        self._log_drops()

    def _count_first_frame(self, subscriber: SubscriberSession) -> None:
        after = subscriber.first_frame_after
        if after is None or subscriber.id in self._first_frame_counted:
            return
        self._first_frame_counted.add(subscriber.id)
        self._first_frame_count += 1
        self._first_frame_sum += after
        self._recent_first_frames.append(after)

    def _log_drops(self) -> None:
        """One aggregated line per second about slow subscribers, not one per packet."""
        slow = 0
        dropped = 0
        for subscriber in self._subscribers.values():
            drops = sum(t.writer.stats.dropped for t in subscriber.tracks if t.writer)
            dropped += drops
            slow += drops > 0
        new = dropped - self._dropped_seen
        self._dropped_seen = dropped
        if new > 0:
            logger.warning("dropped %d packets for %d slow subscriber(s)", new, slow)

    # -- reading -----------------------------------------------------------------------

    def publisher(self, session: PublisherSession) -> PublisherSnapshot:
        """``session``'s stats with its sampled rates."""
        return publisher_snapshot(session, self._rates)

    def subscriber(self, session: SubscriberSession) -> SubscriberSnapshot:
        """``session``'s stats with its sampled rates."""
        return subscriber_snapshot(session, self._rates)

    def ended_totals(self) -> Mapping[CounterKey, int]:
        """A copy of the summed counters of ended subscribers."""
        return MappingProxyType(dict(self._ended))

    def first_frames(self) -> FirstFrames:
        """How many players got a first frame, the sum of their waits, the recent waits."""
        return FirstFrames(
            self._first_frame_count, self._first_frame_sum, tuple(self._recent_first_frames)
        )


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _publisher_json(session: PublisherSnapshot) -> dict[str, Any]:
    return {
        "id": session.id,
        "channel": session.channel,
        "state": session.state,
        "live": session.live,
        "time_to_first_keyframe_s": _round(session.time_to_first_keyframe_s),
        "keyframe_requests_sent": session.keyframe_requests_sent,
        "tracks": [
            {
                "kind": track.kind,
                "bitrate_bps": round(track.bitrate_bps),
                "fps": round(track.fps, 1) if track.video else None,
                "packets": track.packets,
                "packets_lost": track.packets_lost,
                "nacks_sent": track.nacks_sent,
                "keyframes": track.keyframes,
                "frames": track.frames,
                "nack_retries": track.nack_retries,
                "repaired": track.repaired,
                "given_up": track.given_up,
                "keyframes_wanted": track.keyframes_wanted,
                "repair_rtt_s": _round(track.repair_rtt_s, 4),
                "loss_fraction": round(track.loss_fraction, 4),
                "freeze_s": round(track.freeze_s, 3),
                "freezes": track.freezes,
            }
            for track in session.tracks
        ],
    }


def _subscriber_json(session: SubscriberSnapshot) -> dict[str, Any]:
    return {
        "id": session.id,
        "feed": session.feed,
        "state": session.state,
        "time_to_first_frame_s": _round(session.time_to_first_frame_s),
        "tracks": [
            {
                "kind": track.kind,
                "bitrate_bps": round(track.bitrate_bps),
                "fps": round(track.fps, 1) if track.video else None,
                "packets_sent": track.packets_sent,
                "keyframes_sent": track.keyframes_sent,
                "packets_lost": track.packets_lost,
                "nacks_received": track.nacks_received,
                "retransmitted": track.retransmitted,
                "keyframe_requests": track.keyframe_requests,
                "queue_drops": track.queue_drops,
                "queued": track.queued,
                "rtt_s": _round(track.rtt_s, 4),
                "send_errors": track.send_errors,
                "loss_fraction": round(track.loss_fraction, 4),
                "nack_history": track.nack_history,
            }
            for track in session.tracks
        ],
    }


def _without_id(session: dict[str, Any]) -> dict[str, Any]:
    session.pop("id", None)
    return session


def streams_json(snapshot: MediaSnapshot, *, session_ids: bool) -> dict[str, Any]:
    """What ``GET /api/streams`` shows; session ids only when ``session_ids`` (directors)."""
    publishers = [_publisher_json(p) for p in snapshot.publishers]
    subscribers = [_subscriber_json(s) for s in snapshot.subscribers]
    if not session_ids:
        publishers = [_without_id(p) for p in publishers]
        subscribers = [_without_id(s) for s in subscribers]
    return {
        "video_codec": snapshot.video_codec,
        "channels": [
            {
                "id": channel.id,
                "live": channel.live,
                "subscribers": channel.consumers,
                "health": channel.health,
                "since": channel.since.isoformat() if channel.since else None,
                "source": channel.source,
                "backup_ready": channel.backup_ready,
                "lost_total": channel.lost_total,
            }
            for channel in snapshot.channels
        ],
        "venues": [
            {
                "id": output.venue,
                "routed": output.routed_channel,
                "on_air": output.on_air_channel,
                "subscribers": output.consumers,
                "last_switch": output.last_switch.at.isoformat() if output.last_switch else None,
                "slate": output.on_slate,
                "language": output.language,
            }
            for output in snapshot.venues
        ],
        "publishers": publishers,
        "subscribers": subscribers,
        "relays": [
            {
                "channel": relay.channel,
                "upstream": relay.upstream,
                "state": relay.state,
                "attempts": relay.attempts,
                "last_error": relay.last_error,
                "wanted": relay.local_viewers_wanted,
                "bitrate_bps": round(relay.bitrate_bps),
                "packets": relay.packets,
                "packets_lost": relay.packets_lost,
                "keyframe_requests_sent": relay.keyframe_requests_sent,
                "rtt_s": _round(relay.rtt_s, 4),
                "loss_fraction": round(relay.loss_fraction, 4),
                "nacks_sent": relay.nacks_sent,
                "retransmissions": relay.retransmissions,
                "keyframes_for_loss": relay.keyframes_for_loss,
                "freeze_s": round(relay.freeze_s, 3),
                "freezes": relay.freezes,
                "hold_s": round(relay.hold_s, 3),
                "held_packets": relay.held_packets,
                "holes_repaired_in_hold": relay.holes_repaired_in_hold,
                "hold_skipped": relay.hold_skipped,
                "hold_longest_wait_s": round(relay.hold_longest_wait_s, 3),
            }
            for relay in snapshot.relays
        ],
    }

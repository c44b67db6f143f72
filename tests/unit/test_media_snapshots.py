"""The media hub's read-only snapshots, the stats sampler and the views built on them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from config import Event
from streaming.errors import NotFound
from streaming.hub import MediaHub
from streaming.link_health import FreezeMeter
from streaming.metrics import MediaCollector
from streaming.nack import NackScheduler
from streaming.ports import SwitchEvent
from streaming.snapshots import (
    ChannelSnapshot,
    FirstFrames,
    MediaSnapshot,
    PublisherSnapshot,
    PublisherTrackSnapshot,
    RelaySnapshot,
    SubscriberSnapshot,
    SubscriberTrackSnapshot,
    VenueOutputSnapshot,
)
from streaming.stats import StatsSampler, streams_json


class AllowAll:
    def may_publish(self, token: str | None, channel: str) -> bool:
        return True

    def may_play(self, token: str | None, channel: str) -> bool:
        return True

    def may_play_venue(self, token: str | None, venue: str) -> bool:
        return True

    def may_route(self, token: str | None, venue: str) -> bool:
        return True

    def revoked(self, token: str) -> bool:
        return False


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# Plain stand-ins for the counters a publisher's ingest and a subscriber's writer keep.


class IngestStats:
    def __init__(self) -> None:
        self.bytes = self.frames = self.packets = self.lost = 0
        self.nacks_sent = self.keyframes = self.keyframes_wanted = 0
        self.first_keyframe_at: float | None = None


class Ingest:
    def __init__(self) -> None:
        self.stats = IngestStats()
        self.nacks = NackScheduler(1.5)
        self.freeze = FreezeMeter()
        self.reported_fraction_lost = 0


class PublisherTrack:
    def __init__(self, video: bool) -> None:
        self.video = video
        self.ingest: Ingest | None = Ingest()


class Source:
    publisher: object = None


class FakePublisher:
    def __init__(self, session_id: str, channel: str) -> None:
        self.id = session_id
        self.channel = channel
        self.connection_state = "connected"
        self.created_at = 100.0
        self.keyframe_requests_sent = 0
        self.tracks = [PublisherTrack(True), PublisherTrack(False)]
        self.source = Source()
        self.source.publisher = self


class WriterStats:
    def __init__(self) -> None:
        self.packets_sent = self.bytes_sent = self.frames_sent = self.keyframes_sent = 0
        self.dropped = self.nacks_received = self.retransmitted = 0


class Writer:
    def __init__(self) -> None:
        self.stats = WriterStats()
        self.queued = 0
        self.history_size = 512


class SubscriberTrack:
    def __init__(self, video: bool) -> None:
        self.video = video
        self.writer: Writer | None = Writer()
        self.sink = None
        self.rtt: float | None = None
        self.packets_lost = 0
        self.fraction_lost = 0
        self.keyframe_requests = 0


class FakeSubscriber:
    def __init__(self, session_id: str, label: str) -> None:
        self.id = session_id
        self.label = label
        self.connection_state = "connected"
        self.first_frame_after: float | None = None
        self.tracks = [SubscriberTrack(True), SubscriberTrack(False)]


def sampler_with(
    publishers: dict[str, Any], subscribers: dict[str, Any]
) -> tuple[StatsSampler, Clock]:
    clock = Clock()
    return StatsSampler(publishers, subscribers, clock), clock


# -- the hub's queries ---------------------------------------------------------------------


def test_an_idle_hub_describes_its_channels_and_venue_outputs(reference_event: Event) -> None:
    hub = MediaHub(reference_event, "H264", AllowAll())
    channel = hub.channel("gz-hall-1")
    assert channel == ChannelSnapshot("gz-hall-1", False, None, 0, False)
    assert hub.live_channels() == frozenset()
    output = hub.venue_output("jp")
    assert (output.routed_channel, output.on_air_channel, output.last_switch) == (None, None, None)
    assert hub.audience().per_venue == {}
    assert hub.publishers() == ()
    assert hub.subscribers() == ()
    snapshot = hub.snapshot()
    assert [c.id for c in snapshot.channels] == [c.id for c in reference_event.channels]
    assert [v.venue for v in snapshot.venues] == [v.id for v in reference_event.venues]
    assert snapshot.first_frames == FirstFrames(0, 0.0, ())
    assert dict(snapshot.ended_totals) == {}


def test_unknown_channels_and_venues_are_not_found(reference_event: Event) -> None:
    hub = MediaHub(reference_event, "H264", AllowAll())
    with pytest.raises(NotFound):
        hub.channel("mars")
    with pytest.raises(NotFound):
        hub.venue_output("mars")
    with pytest.raises(NotFound):
        hub.route("jp", "mars")


def test_route_answers_with_the_output_as_it_is_after_the_take(reference_event: Event) -> None:
    hub = MediaHub(reference_event, "H264", AllowAll())
    cleared = hub.route("jp", None)
    # Routing nothing cuts at once; the cut is remembered as the output's last switch.
    assert cleared.last_switch is not None
    assert (cleared.last_switch.venue, cleared.last_switch.channel) == ("jp", None)
    routed = hub.route("jp", "gz-hall-1")
    # Nothing publishes hall 1 yet: routed, but not on air until its first keyframe.
    assert (routed.routed_channel, routed.on_air_channel) == ("gz-hall-1", None)
    assert hub.venue_output("jp") == routed
    assert hub.venue_output("kr").routed_channel is None


def test_snapshots_cannot_change_the_hub(reference_event: Event) -> None:
    hub = MediaHub(reference_event, "H264", AllowAll())
    channel = hub.channel("gz-hall-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        channel.live = True  # type: ignore[misc]
    audience = hub.audience()
    with pytest.raises(TypeError):
        audience.per_venue["jp"] = 3  # type: ignore[index]
    assert hub.audience().per_venue == {}


# -- the sampler ---------------------------------------------------------------------------


def test_rates_come_from_two_samples_and_go_with_their_session() -> None:
    publisher = FakePublisher("p1", "gz-hall-1")
    subscriber = FakeSubscriber("s1", "channel:gz-hall-1")
    publishers, subscribers = {"p1": publisher}, {"s1": subscriber}
    sampler, clock = sampler_with(publishers, subscribers)
    sampler.sample()
    assert sampler.publisher(publisher).tracks[0].bitrate_bps == 0.0  # one sample: no rate
    video = publisher.tracks[0].ingest
    assert video is not None
    video.stats.bytes += 250_000
    video.stats.frames += 50
    writer = subscriber.tracks[0].writer
    assert writer is not None
    writer.stats.bytes_sent += 125_000
    writer.stats.frames_sent += 25
    clock.now += 2.0
    sampler.sample()
    published = sampler.publisher(publisher).tracks[0]
    assert (published.bitrate_bps, published.fps) == (1_000_000.0, 25.0)
    played = sampler.subscriber(subscriber).tracks[0]
    assert (played.bitrate_bps, played.fps) == (500_000.0, 12.5)
    del publishers["p1"]
    sampler.sample()
    assert sampler.publisher(publisher).tracks[0].bitrate_bps == 0.0


def test_each_first_frame_is_counted_once() -> None:
    early, late = FakeSubscriber("s1", "venue:jp"), FakeSubscriber("s2", "venue:jp")
    sampler, _ = sampler_with({}, {"s1": early, "s2": late})
    early.first_frame_after = 0.25
    sampler.sample()
    sampler.sample()
    late.first_frame_after = 0.5
    sampler.sample()
    assert sampler.first_frames() == FirstFrames(2, 0.75, (0.25, 0.5))


def test_ended_subscribers_keep_counting_in_the_totals() -> None:
    subscriber = FakeSubscriber("s1", "venue:jp")
    video = subscriber.tracks[0]
    assert video.writer is not None
    video.writer.stats.packets_sent = 10
    video.writer.stats.dropped = 2
    video.keyframe_requests = 1
    subscriber.tracks[1].writer = None  # audio never started: nothing to count
    sampler, _ = sampler_with({}, {})
    before = sampler.ended_totals()
    sampler.subscriber_ended(subscriber)  # type: ignore[arg-type]
    sampler.subscriber_ended(subscriber)  # type: ignore[arg-type]
    totals = sampler.ended_totals()
    assert totals[("venue:jp", "video", "packets_sent")] == 20
    assert totals[("venue:jp", "video", "queue_drops")] == 4
    assert totals[("venue:jp", "video", "keyframe_requests")] == 2
    assert not any(kind == "audio" for _, kind, _ in totals)
    assert dict(before) == {}  # a copy: what was read earlier does not move


async def test_the_sampling_task_is_cancelled_and_awaited_on_close() -> None:
    sampler, _ = sampler_with({}, {})
    sampler.start()
    task = sampler._task
    assert task is not None
    assert not task.done()
    await sampler.aclose()
    assert task.cancelled()
    await sampler.aclose()  # twice is harmless


# -- the views built on a snapshot ---------------------------------------------------------

SWITCH = SwitchEvent("jp", "gz-hall-1", None, datetime(2026, 12, 6, 9, 0, tzinfo=UTC))


def sample_snapshot() -> MediaSnapshot:
    publisher_track = PublisherTrackSnapshot(
        True, 2_500_123.4, 29.96, 900, 3, 2, 4, 300, 5, 6, 1, 2, 0.30123, 0.05078, 1.23456, 3
    )
    subscriber_track = SubscriberTrackSnapshot(
        True, 2_400_000.6, 30.04, 880, 1_000_000, 4, 5, 6, 7, 8, 9, 10, 0.012345, 11, 0.125, 1024
    )
    audio_track = dataclasses.replace(subscriber_track, video=False, rtt_s=None)
    return MediaSnapshot(
        video_codec="H264",
        channels=(
            ChannelSnapshot(
                "gz-hall-1", True, "p1", 3, True, "live", SWITCH.at, "backup", False, "p1", 2
            ),
        ),
        venues=(VenueOutputSnapshot("jp", "gz-hall-1", "gz-hall-1", 2, SWITCH),),
        publishers=(
            PublisherSnapshot("p1", "gz-hall-1", "connected", True, 0.41234, 1, (publisher_track,)),
        ),
        subscribers=(
            SubscriberSnapshot(
                "s1",
                "venue:jp",
                "connected",
                0.3333,
                (
                    subscriber_track,
                    audio_track,
                ),
            ),
        ),
        ended_totals={("venue:jp", "video", "packets_sent"): 100},
        first_frames=FirstFrames(3, 1.5, (0.5, 0.5, 0.5)),
        relays=(
            RelaySnapshot(
                "gz-hall-1",
                "http://origin:8080",
                "live",
                2,
                None,
                True,
                2_500_000.4,
                1200,
                3,
                1,
                0.30123,
                0.05078,
                40,
                37,
                2,
                1.23456,
                3,
                0.7504,
                310,
                29,
                4,
                0.6812,
            ),
        ),
    )


def test_streams_json_keeps_its_shape() -> None:
    streams = streams_json(sample_snapshot(), session_ids=True)
    assert streams == {
        "video_codec": "H264",
        "channels": [
            {
                "id": "gz-hall-1",
                "live": True,
                "subscribers": 3,
                "health": "live",
                "since": "2026-12-06T09:00:00+00:00",
                "source": "backup",
                "backup_ready": False,
                "lost_total": 2,
            }
        ],
        "venues": [
            {
                "id": "jp",
                "routed": "gz-hall-1",
                "on_air": "gz-hall-1",
                "subscribers": 2,
                "last_switch": "2026-12-06T09:00:00+00:00",
                "slate": False,
            }
        ],
        "publishers": [
            {
                "id": "p1",
                "channel": "gz-hall-1",
                "state": "connected",
                "live": True,
                "time_to_first_keyframe_s": 0.412,
                "keyframe_requests_sent": 1,
                "tracks": [
                    {
                        "kind": "video",
                        "bitrate_bps": 2_500_123,
                        "fps": 30.0,
                        "packets": 900,
                        "packets_lost": 3,
                        "nacks_sent": 2,
                        "keyframes": 4,
                        "frames": 300,
                        "nack_retries": 5,
                        "repaired": 6,
                        "given_up": 1,
                        "keyframes_wanted": 2,
                        "repair_rtt_s": 0.3012,
                        "loss_fraction": 0.0508,
                        "freeze_s": 1.235,
                        "freezes": 3,
                    }
                ],
            }
        ],
        "subscribers": [
            {
                "id": "s1",
                "feed": "venue:jp",
                "state": "connected",
                "time_to_first_frame_s": 0.333,
                "tracks": [
                    {
                        "kind": "video",
                        "bitrate_bps": 2_400_001,
                        "fps": 30.0,
                        "packets_sent": 880,
                        "keyframes_sent": 4,
                        "packets_lost": 5,
                        "nacks_received": 6,
                        "retransmitted": 7,
                        "keyframe_requests": 8,
                        "queue_drops": 9,
                        "queued": 10,
                        "rtt_s": 0.0123,
                        "send_errors": 11,
                        "loss_fraction": 0.125,
                        "nack_history": 1024,
                    },
                    {
                        "kind": "audio",
                        "bitrate_bps": 2_400_001,
                        "fps": None,
                        "packets_sent": 880,
                        "keyframes_sent": 4,
                        "packets_lost": 5,
                        "nacks_received": 6,
                        "retransmitted": 7,
                        "keyframe_requests": 8,
                        "queue_drops": 9,
                        "queued": 10,
                        "rtt_s": None,
                        "send_errors": 11,
                        "loss_fraction": 0.125,
                        "nack_history": 1024,
                    },
                ],
            }
        ],
        "relays": [
            {
                "channel": "gz-hall-1",
                "upstream": "http://origin:8080",
                "state": "live",
                "attempts": 2,
                "last_error": None,
                "wanted": True,
                "bitrate_bps": 2500000,
                "packets": 1200,
                "packets_lost": 3,
                "keyframe_requests_sent": 1,
                "rtt_s": 0.3012,
                "loss_fraction": 0.0508,
                "nacks_sent": 40,
                "retransmissions": 37,
                "keyframes_for_loss": 2,
                "freeze_s": 1.235,
                "freezes": 3,
                "hold_s": 0.75,
                "held_packets": 310,
                "holes_repaired_in_hold": 29,
                "hold_skipped": 4,
                "hold_longest_wait_s": 0.681,
            }
        ],
    }


def test_streams_json_without_session_ids_is_the_same_minus_the_ids() -> None:
    full = streams_json(sample_snapshot(), session_ids=True)
    public = streams_json(sample_snapshot(), session_ids=False)
    assert [p.get("id") for p in public["publishers"]] == [None]
    assert [s.get("id") for s in public["subscribers"]] == [None]
    for kind in ("publishers", "subscribers"):
        assert public[kind] == [{k: v for k, v in s.items() if k != "id"} for s in full[kind]]


class SnapshotOf:
    def __init__(self, snapshot: MediaSnapshot) -> None:
        self._snapshot = snapshot

    def snapshot(self) -> MediaSnapshot:
        return self._snapshot


def test_metrics_read_one_snapshot_and_add_the_ended_totals() -> None:
    registry = CollectorRegistry()
    registry.register(MediaCollector(SnapshotOf(sample_snapshot())))
    text = generate_latest(registry).decode()
    lines = {line for line in text.splitlines() if not line.startswith("#")}
    for expected in (
        'venuebridge_media_channel_live{channel="gz-hall-1"} 1.0',
        'venuebridge_media_source_up{channel="gz-hall-1"} 1.0',
        'venuebridge_media_source_on_backup{channel="gz-hall-1"} 1.0',
        'venuebridge_media_source_lost_total{channel="gz-hall-1"} 2.0',
        'venuebridge_media_venue_on_slate{venue="jp"} 0.0',
        'venuebridge_media_publisher_bitrate_bps{channel="gz-hall-1",kind="video"} 2.5001234e+06',
        'venuebridge_media_publisher_keyframes_total{channel="gz-hall-1",kind="video"} 4.0',
        'venuebridge_media_subscribers{feed="venue:jp"} 1.0',
        # 880 sent by the live video track plus 100 by players that have gone.
        'venuebridge_media_subscriber_packets_sent_total{feed="venue:jp",kind="video"} 980.0',
        'venuebridge_media_subscriber_packets_sent_total{feed="venue:jp",kind="audio"} 880.0',
        'venuebridge_media_subscriber_queue_drops_total{feed="venue:jp",kind="video"} 9.0',
        'venuebridge_media_subscriber_rtt_seconds{feed="venue:jp"} 0.012345',
        'venuebridge_media_relay_up{channel="gz-hall-1",upstream="http://origin:8080"} 1.0',
        'venuebridge_media_relay_attempts_total{channel="gz-hall-1",upstream="http://origin:8080"}'
        " 2.0",
        'venuebridge_media_relay_packets_lost_total{channel="gz-hall-1",upstream="http://origin:8080"}'
        " 3.0",
        'venuebridge_media_subscriber_loss_ratio{feed="venue:jp"} 0.125',
        'venuebridge_media_relay_rtt_seconds{channel="gz-hall-1",upstream="http://origin:8080"}'
        " 0.30123",
        'venuebridge_media_relay_loss_ratio{channel="gz-hall-1",upstream="http://origin:8080"}'
        " 0.05078",
        'venuebridge_media_relay_nacks_sent_total{channel="gz-hall-1",upstream="http://origin:8080"}'
        " 40.0",
        "venuebridge_media_relay_retransmissions_total"
        '{channel="gz-hall-1",upstream="http://origin:8080"} 37.0',
        "venuebridge_media_relay_keyframe_requests_total"
        '{channel="gz-hall-1",upstream="http://origin:8080"} 1.0',
        "venuebridge_media_relay_keyframes_for_loss_total"
        '{channel="gz-hall-1",upstream="http://origin:8080"} 2.0',
        'venuebridge_media_relay_freezes_total{channel="gz-hall-1",upstream="http://origin:8080"}'
        " 3.0",
        "venuebridge_media_relay_freeze_seconds_total"
        '{channel="gz-hall-1",upstream="http://origin:8080"} 1.23456',
        "venuebridge_media_relay_holes_repaired_in_hold_total"
        '{channel="gz-hall-1",upstream="http://origin:8080"} 29.0',
        "venuebridge_media_relay_hold_skipped_total"
        '{channel="gz-hall-1",upstream="http://origin:8080"} 4.0',
        "venuebridge_media_time_to_first_frame_seconds_count 3.0",
        "venuebridge_media_time_to_first_frame_seconds_sum 1.5",
    ):
        assert expected in lines, expected

"""The views built on one media snapshot: /api/streams JSON and /metrics."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest

from streaming.metrics import MediaCollector
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
from streaming.stats import streams_json

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
        venues=(VenueOutputSnapshot("jp", "gz-hall-1", "gz-hall-1", 2, SWITCH, language="ja"),),
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
                "language": "ja",
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

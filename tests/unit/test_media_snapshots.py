"""The media hub's read-only snapshots and the stats sampler (views: test_media_views.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from config import Event
from streaming.errors import NotFound
from streaming.hub import MediaHub
from streaming.link_health import FreezeMeter
from streaming.nack import NackScheduler
from streaming.snapshots import (
    ChannelSnapshot,
    FirstFrames,
)
from streaming.stats import StatsSampler


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

"""aiortc publisher -> venuebridge -> aiortc subscribers, over real ICE/DTLS/SRTP."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import pytest

from config import Settings
from signaling.auth import Grant, Role
from streaming.http_rules import session_id_of
from streaming.hub import callback_listener
from streaming.native import load as load_native
from streaming.native_batch import FrameBatch, NativeBatch
from streaming.ports import SwitchEvent
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import Subscriber, needs_network, publish, subscribe
from web.keys import AUTHORITY, SETTINGS

pytestmark = [pytest.mark.network, needs_network]


@pytest.fixture(params=["frames", "native", "plain"])
def media_settings(request: pytest.FixtureRequest, media_settings: Settings) -> Settings:
    """Every test here runs on the three send paths: native a frame at a time (UDP GSO),
    native packet by packet (``media.frame_send = false``), plain (``native_send = false``)."""
    native = request.param != "plain"
    if native and load_native() is None and os.environ.get("CI") != "true":
        pytest.skip("the native send path is not built (bash scripts/setup.sh)")
    media = dataclasses.replace(
        media_settings.media, native_send=native, frame_send=request.param == "frames"
    )
    return dataclasses.replace(media_settings, media=media)


def check_send_path(server: MediaServer, channel: str) -> None:
    """The channel's packets went the way the settings asked."""
    source = server.hub._sources[channel]
    media = server.app[SETTINGS].media
    assert isinstance(source.batch, NativeBatch) == media.native_send
    assert isinstance(source.video_batch, FrameBatch) == (media.native_send and media.frame_send)
    if isinstance(source.batch, NativeBatch):
        assert source.batch.packets > 0
    if isinstance(source.video_batch, FrameBatch):
        assert source.video_batch.frames > 0


BRIGHT, DARK = 200, 60


class CodecCalls:
    """Counts aiortc codec creations in this process (clients and server alike)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.encoders: list[str] = []
        self.decoders: list[str] = []
        self._wrap(monkeypatch, aiortc.rtcrtpsender, "get_encoder", self.encoders)
        self._wrap(monkeypatch, aiortc.rtcrtpreceiver, "get_decoder", self.decoders)

    @staticmethod
    def _wrap(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, calls: list[str]) -> None:
        original: Callable[[Any], Any] = getattr(module, name)

        def record(codec: Any) -> Any:
            calls.append(codec.mimeType)
            return original(codec)

        monkeypatch.setattr(module, name, record)


def near(value: int | None, target: int) -> bool:
    return value is not None and abs(value - target) < 25


def frames_grow(subscribers: list[Subscriber], by: int) -> Callable[[], bool]:
    marks = [s.frames for s in subscribers]
    return lambda: all(s.frames >= m + by for s, m in zip(subscribers, marks, strict=True))


def server_writer(server: MediaServer, subscriber: Subscriber, video: bool = True) -> Any:
    # Fault injection swaps the writer's socket, so this test reaches inside the hub.
    session = server.hub._subscribers[session_id_of(subscriber.location.rsplit("/", 1)[1])]
    return next(t.writer for t in session.tracks if t.video is video)


async def test_fan_out_late_join_stall_reconnect_and_switch(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    codecs = CodecCalls(monkeypatch)
    hub, http, url = media_server.hub, media_server.http, media_server.url
    switches: list[SwitchEvent] = []
    hub.add_switch_listener(callback_listener(switches.append))
    peers: list[Any] = []
    try:
        # OBS-like: the publisher ignores keyframe requests, so only the GOP cache helps.
        first = await publish(
            http, f"{url}/whip/gz-hall-1", PRODUCER_SECRET, BRIGHT, ignore_keyframe_requests=True
        )
        peers.append(first)
        await eventually(lambda: hub.channel("gz-hall-1").live, "the publisher to go live")
        viewers = [await subscribe(http, f"{url}/whep/gz-hall-1") for _ in range(3)]
        peers += viewers
        await eventually(lambda: all(s.frames >= 30 for s in viewers), "30 frames at each viewer")
        assert all(near(s.last_luma, BRIGHT) for s in viewers)
        assert all(s.audio_frames > 0 for s in viewers)

        # Stats: the once-a-second sampler fills bitrates and frame rates.
        async def stats_ready() -> bool:
            async with http.get(f"{url}/api/streams") as response:
                streams = await response.json()
            video = [t for t in streams["publishers"][0]["tracks"] if t["kind"] == "video"]
            players = streams["subscribers"]
            return (
                video[0]["bitrate_bps"] > 10_000
                and video[0]["fps"] > 20
                and len(players) == 3
                and all(p["time_to_first_frame_s"] is not None for p in players)
                and all(t["packets_sent"] > 0 for p in players for t in p["tracks"])
            )

        await eventually(stats_ready, "bitrate and fps in /api/streams")
        async with http.get(f"{url}/metrics") as response:
            metrics = await response.text()
        assert 'venuebridge_media_subscribers{feed="channel:gz-hall-1"} 3.0' in metrics
        assert "venuebridge_media_publisher_keyframes_total" in metrics

        # A late joiner starts from the cached group of pictures at once.
        await eventually(lambda: viewers[0].frames >= 60, "two seconds of playing")
        late = await subscribe(http, f"{url}/whep/gz-hall-1")
        peers.append(late)
        await eventually(lambda: late.frames > 0, "the late joiner's first frame", within=5)
        assert late.first_frame_after is not None
        assert late.first_frame_after < 1.5

        # A stalled subscriber: its UDP path stops taking packets; the others carry on.
        stalled = viewers[0]
        writer = server_writer(media_server, stalled)
        real_sink = writer.sink

        class StalledSink:
            send_errors = 0

            def writable(self) -> bool:
                return False

            def batch_target(self) -> None:
                return None

            def send_rtp(self, *packet: object) -> bool:
                return False

        writer.capacity = 32  # a small queue overflows within a second at this bitrate
        writer.sink = StalledSink()
        await eventually(lambda: writer.stats.dropped > 0, "the stalled queue to overflow")
        await eventually(frames_grow([*viewers[1:], late], 60), "others to keep playing")
        writer.sink = real_sink
        await eventually(frames_grow([stalled], 30), "the stalled viewer to recover")

        # Publisher reconnect: a new publish replaces the old; viewers keep their connection.
        pcs_before = [s.pc for s in viewers]
        marks = [len(s.pts) for s in viewers]
        second = await publish(http, f"{url}/whip/gz-hall-1", PRODUCER_SECRET, DARK)
        peers.append(second)
        await eventually(lambda: all(near(s.last_luma, DARK) for s in viewers), "the new picture")
        await eventually(lambda: len(hub.publishers()) == 1, "the old publisher to be ended")
        assert [s.pc for s in viewers] == pcs_before
        assert all(s.pc.connectionState == "connected" for s in viewers)
        for s, mark in zip(viewers, marks, strict=True):
            # Monotonic throughout; across the reconnect, no jump beyond the gap itself.
            steps = [b - a for a, b in zip(s.pts, s.pts[1:], strict=False)]
            assert all(step > 0 for step in steps)
            assert all(step < 90000 * 3 for step in steps[mark - 1 :])

        # Venue output: route hall 1, then switch to the US return feed.
        us = await publish(http, f"{url}/whip/us-return", PRODUCER_SECRET, BRIGHT)
        peers.append(us)
        await eventually(lambda: hub.channel("us-return").live, "the US return feed")
        # The Tokyo operator's projector plays the venue output with their own token.
        operator = Grant(identity="op-tokyo", role=Role.OPERATOR, venue="jp")
        operator_token = media_server.app[AUTHORITY].mint(operator, ttl=600)
        projector = await subscribe(http, f"{url}/whep/venue/jp", token=operator_token)
        peers.append(projector)
        headers = {"Authorization": f"Bearer {PRODUCER_SECRET}"}
        async with http.post(
            f"{url}/api/venues/jp/route", json={"channel": "gz-hall-1"}, headers=headers
        ) as response:
            assert response.status == 202
        await eventually(lambda: near(projector.last_luma, DARK), "hall 1 on the jp output")
        asked = time.time()
        async with http.post(
            f"{url}/api/venues/jp/route", json={"channel": "us-return"}, headers=headers
        ) as response:
            assert response.status == 202
        await eventually(lambda: near(projector.last_luma, BRIGHT), "the US feed on the jp output")
        assert projector.pc.connectionState == "connected"
        await eventually(lambda: projector.audio_frames > 0, "audio on the jp output")
        cut = [e for e in switches if e.venue == "jp" and e.channel == "us-return"]
        assert len(cut) == 1
        assert cut[0].previous == "gz-hall-1"
        assert cut[0].at.timestamp() >= asked - 0.01

        # Every viewer above (the venue's projector too) was served by the path asked for.
        check_send_path(media_server, "gz-hall-1")
        check_send_path(media_server, "us-return")

        # Nothing was ever encoded or decoded in the server: only the clients' codecs exist.
        assert len(codecs.encoders) == 2 * 3  # three publishers, audio + video each
        assert len(codecs.decoders) == 2 * (len(viewers) + 2)  # viewers, late, projector
    finally:
        for peer in peers:
            await (peer.close() if isinstance(peer, Subscriber) else peer.pc.close())

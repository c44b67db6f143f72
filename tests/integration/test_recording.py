"""Recording on a real server: 20 s from an aiortc publisher whose picture and tone step
each second; the file decodes with PyAV, lasts 20 s, keeps audio and video in sync; a
reconnect, a ``kill -9`` and the free-space floor."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import pytest

from config import Event, Settings
from config.hls_settings import HlsSettings
from config.recording_settings import RecordingSettings
from signaling.records.recordings import RecordingIndex
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.integration.server_process import SECRET, serve
from tests.pattern_peers import publish_pattern, read_steps, sync_offsets
from web.app import create_app
from web.keys import MEDIA
from web.recording_wiring import RECORDER, RECORDINGS
from web.remux_wiring import FRAME_SOURCES
from web.server import start_server

pytestmark = pytest.mark.requires("network")
CHANNEL = "gz-hall-1"  # a programme channel of the reference event


@pytest.fixture
def recording_settings(tmp_path: Path) -> RecordingSettings:
    return RecordingSettings(directory=tmp_path / "rec", idle_close_seconds=2.0, min_free_mb=1)


@contextlib.asynccontextmanager
async def _server(settings: Settings, event: Event) -> AsyncIterator[MediaServer]:
    app = create_app(settings, event)
    server = await start_server(app, settings, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http:
            yield MediaServer(f"http://127.0.0.1:{server.port}", app, http)
    finally:
        await server.aclose()


@pytest.fixture
async def recording_server(
    tmp_path: Path, recording_settings: RecordingSettings, reference_event: Event
) -> AsyncIterator[MediaServer]:
    settings = local_settings(
        data_dir=tmp_path / "data", producer_secret=PRODUCER_SECRET, recording=recording_settings
    )
    async with _server(settings, reference_event) as server:
        yield server


def _closed_files(server: MediaServer) -> list[Path]:
    return [f.path for f in server.app[RECORDINGS].files(CHANNEL) if not f.open]


async def _publish_for(server: MediaServer, seconds: float, base: int = 40) -> None:
    publisher = await publish_pattern(
        server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, base
    )
    try:
        await asyncio.sleep(seconds)
    finally:
        async with server.http.delete(
            aiohttp.client.URL(server.url).join(aiohttp.client.URL(publisher.location)),
            headers={"Authorization": f"Bearer {PRODUCER_SECRET}"},
        ):
            pass
        await publisher.pc.close()


def _metric(text: str, name: str, channel: str | None = None) -> float:
    """The sum of ``name``'s samples (of ``channel``'s, when given) in /metrics text."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (channel is None or f'channel="{channel}"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.timeout(90)
async def test_twenty_seconds_recorded_in_sync(recording_server: MediaServer) -> None:
    publishing = asyncio.create_task(_publish_for(recording_server, 20.0))
    await asyncio.sleep(12.0)
    async with recording_server.http.get(f"{recording_server.url}/metrics") as response:
        metrics = await response.text()
    app = recording_server.app
    source = app[FRAME_SOURCES].source_of(app[MEDIA].channel_feed(CHANNEL))
    listeners = source.listeners if source is not None else 0
    await publishing
    assert listeners == 2  # the recorder's remux and the HLS packager's, on one source
    # Recorded and packaged for HLS at once, the channel is depacketized once: every
    # depacketized packet is one the publisher sent (twice as many if each did it).
    received = _metric(metrics, "venuebridge_media_publisher_packets_total", CHANNEL)
    depacketized = _metric(metrics, "venuebridge_remux_depacketized_packets_total")
    print(json.dumps({"publisher_packets": received, "depacketized_packets": depacketized}))
    assert 0.8 * received <= depacketized <= 1.02 * received
    await eventually(lambda: bool(_closed_files(recording_server)), "the file to close (idle)", 15)
    [entry] = recording_server.app[RECORDINGS].files(CHANNEL)
    assert entry.kind == "mp4"
    assert entry.end_reason == "idle"
    steps = read_steps(str(entry.path))
    with av.open(str(entry.path)) as container:
        duration = (container.duration or 0) / 1_000_000
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "opus"
    offsets = sync_offsets(steps)
    print(
        json.dumps(
            {
                "recording_duration_s": round(duration, 3),
                "video_span": steps.video_span,
                "audio_span": steps.audio_span,
                "frames": steps.frames,
                "av_offsets_ms": [round(o * 1000) for o in offsets],
            }
        )
    )
    assert abs(duration - 20.0) <= 0.5
    assert abs(entry.duration - 20.0) <= 0.5  # the index says so too
    assert steps.frames >= 20 * 30 * 0.9
    assert [level for _, level in steps.video[:7]] == [0, 1, 2, 3, 4, 5, 0]
    assert [level for _, level in steps.audio[:7]] == [0, 1, 2, 3, 4, 5, 0]
    assert len(offsets) >= 15
    assert abs(statistics.median(offsets)) <= 0.1  # lip sync: 100 ms at most


@pytest.mark.timeout(90)
async def test_a_reconnect_leaves_a_playable_file_with_both_halves(
    recording_server: MediaServer,
) -> None:
    await _publish_for(recording_server, 5.0, base=40)
    await asyncio.sleep(0.5)  # shorter than idle_close_seconds: the same file goes on
    await _publish_for(recording_server, 5.0, base=55)
    await eventually(lambda: bool(_closed_files(recording_server)), "the file to close (idle)", 15)
    entries = recording_server.app[RECORDINGS].files(CHANNEL)
    assert len(entries) == 1
    steps = read_steps(str(entries[0].path))
    # Both publishers' pictures are in it, in order: the first's lumas are 40 + 30k,
    # the second's 55 + 30k.
    with av.open(str(entries[0].path)) as container:
        halves = [
            "first" if (luma - 40) % 30 in (0, 1, 2, 28, 29) else "second"
            for luma in (
                bytes(f.planes[0])[f.planes[0].line_size * 120 + 160]
                for f in container.decode(video=0)
            )
        ]
    first, second = halves.count("first"), halves.count("second")
    assert halves == ["first"] * first + ["second"] * second
    assert first >= 4 * 30
    assert second >= 4 * 30
    assert steps.video_span[1] - steps.video_span[0] >= 9.5  # 5 s + the gap + 5 s


async def test_the_free_space_floor_stops_recording_with_an_alarm(
    tmp_path: Path, reference_event: Event
) -> None:
    floor = 100_000_000  # MiB: above any disk this runs on
    assert floor > (os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize) / 2**20
    settings = local_settings(
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        recording=RecordingSettings(directory=tmp_path / "rec", min_free_mb=floor),
    )
    async with _server(settings, reference_event) as server:
        recorder = server.app[RECORDER]
        await eventually(lambda: recorder.alarm is not None, "the alarm")
        await _publish_for(server, 2.0)
        async with server.http.get(f"{server.url}/healthz") as response:
            health = await response.json()
        async with server.http.get(f"{server.url}/metrics") as response:
            metrics = await response.text()
        assert health["recording"]["running"] is False
        assert "min_free_mb" in health["alarms"][0]
        assert "venuebridge_recording_stopped 1.0" in metrics
        assert list((tmp_path / "rec").glob("*/*.mp4")) == []
        assert recorder.alarms_raised == 1  # raised once, not every tick


@pytest.mark.timeout(90)
async def test_kill_9_leaves_a_playable_file(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    env = {"VENUEBRIDGE_RECORDING_DIRECTORY": str(directory)}
    async with serve(tmp_path / "data", env) as server:
        publisher = await publish_pattern(server.http, f"{server.url}/whip/{CHANNEL}", SECRET)
        try:
            await asyncio.sleep(8.0)
            server.process.send_signal(signal.SIGKILL)
            await server.process.wait()
        finally:
            await publisher.pc.close()
    [entry] = RecordingIndex(directory).files(CHANNEL)
    assert entry.open  # nobody closed it: the process died
    steps = read_steps(str(entry.path))
    print(json.dumps({"after_kill_9_video_span": steps.video_span, "frames": steps.frames}))
    assert steps.frames >= 3 * 30  # at least the fragments before the last one
    assert steps.video_span[1] >= 3.0
    # The next start closes what the dead process left open, at its last update.
    assert RecordingIndex(directory).close_unfinished() == 1
    [closed] = RecordingIndex(directory).files(CHANNEL)
    assert closed.end_reason == "crash"
    assert closed.ended_at == closed.updated_at


@pytest.mark.timeout(90)
async def test_with_hls_off_recording_reads_alone_and_with_both_off_nothing_is_read(
    tmp_path: Path, reference_event: Event
) -> None:
    off = HlsSettings(enabled=False)
    for recording in (RecordingSettings(directory=tmp_path / "rec", min_free_mb=1), None):
        wanted = recording or RecordingSettings(programme=False, returns=False)
        settings = local_settings(
            data_dir=tmp_path / "data", producer_secret=PRODUCER_SECRET, recording=wanted, hls=off
        )
        async with _server(settings, reference_event) as server:
            await _publish_for(server, 3.0)
            frames = server.app[FRAME_SOURCES]
            async with server.http.get(f"{server.url}/metrics") as response:
                metrics = await response.text()
            depacketized = _metric(metrics, "venuebridge_remux_depacketized_packets_total")
            if recording is None:
                assert depacketized == 0
                assert frames.active == 0
            else:
                assert depacketized > 0
                # Only the recorder reads the channel: one listener on its source.
                source = frames.source_of(server.app[MEDIA].channel_feed(CHANNEL))
                assert source is not None
                assert source.listeners == 1
                assert server.app[RECORDINGS].files(CHANNEL)

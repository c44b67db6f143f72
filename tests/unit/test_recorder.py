"""The recorder without a network: real channel sources fed aiortc-made RTP, real files.

Rotation at session boundaries and hourly (files join at a keyframe, each playable),
live interpretations as extra audio tracks, retention, and the index contract.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from config import load_settings
from config.recording_settings import RecordingSettings
from config.setting_sections import SettingsError
from signaling.records.recordings import RecordingIndex, from_json
from streaming.feed import Feed
from streaming.recorder.recorder import MediaSide, Recorder
from streaming.source import ChannelSource
from tests.remux_media import RtpMaker, tone


class Clock:
    """Monotonic time the test moves (packets are stamped with it too)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Publisher:
    def send_keyframe_request(self) -> None:
        """Keyframes come every second anyway."""


class Channel:
    """One channel's source and a publisher feeding it second by second."""

    def __init__(self, name: str, clock: Clock, languages: tuple[str, ...] = ()) -> None:
        self.source = ChannelSource(name, clock)
        self.clock = clock
        epoch = self.source.attach_publisher(Publisher())
        self.video = RtpMaker("video/H264", epoch=epoch)
        self.audio = RtpMaker("audio/opus", 48000, epoch)
        self.frames = 0
        self.languages = languages
        self.pulled = False  # the channel arrives over a relay link
        self.booths = {lang: ChannelSource(f"{name}-{lang}", clock) for lang in languages}
        self.booth_audio = {
            lang: RtpMaker("audio/opus", 48000, booth.attach_publisher(Publisher()))
            for lang, booth in self.booths.items()
        }

    def media(self) -> MediaSide:
        def feed(channel: str) -> Feed:
            return self.source

        def language_feed(channel: str, language: str) -> Feed:
            return self.booths[language]

        return MediaSide(
            feed, language_feed, lambda channel: self.languages, "H264", lambda _: self.pulled
        )

    def second(self) -> None:
        """One second of video (30 fps, a keyframe first) and audio, in arrival order."""
        for index in range(30):
            for packet in self.video.video_packets(self.frames):
                packet.arrival = self.clock.now
                self.source.push(packet)
            for step in range(self.frames * 5 // 3, (self.frames + 1) * 5 // 3):
                sound = tone(step, 440)
                for packet in self.audio.packets(sound, self.clock.now):
                    self.source.push(packet)
                for booth_name, maker in self.booth_audio.items():
                    for packet in maker.packets(tone(step, 880), self.clock.now):
                        self.booths[booth_name].push(packet)
            self.frames += 1
            self.clock.now += 1 / 30
            del index


def recorder_for(
    channel: Channel, directory: Path, session: list[str | None], **settings: object
) -> tuple[Recorder, RecordingIndex]:
    index = RecordingIndex(directory)
    recorder = Recorder(
        [channel.source.channel],
        channel.media(),
        RecordingSettings(min_free_mb=0, **settings),  # type: ignore[arg-type]
        directory,
        index,
        session_on=lambda name: session[0],
        monotonic=channel.clock,
        wall_clock=lambda: datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=channel.clock()),
    )
    directory.mkdir(parents=True, exist_ok=True)
    return recorder, index


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def video_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.time or 0) for f in container.decode(video=0)]


async def test_files_rotate_at_a_session_boundary_and_join_at_a_keyframe(tmp_path: Path) -> None:
    clock, session = Clock(), ["s1"]
    channel = Channel("gz-hall-1", clock)
    recorder, index = recorder_for(channel, tmp_path / "rec", session)
    await recorder.tick()  # starts the channel's remux
    for _ in range(3):
        channel.second()
        await _settle()
    session[0] = "s2"
    await recorder.tick()  # asks for a new file at the next keyframe
    for _ in range(2):
        channel.second()
        await _settle()
    await recorder.aclose()
    first, second = index.files("gz-hall-1")
    assert first.end_reason == "session"
    assert second.end_reason == "shutdown"
    # Nothing lost between them: 3 s then 2 s, and the second starts where the first ends.
    assert len(video_times(first.path)) == 90
    assert len(video_times(second.path)) == 60
    assert first.duration == pytest.approx(3.0, abs=0.05)
    gap = (second.started_at - first.started_at).total_seconds() - first.duration
    assert abs(gap) < 0.05


async def test_a_file_never_runs_past_rotate_minutes(tmp_path: Path) -> None:
    clock = Clock()
    channel = Channel("gz-hall-1", clock)
    recorder, index = recorder_for(channel, tmp_path / "rec", [None], rotate_minutes=1.0)
    await recorder.tick()
    for _ in range(62):  # the tick after the 61st second sees 60 s have passed
        channel.second()
        await _settle()
        await recorder.tick()
    channel.second()
    await _settle()
    await recorder.aclose()
    files = index.files("gz-hall-1")
    assert [f.end_reason for f in files] == ["hourly", "shutdown"]
    assert 60.0 <= files[0].duration <= 62.0
    assert files[0].path.name != files[1].path.name


async def test_live_interpretations_are_extra_audio_tracks(tmp_path: Path) -> None:
    clock = Clock()
    channel = Channel("gz-hall-1", clock, languages=("ja",))
    recorder, index = recorder_for(channel, tmp_path / "rec", [None])
    await recorder.tick()
    for _ in range(2):
        channel.second()
        await _settle()
    await recorder.aclose()
    [entry] = index.files("gz-hall-1")
    assert entry.languages == ("", "ja")
    with av.open(str(entry.path)) as container:
        assert len(container.streams.audio) == 2
        assert container.streams.audio[1].metadata.get("language") == "jpn"
        assert container.streams.audio[1].metadata.get("handler_name") == "ja"
        assert container.streams.audio[0].metadata.get("handler_name") == "floor"
        samples = sum(f.samples for f in container.decode(audio=1))
    assert samples >= 1.5 * 48000


async def test_a_pulled_channel_is_left_to_its_origin(tmp_path: Path) -> None:
    """A channel that arrives over a relay link is not recorded again, and no reader of
    its language tracks is left attached (that would keep their pulls alive)."""
    clock = Clock()
    channel = Channel("gz-hall-1", clock, languages=("ja",))
    recorder, index = recorder_for(channel, tmp_path / "rec", [None])
    await recorder.tick()
    channel.second()
    await _settle()
    assert channel.booths["ja"].consumer_count == 1
    channel.pulled = True  # the floor now comes from another node
    await recorder.tick()
    await _settle()
    assert channel.source.consumer_count == 0
    assert channel.booths["ja"].consumer_count == 0
    [entry] = index.files("gz-hall-1")
    assert entry.end_reason == "relayed"
    channel.second()
    await recorder.tick()
    await recorder.aclose()
    assert len(index.files("gz-hall-1")) == 1


async def test_idle_close_ends_the_file_when_the_publisher_left(tmp_path: Path) -> None:
    clock = Clock()
    channel = Channel("gz-hall-1", clock)
    recorder, index = recorder_for(channel, tmp_path / "rec", [None], idle_close_seconds=5.0)
    await recorder.tick()
    channel.second()
    await _settle()
    clock.now += 6
    await recorder.tick()
    await _settle()
    [entry] = index.files("gz-hall-1")
    assert entry.end_reason == "idle"
    await recorder.aclose()


def test_retention_deletes_old_files_and_their_index_entries(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    index = RecordingIndex(directory)
    (directory / "gz-hall-1").mkdir(parents=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    paths = [directory / "gz-hall-1" / f"gz-hall-1-{n}.mp4" for n in range(3)]
    for number, path in enumerate(paths):
        path.write_bytes(b"x")
        index.file_opened("gz-hall-1", path, "mp4", ("",), start + timedelta(hours=number))
        if number < 2:
            index.file_closed(path, 3600.0, start + timedelta(hours=number + 1), "hourly")
    old = time.time() - 3 * 86400
    for path in paths[:2]:
        os.utime(path, (old, old))
    os.utime(paths[2], (old, old))  # old too, but still being written: kept
    clock = Clock()
    recorder = Recorder(
        ["gz-hall-1"],
        Channel("gz-hall-1", clock).media(),
        RecordingSettings(retention_days=2.0),
        directory,
        index,
    )
    recorder.open_files = lambda: [paths[2]]  # type: ignore[method-assign]
    removed = recorder.sweep()
    assert sorted(removed) == paths[:2]
    assert [p.exists() for p in paths] == [False, False, True]
    assert [f.path for f in index.files()] == [paths[2]]
    short = Recorder(
        ["x"], Channel("x", clock).media(), RecordingSettings(retention_days=0), directory, index
    )
    assert short.sweep() == []  # 0 keeps everything


def test_index_maps_wall_clock_to_offsets(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    (directory / "c").mkdir(parents=True)
    index = RecordingIndex(directory)
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    path = directory / "c" / "c-1.mp4"
    index.file_opened("c", path, "mp4", ("", "ja"), start)
    index.file_progress(path, 120.0, start + timedelta(seconds=120))
    [entry] = index.files("c", start + timedelta(seconds=60), start + timedelta(seconds=90))
    assert entry.open
    assert entry.offset_at(start + timedelta(seconds=75)) == 75.0
    assert entry.offset_at(start - timedelta(seconds=1)) is None
    assert entry.offset_at(start + timedelta(seconds=121)) is None
    assert index.files("c", start + timedelta(seconds=200), None) == []
    sidecar = json.loads((directory / "c" / "c-1.mp4.json").read_text())
    assert sidecar["started_at"] == "2026-03-01T09:00:00+00:00"
    assert sidecar["ended_at"] is None
    # Another process's open file, updated a moment ago, is left alone; a stale one closes.
    other = RecordingIndex(directory)
    assert other.close_unfinished(before=start + timedelta(seconds=60)) == 0
    assert other.close_unfinished(before=start + timedelta(seconds=121)) == 1
    [closed] = other.files("c")
    assert closed.ended_at == start + timedelta(seconds=120)
    assert closed.end_reason == "crash"
    with pytest.raises(ValueError, match="lacks"):
        from_json({"channel": "c"}, directory)
    (directory / "c" / "broken.mp4.json").write_text("{")
    assert len(index.files()) == 1  # a broken sidecar is skipped, not fatal


def test_recording_settings_are_checked() -> None:
    settings = load_settings(
        environ={
            "VENUEBRIDGE_RECORDING_RETURNS": "false",
            "VENUEBRIDGE_RECORDING_MIN_FREE_MB": "500",
            "VENUEBRIDGE_RECORDING_RETENTION_DAYS": "7",
        }
    )
    assert settings.recording.returns is False
    assert settings.recording.min_free_mb == 500
    for key, value, says in (
        ("ROTATE_MINUTES", "61", "recording.rotate_minutes"),
        ("RETENTION_DAYS", "-1", "recording.retention_days"),
        ("FRAGMENT_SECONDS", "0.1", "recording.fragment_seconds"),
        ("IDLE_CLOSE_SECONDS", "0", "recording.idle_close_seconds"),
    ):
        with pytest.raises(SettingsError, match=says):
            load_settings(environ={f"VENUEBRIDGE_RECORDING_{key}": value})


async def test_the_floor_stops_and_resumes_with_a_margin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    free = [5000.0]
    monkeypatch.setattr("streaming.recorder.recorder.free_mb", lambda directory: free[0])
    clock = Clock()
    channel = Channel("gz-hall-1", clock)
    recorder, index = recorder_for(channel, tmp_path / "rec", [None])
    recorder._settings = RecordingSettings(min_free_mb=1000)
    await recorder.tick()
    channel.second()
    await _settle()
    free[0] = 999.0
    await recorder.tick()
    assert recorder.alarm is not None
    assert "below the floor of 1000 MiB" in recorder.alarm
    [stopped] = index.files("gz-hall-1")
    assert stopped.end_reason == "disk-floor"
    free[0] = 1010.0  # above the floor, but not by the margin: still stopped
    await recorder.tick()
    assert recorder.alarm is not None
    free[0] = 1100.0
    await recorder.tick()
    assert recorder.alarm is None
    channel.second()
    await _settle()
    await recorder.aclose()
    assert [f.end_reason for f in index.files("gz-hall-1")] == ["disk-floor", "shutdown"]
    assert recorder.alarms_raised == 1

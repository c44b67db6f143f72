"""Records channels while they are live: one ``ChannelRemux`` each, files rotated at
session boundaries and at least every ``rotate_minutes``, recording stopped (with an
alarm) while the disk's free space is below the floor, old files deleted.

One task (``tick`` every ``tick_seconds``) makes every decision; the remux tasks only
write. Nothing here runs on the forwarding path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.recording_settings import RecordingSettings
from streaming.feed import Feed
from streaming.recorder.disk import free_mb, sweep
from streaming.recorder.file_sink import FileSink
from streaming.recorder.ports import RecordingJournal
from streaming.remux import ChannelRemux, ContainerStart, FrameSources

logger = logging.getLogger(__name__)

# Stopped by the floor, recording resumes at this much (or 5 %) above it.
RESUME_MARGIN_MB = 64.0
# An open file whose index entry is older than this belongs to a process that died.
STALE_OPEN_SECONDS = 120.0
# The retention sweep runs this often (seconds), and once at start.
SWEEP_EVERY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class MediaSide:
    """What the recorder reads from the media hub."""

    feed: Callable[[str], Feed]
    language_feed: Callable[[str, str], Feed]
    live_languages: Callable[[str], tuple[str, ...]]
    video_codec: str
    # The channel is pulled over a relay link here: its origin records it. Recording a
    # pull would write a second copy and, by reading its language tracks, keep their
    # pulls alive with nobody listening.
    pulled: Callable[[str], bool] = lambda channel: False
    # Shared with the HLS packager: a channel both record and package is depacketized
    # once (None: each recording depacketizes its own).
    frames: FrameSources | None = None


@dataclass(slots=True)
class _Channel:
    remux: ChannelRemux
    languages: tuple[str, ...]
    sink: FileSink | None = None
    opened_at: float = 0.0
    session: str | None = None
    files: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    """For /healthz and /metrics."""

    alarm: str | None  # why recording is stopped, in words (None: recording runs)
    free_mb: float
    open_files: int
    files_written: int
    bytes_written: int
    dropped_packets: int


class Recorder:
    """Owns every recording of this process."""

    def __init__(
        self,
        channels: Sequence[str],
        media: MediaSide,
        settings: RecordingSettings,
        directory: Path,
        journal: RecordingJournal,
        session_on: Callable[[str], str | None] = lambda channel: None,
        tick_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self._channel_ids = tuple(channels)
        self._media = media
        self._settings = settings
        self._journal = journal
        self._session_on = session_on
        self._tick_seconds = tick_seconds
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._idle_close = settings.idle_close_seconds
        self._channels: dict[str, _Channel] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_sweep = -SWEEP_EVERY_SECONDS
        self.alarm: str | None = None
        self.free_mb = 0.0
        self.files_written = 0
        self.bytes_written = 0
        self.alarms_raised = 0

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._run(), name="recorder")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._stop_all("shutdown")

    def status(self) -> RecorderStatus:
        return RecorderStatus(
            self.alarm,
            self.free_mb,
            sum(1 for c in self._channels.values() if c.remux.recording),
            self.files_written,
            self.bytes_written,
            sum(c.remux.dropped for c in self._channels.values()),
        )

    def open_files(self) -> list[Path]:
        """The files being written now."""
        return [c.sink.path for c in self._channels.values() if c.sink is not None]

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                logger.exception("the recorder's tick failed")
            await asyncio.sleep(self._tick_seconds)

    # -- decisions ----------------------------------------------------------------------

    async def tick(self) -> None:
        """Check the disk, start, rotate and close recordings, sweep old files."""
        now = self._monotonic()
        if not await self._disk_ok():
            return
        for channel in self._channel_ids:
            await self._check(channel, now)
        if now - self._last_sweep >= SWEEP_EVERY_SECONDS:
            self._last_sweep = now
            self.sweep()

    def sweep(self) -> list[Path]:
        """Delete files past retention now (never an open one); close stale open files."""
        open_files = set(self.open_files())
        removed = sweep(self.directory, self._settings.retention_days, open_files.__contains__)
        for path in removed:
            self._journal.file_removed(path)
        # Files a killed process left open (a live one updates its index every 10 s).
        stale = self._wall_clock() - timedelta(seconds=STALE_OPEN_SECONDS)
        closed = self._journal.close_unfinished(stale)
        if closed:
            logger.warning("%d recording file(s) left open by a stopped process closed", closed)
        return removed

    async def _disk_ok(self) -> bool:
        try:
            self.free_mb = free_mb(self.directory)
        except OSError as error:
            self.free_mb = 0.0
            reason = f"the recording directory {self.directory} is unusable: {error}"
        else:
            floor = self._settings.min_free_mb
            # Stopped, it waits for a margin above the floor, so a disk hovering at the
            # floor does not start and stop a file every tick.
            needed = floor if self.alarm is None else floor + max(RESUME_MARGIN_MB, floor * 0.05)
            if self.free_mb >= needed:
                if self.alarm is not None:
                    logger.warning("recording resumes: %.0f MiB free", self.free_mb)
                    self.alarm = None
                return True
            reason = (
                f"recording stopped: {self.free_mb:.0f} MiB free on {self.directory}, "
                f"below the floor of {floor} MiB (recording.min_free_mb)"
            )
        if self.alarm is None:
            self.alarms_raised += 1
            logger.error("%s", reason)
        self.alarm = reason
        await self._stop_all("disk-floor")
        return False

    async def _check(self, channel: str, now: float) -> None:
        if self._media.pulled(channel):
            if channel in self._channels:
                await self._stop(channel, "relayed")
            return
        languages = self._media.live_languages(channel) if self._settings.languages else ()
        found = self._channels.get(channel)
        if found is not None and found.languages != languages:
            await self._stop(channel, "languages")  # a file's tracks are fixed at its start
            found = None
        if found is None:
            self._begin(channel, languages)
            return
        sink, remux = found.sink, found.remux
        if sink is None or not remux.recording:
            return
        idle_since = remux.last_frame_at if remux.last_frame_at is not None else found.opened_at
        if now - idle_since >= self._idle_close:
            sink.end_reason = "idle"
            remux.end_container()
        elif now - found.opened_at >= self._settings.rotate_minutes * 60:
            self._rotate(found, "hourly")
        elif self._session_on(channel) != found.session:
            self._rotate(found, "session")

    def _rotate(self, found: _Channel, reason: str) -> None:
        if found.sink is not None:
            found.sink.end_reason = reason
        found.opened_at = self._monotonic()  # asked once; the keyframe completes it
        found.session = self._session_on(found.remux.channel)
        found.remux.rotate()

    def _begin(self, channel: str, languages: tuple[str, ...]) -> None:
        language_feeds = [(lang, self._media.language_feed(channel, lang)) for lang in languages]
        holder: list[_Channel] = []

        def open_sink(start: ContainerStart) -> FileSink:
            entry = holder[0]
            sink = FileSink(self.directory, start, self._journal, self._count_bytes)
            # Age counts from the first frame (the remux may open a moment after it came).
            late = (self._wall_clock() - start.started_at).total_seconds()
            entry.sink, entry.opened_at = sink, self._monotonic() - max(0.0, late)
            entry.session = self._session_on(channel)
            entry.files.append(sink.path)
            self.files_written += 1
            logger.info("recording %s to %s", channel, sink.path)
            return sink

        remux = ChannelRemux(
            channel,
            self._media.feed(channel),
            self._media.video_codec,
            open_sink,
            language_feeds,
            self._settings.fragment_seconds,
            monotonic=self._monotonic,
            wall_clock=self._wall_clock,
            frames=self._media.frames,
        )
        holder.append(_Channel(remux, languages))
        self._channels[channel] = holder[0]
        remux.begin()

    def _count_bytes(self, size: int) -> None:
        self.bytes_written += size

    async def _stop(self, channel: str, reason: str) -> None:
        found = self._channels.pop(channel, None)
        if found is None:
            return
        if found.sink is not None:
            found.sink.end_reason = reason
        await found.remux.aclose()

    async def _stop_all(self, reason: str) -> None:
        for channel in list(self._channels):
            await self._stop(channel, reason)

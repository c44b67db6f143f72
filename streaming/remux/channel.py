"""A channel's forwarded packets remuxed into containers, off the forwarding path.

``ChannelRemux`` is one more consumer of a channel's feed (and of its language tracks'
feeds, as extra audio tracks). ``deliver`` only appends to a bounded queue (dropping and
counting when the task falls behind: the depacketizer then waits for the next keyframe);
a task of its own depacketizes, times and muxes. A container starts at a video keyframe
(or with audio only, when no video comes for ``audio_only_after`` seconds); ``rotate``
switches to a new container (a new sink from ``open_sink``) at the next keyframe, so
consecutive files join without a gap; ``end_container`` ends it at once.
A new picture format (size, parameter sets) rotates by itself.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streaming.feed import Feed
from streaming.packet import MediaPacket
from streaming.remux.frames import OPUS_RATE, VIDEO_RATE, MediaFrame, VideoFormat
from streaming.remux.h264 import H264Depacketizer
from streaming.remux.opus import opus_frame
from streaming.remux.timeline import MediaTimeline
from streaming.remux.vp8 import Vp8Depacketizer
from streaming.remux.writer import ContainerWriter, FragmentSink, container_for
from streaming.send_batch import SendBatch

logger = logging.getLogger(__name__)

# About 10 s of media at a few Mbit/s; past this the task is behind and packets drop.
MAX_QUEUED_PACKETS = 4000


@dataclass(frozen=True, slots=True)
class ContainerStart:
    """What ``open_sink`` is told when a container begins."""

    channel: str
    kind: str  # "mp4" or "webm"
    video: VideoFormat | None
    languages: tuple[str, ...]  # one per audio track; "" is the floor
    started_at: datetime  # wall-clock (UTC) of the first frame: media time 0


SinkOpener = Callable[[ContainerStart], FragmentSink]


class _TrackTap:
    """Delivers one feed's packets to the remux's queue, tagged with an audio track."""

    def __init__(self, remux: ChannelRemux, track: int | None, kinds: tuple[bool, ...]) -> None:
        self._remux, self._track, self.kinds = remux, track, kinds

    def start(self, gop: Sequence[MediaPacket]) -> None:
        for packet in gop:
            self._remux.enqueue(self._track, packet)

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self._remux.enqueue(self._track, packet)


class ChannelRemux:
    """Remuxes one channel (video, floor audio, ``languages`` as more audio tracks)."""

    def __init__(
        self,
        channel: str,
        feed: Feed,
        video_codec: str,
        open_sink: SinkOpener,
        language_feeds: Sequence[tuple[str, Feed]] = (),
        fragment_seconds: float = 2.0,
        audio_only_after: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.channel = channel
        self.dropped = 0
        self.containers = 0
        self._feed = feed
        self._video_codec = video_codec
        self._open_sink = open_sink
        self._languages = ("", *(language for language, _ in language_feeds))
        self._fragment_seconds = fragment_seconds
        self._audio_only_after = audio_only_after
        self._monotonic = monotonic
        self._wall_clock = wall_clock  # the real clock: files say when media really came
        self._taps: list[tuple[Feed, _TrackTap]] = [(feed, _TrackTap(self, None, (True, False)))]
        for index, (_, language_feed) in enumerate(language_feeds, start=1):
            self._taps.append((language_feed, _TrackTap(self, index, (False,))))
        self._queue: collections.deque[tuple[int | None, MediaPacket]] = collections.deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._depacketizer: H264Depacketizer | Vp8Depacketizer = (
            Vp8Depacketizer() if video_codec == "VP8" else H264Depacketizer()
        )
        self._writer: ContainerWriter | None = None
        self._timeline: MediaTimeline | None = None
        self._first_audio_at: float | None = None
        self._rotate = False  # a new container at the next keyframe
        self._end = False  # end the container at the next drain
        self.last_frame_at: float | None = None  # monotonic, of the last frame muxed

    @property
    def recording(self) -> bool:
        """A container is open now."""
        return self._writer is not None

    # -- forwarding path: queue only ------------------------------------------------

    def enqueue(self, track: int | None, packet: MediaPacket) -> None:
        if len(self._queue) >= MAX_QUEUED_PACKETS:
            self.dropped += 1
            return
        self._queue.append((track, packet))
        self._ready.set()

    # -- lifecycle ------------------------------------------------------------------

    def begin(self) -> None:
        """Attach to the feeds and start the remux task."""
        for feed, tap in self._taps:
            feed.add_consumer(tap)
            tap.start(feed.gop_snapshot() if tap.kinds[0] else [])
        if not self._feed.gop_snapshot():
            self._feed.request_keyframe()
        self._task = asyncio.create_task(self._run(), name=f"remux-{self.channel}")

    def rotate(self) -> None:
        """Start a new container at the next keyframe (asked for now): the old one ends
        there, so nothing is lost between the two files."""
        self._rotate = True
        self._feed.request_keyframe()

    def end_container(self) -> None:
        """End the open container now (the publisher left); the next keyframe starts one."""
        self._end = True
        self._ready.set()

    async def aclose(self) -> None:
        """Detach, mux what is queued, and close the container."""
        for feed, tap in self._taps:
            feed.remove_consumer(tap)
        if self._task is not None:
            self._ready.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._drain()
        self._close_writer()

    # -- the task ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            try:
                self._drain()
            except Exception:
                logger.exception("remuxing %s failed; starting a new container", self.channel)
                self._close_writer()

    def _drain(self) -> None:
        if self._end:
            self._end = self._rotate = False
            self._close_writer()
        while self._queue:
            track, packet = self._queue.popleft()
            if track is None and packet.video:
                for frame in self._depacketizer.push(packet):
                    self._video_frame(frame)
            else:
                audio = opus_frame(packet, track or 0)
                if audio is not None:
                    self._audio_frame(audio)

    def _video_frame(self, frame: MediaFrame) -> None:
        writer = self._writer
        if frame.keyframe and frame.format is not None:
            # A new size or new parameter sets need a new init; a rotation starts here.
            if writer is not None and (self._rotate or writer.video_format != frame.format):
                self._close_writer()
                writer = None
            self._rotate = False
            if writer is None:
                writer = self._open(frame.format, frame.arrival)
        if writer is None or writer.video_format is None or self._timeline is None:
            return
        seconds = self._timeline.seconds(
            "v", frame.epoch, frame.timestamp, VIDEO_RATE, frame.arrival
        )
        if seconds >= 0:
            writer.write(frame, seconds)
            self.last_frame_at = self._monotonic()

    def _audio_frame(self, frame: MediaFrame) -> None:
        if self._writer is None:
            if self._first_audio_at is None:
                self._first_audio_at = frame.arrival
            if frame.arrival - self._first_audio_at < self._audio_only_after:
                return  # video may yet come: a container starts at a keyframe
            self._open(None, frame.arrival)
        if self._rotate and self._writer is not None and self._writer.video_format is None:
            self._rotate = False  # audio only: rotate at once
            self._close_writer()
            self._open(None, frame.arrival)
        writer, timeline = self._writer, self._timeline
        if writer is None or timeline is None:
            return
        seconds = timeline.seconds(
            ("a", frame.track), frame.epoch, frame.timestamp, OPUS_RATE, frame.arrival
        )
        if seconds >= 0:
            writer.write(frame, seconds)
            self.last_frame_at = self._monotonic()

    def _open(self, video: VideoFormat | None, origin: float) -> ContainerWriter | None:
        lag = self._monotonic() - origin
        started_at = self._wall_clock() - timedelta(seconds=max(0.0, lag))
        start = ContainerStart(
            self.channel, container_for(video), video, self._languages, started_at
        )
        try:
            sink = self._open_sink(start)
            writer = ContainerWriter(
                sink, video, len(self._languages), self._fragment_seconds, self._languages
            )
        except Exception:
            logger.exception("could not start a container for %s", self.channel)
            return None
        self._writer, self._timeline = writer, MediaTimeline(origin)
        self._first_audio_at = None
        self.containers += 1
        return writer

    def _close_writer(self) -> None:
        writer, self._writer, self._timeline = self._writer, None, None
        self._first_audio_at = None
        if writer is not None:
            writer.close()

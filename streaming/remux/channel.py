"""A channel's frames remuxed into containers, off the forwarding path.

``ChannelRemux`` listens to a channel's frames (and to its language tracks', as extra
audio tracks) from ``FrameSources``: one depacketizing pass per feed, shared with any
other remux of the same channel (the recorder's and the HLS packager's), each muxing
its own containers. Without a shared ``FrameSources`` it makes one of its own.
A container starts at a video keyframe (or with audio only, when no video comes for
``audio_only_after`` seconds); ``rotate`` switches to a new container (a new sink from
``open_sink``) at the next keyframe, so consecutive files join without a gap;
``end_container`` ends it at once. A new picture format (size, parameter sets) rotates
by itself.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streaming.feed import Feed
from streaming.remux.frame_source import FrameSource, FrameSources
from streaming.remux.frames import OPUS_RATE, VIDEO_RATE, MediaFrame, VideoFormat
from streaming.remux.timeline import MediaTimeline
from streaming.remux.writer import ContainerWriter, FragmentSink, container_for

logger = logging.getLogger(__name__)


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
    """One feed's frames into the remux: the channel's own (``track`` None: video and
    the floor audio) or a language track's (its audio as track ``track``)."""

    def __init__(self, remux: ChannelRemux, feed: Feed, track: int | None, name: str) -> None:
        self._remux, self.feed, self._track, self.name = remux, feed, track, name
        self.source: FrameSource | None = None
        self.dropped_before = 0  # the source's drops before this remux joined

    def on_frame(self, frame: MediaFrame) -> None:
        if self._track is None:
            self._remux.take(frame)
        elif not frame.video:  # a language track carries its audio only
            self._remux.take(dataclasses.replace(frame, track=self._track))


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
        frames: FrameSources | None = None,
    ) -> None:
        self.channel = channel
        self.containers = 0
        self._feed = feed
        self._video_codec = video_codec
        self._open_sink = open_sink
        self._languages = ("", *(language for language, _ in language_feeds))
        self._fragment_seconds = fragment_seconds
        self._audio_only_after = audio_only_after
        self._monotonic = monotonic
        self._wall_clock = wall_clock  # the real clock: files say when media really came
        self._frames = frames if frames is not None else FrameSources()
        self._taps = [_TrackTap(self, feed, None, channel)]
        for index, (language, language_feed) in enumerate(language_feeds, start=1):
            self._taps.append(_TrackTap(self, language_feed, index, f"{channel}#{language}"))
        self._writer: ContainerWriter | None = None
        self._timeline: MediaTimeline | None = None
        self._first_audio_at: float | None = None
        self._rotate = False  # a new container at the next keyframe
        self.last_frame_at: float | None = None  # monotonic, of the last frame muxed

    @property
    def recording(self) -> bool:
        """A container is open now."""
        return self._writer is not None

    @property
    def dropped(self) -> int:
        """Packets of this remux's feeds dropped (the shared task fell behind) since it
        began."""
        return sum(
            tap.source.dropped - tap.dropped_before for tap in self._taps if tap.source is not None
        )

    # -- lifecycle ------------------------------------------------------------------

    def begin(self) -> None:
        """Start listening to the feeds' frames (from the last keyframe on)."""
        for tap in self._taps:
            source = self._frames.source_of(tap.feed)
            tap.dropped_before = source.dropped if source is not None else 0
            # Only the channel's own feed asks for a keyframe (a language track has none).
            main = tap is self._taps[0]
            tap.source = self._frames.join(tap.name, tap.feed, self._video_codec, tap, main)

    def rotate(self) -> None:
        """Start a new container at the next keyframe (asked for now): the old one ends
        there, so nothing is lost between the two files."""
        self._rotate = True
        self._feed.request_keyframe()

    def end_container(self) -> None:
        """End the open container now (the publisher left); the next keyframe starts one."""
        self._rotate = False
        self._close_writer()

    async def aclose(self) -> None:
        """Stop listening (after muxing what is queued) and close the container."""
        for tap in self._taps:
            if tap.source is not None:
                await self._frames.leave(tap.source, tap)
        self._close_writer()

    # -- frames -------------------------------------------------------------------------

    def take(self, frame: MediaFrame) -> None:
        """One frame, from the shared task: muxed, or dropped until a container starts."""
        try:
            if frame.video:
                self._video_frame(frame)
            else:
                self._audio_frame(frame)
        except Exception:
            logger.exception("remuxing %s failed; starting a new container", self.channel)
            self._close_writer()

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

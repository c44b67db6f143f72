"""Packages every programme channel into its HLS window while it is live.

Each channel gets a ``ChannelRemux`` of its own (streaming/remux: the same packets,
depacketized and stream-copied, never decoded) whose fragments are ``part_seconds``
long, so each fragment is a low-latency part. Given the process's ``FrameSources``,
the depacketizing is the recorder's too (one pass per channel); the muxing is not (see
streaming/remux/frame_source.py). Channels are packaged whenever they are live, with or
without viewers: behind an HTTP cache the origin cannot know who watches, and a player
arriving must find segments ready. The cost is bounded per channel: the frame source's
queue (``MAX_QUEUED_PACKETS``) and the window (``hls.window_segments``).

VP8 channels (``video_codec = "VP8"``) are not packaged: the remux layer writes VP8 as
WebM, which HLS does not carry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from streaming.feed import Feed
from streaming.hls.channels import HlsChannels
from streaming.remux import ChannelRemux, ContainerStart, FragmentSink, FrameSources


class _WindowSink:
    """A container's bytes into the channel's window; fragments stamped with wall time.

    When a segment has run its target length without a keyframe, the publisher is asked
    for one (rate-limited by the source; browsers and aiortc honour it, OBS does not:
    there the keyframe interval setting decides).
    """

    def __init__(
        self,
        channels: HlsChannels,
        start: ContainerStart,
        feed: Feed,
        on_timeline: Callable[[str], None],
    ) -> None:
        self._channels, self._channel = channels, start.channel
        self._on_timeline = on_timeline
        self._new_timeline = True
        self._window = channels.open(start.channel)
        self._started_at = start.started_at
        self._feed = feed

    def on_init(self, data: bytes) -> None:
        self._window.on_init(data)
        self._channels.changed(self._channel)

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        wall = self._started_at + timedelta(seconds=start)
        self._window.on_fragment(data, start, duration, keyframe, wall)
        self._channels.changed(self._channel)
        if self._new_timeline:
            # The container's first fragment: its time 0 is known; the audio follows.
            self._new_timeline = False
            self._on_timeline(self._channel)
        if self._window.open_seconds() >= self._channels.settings.segment_seconds:
            self._feed.request_keyframe()

    def on_close(self) -> None:
        self._window.end()
        self._channels.changed(self._channel)


class _NoSink:
    """Where a WebM (VP8) container goes: nowhere."""

    def on_init(self, data: bytes) -> None:
        pass

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        pass

    def on_close(self) -> None:
        pass


class HlsPackager:
    """One remux per programme channel into ``channels``; ``start`` then ``aclose``."""

    def __init__(
        self,
        channels: HlsChannels,
        programme: Sequence[str],
        feed_of: Callable[[str], Feed],
        video_codec: str,
        on_timeline: Callable[[str], None] = lambda channel: None,
        frames: FrameSources | None = None,
    ) -> None:
        self._channels = channels
        self._on_timeline = on_timeline
        self._remuxes = [
            ChannelRemux(
                channel,
                feed_of(channel),
                video_codec,
                self._opener(feed_of(channel)),
                fragment_seconds=channels.settings.part_seconds,
                frames=frames,
            )
            for channel in (programme if video_codec == "H264" else ())
        ]

    @property
    def dropped(self) -> int:
        """Packets the remux tasks could not keep up with (counted, never waited for)."""
        return sum(remux.dropped for remux in self._remuxes)

    def _opener(self, feed: Feed) -> Callable[[ContainerStart], FragmentSink]:
        def open_sink(start: ContainerStart) -> FragmentSink:
            if start.kind != "mp4":
                return _NoSink()
            return _WindowSink(self._channels, start, feed, self._on_timeline)

        return open_sink

    def start(self) -> None:
        for remux in self._remuxes:
            remux.begin()

    async def aclose(self) -> None:
        for remux in self._remuxes:
            await remux.aclose()

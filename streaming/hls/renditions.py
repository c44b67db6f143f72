"""Language tracks as HLS audio renditions: an audio-only remux per live language.

When an interpreter first goes on air in a programme channel's booth, that language
track (streaming/languages.py) gets a ``ChannelRemux`` of its own, audio only (the track
carries no video), into a window of its own (``HlsChannels.open_audio``). It keeps
running after the interpreter leaves: the track then carries the floor, which is what a
listener of that language hears on WebRTC too. Segments are cut every
``hls.segment_seconds`` of audio (every Opus fragment may start a segment), so they line
up with the video's segments to within a part, not exactly. The audio's media time is
the video's (``shift_decode_time`` moves each fragment's ``tfdt``), and a new video timeline (a new
publisher) starts a new audio container too, so players that place alternate audio by
its decode times (hls.js) keep it in sync.

Cost per live language: one more remux task and window (``hls.window_segments`` of
Opus at ~64 kbit/s: small next to the video's).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from datetime import timedelta

from streaming.feed import Feed
from streaming.hls.channels import HlsChannels, audio_key
from streaming.ports import LanguageEvent
from streaming.remux import ChannelRemux, ContainerStart, FragmentSink, FrameSources
from streaming.remux.boxes import iter_boxes
from streaming.remux.frames import OPUS_RATE


class _AudioSink:
    """An audio-only container's bytes into one language's window."""

    def __init__(self, channels: HlsChannels, start: ContainerStart, language: str) -> None:
        self._channels = channels
        self._key = audio_key(start.channel, language)
        self._window = channels.open_audio(start.channel, language)
        self._started_at = start.started_at
        # The muxer starts every container's decode time at 0; a player places alternate
        # audio by it, so it is moved onto the video's timeline: the video's media time
        # when this container's first sample came (0 when there is no video yet).
        video = channels.window(start.channel)
        latest = video.latest_segment() if video is not None else None
        self._shift = 0.0
        if latest is not None:
            zero = latest.wall - timedelta(seconds=latest.start)
            self._shift = max(0.0, (start.started_at - zero).total_seconds())

    def on_init(self, data: bytes) -> None:
        self._window.on_init(data)
        self._channels.changed(self._key)

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        wall = self._started_at + timedelta(seconds=start)
        data = shift_decode_time(data, round(self._shift * OPUS_RATE))
        # Every Opus packet decodes alone: any fragment may start a segment.
        self._window.on_fragment(data, start + self._shift, duration, True, wall)
        self._channels.changed(self._key)

    def on_close(self) -> None:
        self._window.end()
        self._channels.changed(self._key)


def shift_decode_time(fragment: bytes, ticks: int) -> bytes:
    """``fragment`` (moof + mdat) with every ``tfdt`` moved ``ticks`` later."""
    if ticks == 0:
        return fragment
    out = bytearray(fragment)
    for kind, body, end in iter_boxes(fragment):
        if kind != b"moof":
            continue
        for inner, inner_body, inner_end in iter_boxes(fragment, body, end):
            if inner != b"traf":
                continue
            for box, at, box_end in iter_boxes(fragment, inner_body, inner_end):
                if box != b"tfdt":
                    continue
                if fragment[at] == 1 and box_end - at >= 12:
                    value = struct.unpack_from(">Q", fragment, at + 4)[0] + ticks
                    struct.pack_into(">Q", out, at + 4, value)
                elif box_end - at >= 8:
                    value = struct.unpack_from(">I", fragment, at + 4)[0] + ticks
                    struct.pack_into(">I", out, at + 4, value & 0xFFFFFFFF)
    return bytes(out)


class AudioRenditions:
    """Starts a language's audio-only packaging when an interpreter first goes on air
    (a ``LanguageListener``); ``aclose`` stops them all."""

    def __init__(
        self,
        channels: HlsChannels,
        programme: Sequence[str],
        language_feed: Callable[[str, str], Feed],
        frames: FrameSources | None = None,
    ) -> None:
        self._channels = channels
        self._programme = set(programme)
        self._language_feed = language_feed
        self._frames = frames
        self._remuxes: dict[tuple[str, str], ChannelRemux] = {}
        self._closed = False

    @property
    def languages(self) -> list[tuple[str, str]]:
        """The (channel, language) pairs being packaged."""
        return sorted(self._remuxes)

    def language_changed(self, event: LanguageEvent) -> None:
        if event.interpreter is not None:
            self.package(event.channel, event.language)

    def package(self, channel: str, language: str) -> None:
        """Package ``channel``'s ``language`` track from now on (once; programme only)."""
        if self._closed or channel not in self._programme or (channel, language) in self._remuxes:
            return
        remux = ChannelRemux(
            channel,
            self._language_feed(channel, language),
            "H264",  # no video comes: the codec only names what video would be
            self._opener(language),
            fragment_seconds=self._channels.settings.part_seconds,
            audio_only_after=0.0,  # audio only from the first packet
            frames=self._frames,
        )
        self._remuxes[(channel, language)] = remux
        remux.begin()

    def video_restarted(self, channel: str) -> None:
        """The video started a new timeline (a new init): the audio follows at once."""
        for (name, _), remux in self._remuxes.items():
            if name == channel:
                remux.rotate()

    def _opener(self, language: str) -> Callable[[ContainerStart], FragmentSink]:
        def open_sink(start: ContainerStart) -> FragmentSink:
            return _AudioSink(self._channels, start, language)

        return open_sink

    @property
    def dropped(self) -> int:
        return sum(remux.dropped for remux in self._remuxes.values())

    async def aclose(self) -> None:
        self._closed = True
        for remux in self._remuxes.values():
            await remux.aclose()

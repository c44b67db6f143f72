"""Language tracks as HLS audio renditions: an audio-only remux per live language.

When an interpreter first goes on air in a programme channel's booth, that language
track (streaming/languages.py) gets a ``ChannelRemux`` of its own, audio only (the track
carries no video), into a window of its own (``HlsChannels.open_audio``). It keeps
running after the interpreter leaves: the track then carries the floor, which is what a
listener of that language hears on WebRTC too. Segments are cut every
``hls.segment_seconds`` of audio (every Opus fragment may start a segment), so they line
up with the video's segments to within a part, not exactly.

Cost per live language: one more remux task and window (``hls.window_segments`` of
Opus at ~64 kbit/s: small next to the video's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from streaming.feed import Feed
from streaming.hls.channels import HlsChannels, audio_key
from streaming.ports import LanguageEvent
from streaming.remux import ChannelRemux, ContainerStart, FragmentSink


class _AudioSink:
    """An audio-only container's bytes into one language's window."""

    def __init__(self, channels: HlsChannels, start: ContainerStart, language: str) -> None:
        self._channels = channels
        self._key = audio_key(start.channel, language)
        self._window = channels.open_audio(start.channel, language)
        self._started_at = start.started_at

    def on_init(self, data: bytes) -> None:
        self._window.on_init(data)
        self._channels.changed(self._key)

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        wall = self._started_at + timedelta(seconds=start)
        # Every Opus packet decodes alone: any fragment may start a segment.
        self._window.on_fragment(data, start, duration, True, wall)
        self._channels.changed(self._key)

    def on_close(self) -> None:
        self._window.end()
        self._channels.changed(self._key)


class AudioRenditions:
    """Starts a language's audio-only packaging when an interpreter first goes on air
    (a ``LanguageListener``); ``aclose`` stops them all."""

    def __init__(
        self,
        channels: HlsChannels,
        programme: Sequence[str],
        language_feed: Callable[[str, str], Feed],
    ) -> None:
        self._channels = channels
        self._programme = set(programme)
        self._language_feed = language_feed
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
        )
        self._remuxes[(channel, language)] = remux
        remux.begin()

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

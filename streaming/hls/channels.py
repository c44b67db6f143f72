"""The HLS windows of a node's programme channels, and waiting for them to change.

The packager of each channel writes into its window and calls ``changed``; a blocking
playlist reload (``_HLS_msn``/``_HLS_part``) waits here until its part exists.
"""

from __future__ import annotations

import asyncio

from config.hls_settings import HlsSettings
from streaming.hls.window import HlsWindow


def audio_key(channel: str, language: str) -> str:
    """The name a language rendition's window is kept (and waited on) under."""
    return f"{channel}#audio-{language}"


class HlsChannels:
    """One ``HlsWindow`` per packaged channel; an event per channel, set on every change."""

    def __init__(self, settings: HlsSettings) -> None:
        self.settings = settings
        self._windows: dict[str, HlsWindow] = {}
        self._changes: dict[str, asyncio.Event] = {}

    def open(self, channel: str) -> HlsWindow:
        """The window ``channel``'s packager writes to (one per channel, kept)."""
        window = self._windows.get(channel)
        if window is None:
            window = self._windows[channel] = HlsWindow(self.settings)
        return window

    def window(self, channel: str) -> HlsWindow | None:
        return self._windows.get(channel)

    def open_audio(self, channel: str, language: str) -> HlsWindow:
        """The window of ``channel``'s ``language`` audio rendition (kept, like ``open``)."""
        key = audio_key(channel, language)
        window = self._windows.get(key)
        if window is None:
            folder = f"audio-{language}/"
            window = self._windows[key] = HlsWindow(self.settings, folder=folder)
        return window

    def audio(self, channel: str, language: str) -> HlsWindow | None:
        return self._windows.get(audio_key(channel, language))

    def audio_languages(self, channel: str) -> list[str]:
        """The languages of ``channel`` whose audio rendition has a segment to play."""
        prefix = audio_key(channel, "")
        return sorted(
            key[len(prefix) :]
            for key, window in self._windows.items()
            if key.startswith(prefix) and window.ready
        )

    def changed(self, channel: str) -> None:
        """Wake whoever waits on ``channel`` (a new part, segment or init)."""
        event = self._changes.pop(channel, None)
        if event is not None:
            event.set()

    async def wait_for(self, channel: str, msn: int, part: int | None, within: float) -> bool:
        """Until ``channel``'s playlist shows segment ``msn`` (part ``part``); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            window = self._windows.get(channel)
            if window is not None and window.has(msn, part):
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            event = self._changes.setdefault(channel, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                return False

    def memory_bytes(self) -> int:
        return sum(window.memory_bytes() for window in self._windows.values())

"""Recording wired between the planes: the media plane's ``Recorder`` writes files and
reports them to the control plane's ``RecordingIndex`` (``_planes`` enters this).

The index is under ``app[RECORDINGS]`` for readers (records, the player, exports).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from config import ChannelKind, Event, Settings
from signaling.clock import Clock
from signaling.records.recordings import RecordingIndex
from streaming.hub import MediaHub
from streaming.recorder.metrics import RecorderCollector
from streaming.recorder.recorder import MediaSide, Recorder
from web.keys import EVENT, METRICS, SETTINGS
from web.remux_wiring import FRAME_SOURCES

RECORDER = web.AppKey("recorder", Recorder)
RECORDINGS = web.AppKey("recordings", RecordingIndex)


def recording_directory(settings: Settings) -> Path:
    """Where recordings go: ``recording.directory``, else ``<data_dir>/recordings``."""
    return settings.recording.directory or settings.data_dir / "recordings"


def recorded_channels(settings: Settings, event: Event) -> list[str]:
    """The channels whose kind ``[recording]`` turns on."""
    wanted = {
        ChannelKind.PROGRAMME: settings.recording.programme,
        ChannelKind.RETURN: settings.recording.returns,
    }
    return [c.id for c in event.channels if wanted.get(c.kind, False)]


class MediaSideSession:
    """The session scheduled on a channel now (on the server's clock): files rotate when
    it changes, so each session's airing starts a file of its own."""

    def __init__(self, event: Event, clock: Clock) -> None:
        self._event, self._clock = event, clock

    def __call__(self, channel: str) -> str | None:
        now = self._clock.now()
        for session in self._event.sessions:
            if session.channel == channel and session.start <= now < session.end:
                return session.id
        return None


@contextlib.asynccontextmanager
async def recording(app: web.Application, media: MediaHub, clock: Clock) -> AsyncIterator[None]:
    """Record the configured channels while the app runs."""
    settings, event = app[SETTINGS], app[EVENT]
    directory = recording_directory(settings)
    index = app[RECORDINGS] = RecordingIndex(directory)
    channels = recorded_channels(settings, event)
    if not channels:
        yield
        return
    recorder = app[RECORDER] = Recorder(
        channels,
        MediaSide(
            media.channel_feed,
            media.language_feed,
            media.live_languages,
            media.video_codec,
            media.pulled_here,
            app.get(FRAME_SOURCES),
        ),
        settings.recording,
        directory,
        index,
        session_on=MediaSideSession(event, clock),
    )
    app[METRICS].register(RecorderCollector(recorder))
    recorder.start()
    try:
        yield
    finally:
        await recorder.aclose()

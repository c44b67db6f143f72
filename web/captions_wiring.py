"""Speech captions wired between the planes: the media plane's audio taps feed the
control plane's ``SpeechCaptions`` (``create_app``'s ``_planes`` enters this).

Nothing is decoded unless a recognizer is configured (``[captions] asr_model``) or a
test puts a factory under ``SPEECH_FACTORY`` before start-up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from config import Settings
from config.settings import SettingsError
from signaling.captions.speech import RecognizerFactory, RecognizerUnavailable, SpeechCaptions
from signaling.captions.vosk_engine import vosk_factory
from signaling.clock import Clock
from signaling.hub import Hub
from streaming.audio_tap import AudioTap
from streaming.hub import MediaHub
from web.keys import EVENT, SETTINGS

# A recognizer factory used instead of the configured engine (the tests' fake).
SPEECH_FACTORY: web.AppKey[RecognizerFactory] = web.AppKey("speech_factory")
SPEECH = web.AppKey("speech", SpeechCaptions)


def configured_factory(settings: Settings) -> RecognizerFactory | None:
    """The engine the settings name, or None; ``SettingsError`` naming the key if unusable."""
    captions = settings.captions
    if captions.asr_model is None:
        return None
    try:
        return vosk_factory(captions.asr_model, captions.asr_language)
    except RecognizerUnavailable as error:
        raise SettingsError(f"setting 'captions.asr_model': {error}") from None


@contextlib.asynccontextmanager
async def speech_captions(
    app: web.Application, hub: Hub, media: MediaHub, clock: Clock
) -> AsyncIterator[None]:
    """Tap the channels' audio into speech captions while the app runs (if configured)."""
    settings, event = app[SETTINGS], app[EVENT]
    factory = app.get(SPEECH_FACTORY) or configured_factory(settings)
    if factory is None:
        yield
        return
    channels = settings.captions.asr_channels or tuple(c.id for c in event.channels)
    unknown = [c for c in channels if event.channel(c) is None]
    if unknown:
        raise SettingsError(f"setting 'captions.asr_channels': no channel '{unknown[0]}'")
    speech = app[SPEECH] = SpeechCaptions(event, hub.captions, factory, clock.now)
    speech.start()
    taps = [AudioTap(channel, media.channel_feed(channel), speech) for channel in channels]
    for tap in taps:
        tap.begin()
    try:
        yield
    finally:
        for tap in taps:
            await tap.aclose()
        await speech.aclose()

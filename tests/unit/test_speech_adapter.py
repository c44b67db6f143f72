"""The speech-recognition adapter: the offline engine's clear refusals (no model is
shipped and the package is optional), and how recognized lines find their session."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest

from config import Event, Settings
from config.caption_settings import CaptionSettings
from config.settings import SettingsError
from signaling.bus.local import LocalBus
from signaling.captions.speech import RecognizerUnavailable, SpeechCaptions
from signaling.captions.vosk_engine import vosk_factory
from signaling.hub import Hub
from signaling.store.sqlite import SqliteEventStore
from tests.helpers import eventually
from web.captions_wiring import configured_factory

HAS_VOSK = importlib.util.find_spec("vosk") is not None


def test_a_missing_model_is_named_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RecognizerUnavailable, match=r"no Vosk model directory at .*not shipped"):
        vosk_factory(tmp_path / "vosk-model-small-cn", "zh")
    settings = Settings(captions=CaptionSettings(asr_model=tmp_path / "nothing-here"))
    with pytest.raises(SettingsError, match=r"setting 'captions\.asr_model': no Vosk model"):
        configured_factory(settings)


@pytest.mark.skipif(HAS_VOSK, reason="vosk is installed here: its absence cannot be shown")
def test_a_missing_package_says_how_to_install_it(tmp_path: Path) -> None:
    model = tmp_path / "vosk-model"
    model.mkdir()
    with pytest.raises(RecognizerUnavailable, match=r"pip install 'venuebridge\[asr\]'"):
        vosk_factory(model, "zh")
    settings = Settings(captions=CaptionSettings(asr_model=model))
    with pytest.raises(SettingsError, match=r"captions\.asr_model.*vosk package is not installed"):
        configured_factory(settings)


def test_no_model_no_recognizer() -> None:
    assert configured_factory(Settings()) is None


class Echo:
    """Hears the bytes as text, one line per chunk; says "end" when finished."""

    def __init__(self, language: str) -> None:
        self.language = language

    def accept(self, pcm: bytes) -> list[str]:
        return [pcm.decode()]

    def finish(self) -> list[str]:
        return [f"end ({self.language})"]


async def test_lines_go_to_the_session_on_air_in_its_floor_language(
    tmp_path: Path, reference_event: Event
) -> None:
    store = await SqliteEventStore.open(tmp_path / "store.sqlite3")
    bus = LocalBus()
    hub = Hub(reference_event, store, bus)
    await hub.start()
    summit = reference_event.session("overseas-talents-summit")
    assert summit is not None
    now = [summit.start + timedelta(minutes=5)]
    refused: list[str] = []

    def factory(language: str, rate: int) -> Echo:
        if language == "ja":
            refused.append(language)
            raise RecognizerUnavailable("no Japanese model")
        return Echo(language)

    speech = SpeechCaptions(reference_event, hub.captions, factory, lambda: now[0])
    speech.start()
    try:
        speech.hear("gz-hall-1", "大家好".encode(), 16000)
        await eventually(lambda: speech.lines == 1, "the first line")
        # The session ends: its open line is finished into it; nothing is on air after.
        now[0] = summit.end + timedelta(minutes=1)
        speech.hear("gz-hall-1", b"between sessions", 16000)
        await eventually(lambda: speech.lines == 2, "the finished line")
        tokyo = reference_event.session("jp-tokyo-exchange")
        assert tokyo is not None
        now[0] = tokyo.start + timedelta(minutes=1)
        speech.hear(tokyo.channel, b"konnichiwa", 16000)
        speech.hear(tokyo.channel, b"again", 16000)
        await eventually(lambda: not speech._backlog, "the chunks taken")
    finally:
        await speech.aclose()
        await hub.stop()
    lines = await hub.captions.log.lines(summit.id, "zh")
    assert [(line.text, line.by) for line in lines] == [
        ("大家好", "speech:gz-hall-1"),
        ("end (zh)", "speech:gz-hall-1"),
    ]
    assert refused == ["ja"]  # asked once, then remembered as unavailable
    assert await hub.captions.log.lines(tokyo.id, "ja") == []
    await bus.aclose()
    await store.aclose()

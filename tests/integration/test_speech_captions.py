"""Speech captions end to end: an aiortc publisher's audio (a tone switched on and off)
goes through the server's audio tap (Opus decoded with PyAV) to a recognizer, whose
lines reach a viewer's websocket and the store like typed ones. The recognizer here is a
fake that hears tones, not words: the path is what is under test."""

from __future__ import annotations

import array
import asyncio
import fractions
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import pytest
from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from config import Event
from config.recording_settings import RecordingSettings
from signaling.captions.speech import Recognizer
from streaming.source import ChannelSource
from tests.control.support import WsClient
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET
from tests.media_peers import FlatVideoTrack, client_configuration, needs_network
from web.app import create_app
from web.captions_wiring import SPEECH, SPEECH_FACTORY
from web.keys import HUB, MEDIA
from web.server import start_server

pytestmark = [pytest.mark.network, needs_network]

SESSION = "overseas-talents-summit"  # on gz-hall-1, floor language zh
CHANNEL = "gz-hall-1"
ON_SECONDS = 0.6  # the tone sounds this long, then as long a silence
Served = tuple[str, aiohttp.ClientSession, list["ToneSpotter"], web.Application]


class TonePattern(MediaStreamTrack):
    """48 kHz mono: a 440 Hz tone for ``ON_SECONDS``, then silence as long, repeated."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._count * 0.02 - time.monotonic()))
        first = self._count * 960
        sounding = (first / 48000) % (2 * ON_SECONDS) < ON_SECONDS
        samples = array.array(
            "h",
            (
                int(8000 * math.sin(2 * math.pi * 440 * (first + n) / 48000)) if sounding else 0
                for n in range(960)
            ),
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = 48000
        frame.pts = first
        frame.time_base = fractions.Fraction(1, 48000)
        self._count += 1
        return frame


class ToneSpotter:
    """A fake recognizer: a line for each tone that ended (loud for 0.2 s or more, then
    0.2 s quiet). Counts what it heard so the test can check the PCM it was given."""

    def __init__(self, language: str, rate: int) -> None:
        self.language = language
        self.rate = rate
        self.samples = 0
        self._loud = 0  # samples in the current loud run
        self._quiet = 0
        self._tones = 0

    def accept(self, pcm: bytes) -> list[str]:
        values = array.array("h")
        values.frombytes(pcm[: len(pcm) // 2 * 2])
        self.samples += len(values)
        lines = []
        window = self.rate // 50  # 20 ms
        for start in range(0, len(values) - window + 1, window):
            chunk = values[start : start + window]
            rms = math.sqrt(sum(v * v for v in chunk) / window)
            if rms > 1000:
                self._loud += window
                self._quiet = 0
            else:
                self._quiet += window
                if self._loud >= self.rate * 0.2 and self._quiet >= self.rate * 0.2:
                    self._tones += 1
                    lines.append(f"tone {self._tones} ({self.language})")
                    self._loud = 0
        return lines

    def finish(self) -> list[str]:
        return []


@pytest.fixture
async def served(tmp_path: Path, reference_event: Event) -> AsyncIterator[Served]:
    settings = local_settings(
        data_dir=tmp_path / "data",
        producer_secret=PRODUCER_SECRET,
        # The session is on air on its channel from start-up.
        rehearsal=True,
        rehearsal_from=SESSION,
        rehearsal_lead_seconds=0,
    )
    app = create_app(settings, reference_event)
    made: list[ToneSpotter] = []

    def factory(language: str, rate: int) -> Recognizer:
        made.append(ToneSpotter(language, rate))
        return made[-1]

    app[SPEECH_FACTORY] = factory
    server = await start_server(app, settings, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http:
            yield f"http://127.0.0.1:{server.port}", http, made, app
    finally:
        await server.aclose()


async def test_a_channels_audio_becomes_caption_lines(served: Served) -> None:
    url, http, made, app = served
    viewer = await WsClient.connect(http, url.replace("http", "ws") + "/ws")
    await viewer.ok({"type": "watch_captions", "session": SESSION, "language": "zh"})

    pc = RTCPeerConnection(client_configuration())
    for track in (FlatVideoTrack(120), TonePattern()):
        pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {PRODUCER_SECRET}"}
    offer = pc.localDescription.sdp
    async with http.post(f"{url}/whip/{CHANNEL}", data=offer, headers=headers) as response:
        answer = await response.text()
        assert response.status == 201, answer
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    try:
        await eventually(
            lambda: len(viewer.of_type("caption")) >= 3, "three recognized lines", within=20
        )
    finally:
        await pc.close()
        await viewer.close()
    lines = viewer.of_type("caption")[:3]
    assert [f["text"] for f in lines] == ["tone 1 (zh)", "tone 2 (zh)", "tone 3 (zh)"]
    assert all(f["by"] == f"speech:{CHANNEL}" for f in lines)
    assert all(f["session"] == SESSION and f["language"] == "zh" for f in lines)
    # One recognizer, for the floor language, given 16 kHz PCM decoded from the Opus.
    assert [(m.language, m.rate) for m in made] == [("zh", 16000)]
    assert made[0].samples >= 16000 * 2 * ON_SECONDS * 2
    # Kept like typed lines: the store has them under the session's floor language.
    kept = await app[HUB].captions.log.lines(SESSION, "zh")
    assert [line.text for line in kept[:3]] == [f["text"] for f in lines]


async def test_nothing_is_decoded_without_a_recognizer(
    tmp_path: Path, reference_event: Event
) -> None:
    # The recorder reads every channel too (remuxing, never decoding): off here, so any
    # reader left on a source would be a decoder.
    recording = RecordingSettings(programme=False, returns=False)
    settings = local_settings(data_dir=tmp_path / "data", recording=recording)
    app = create_app(settings, reference_event)
    server = await start_server(app, settings, host="127.0.0.1", port=0)
    try:
        assert SPEECH not in app
        # No tap hangs on any channel's source: its packets go to subscribers only.
        for channel in reference_event.channels:
            source = app[MEDIA].channel_feed(channel.id)
            assert isinstance(source, ChannelSource)
            assert source.consumer_count == 0
    finally:
        await server.aclose()

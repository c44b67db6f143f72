"""Language tracks as HLS audio renditions: a live interpreter's language in the master
playlist, its audio-only playlist, and segments that decode as Opus (PyAV)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import av
import m3u8
from aiohttp import web
from aiohttp.test_utils import TestClient

from streaming.hls.renditions import AudioRenditions
from streaming.ports import LanguageEvent
from streaming.source import ChannelSource
from tests.hls_source import FPS, FragmentSource
from tests.remux_media import RtpMaker, tone
from web.hls_http import HLS

Client = TestClient[web.Request, web.Application]
CHANNEL = "gz-hall-1"


class Publisher:
    def send_keyframe_request(self) -> None:
        """Audio only: nothing to ask for."""


def _video(client: Client, seconds: float, ago: float = 0.0) -> None:
    """``seconds`` of video whose media time 0 was ``ago`` seconds before now."""
    channels = client.app[HLS]
    window = channels.open(CHANNEL)
    zero = datetime.now(UTC) - timedelta(seconds=ago)

    def on_fragment(data: bytes, start: float, duration: float, key: bool, _: datetime) -> None:
        window.on_fragment(data, start, duration, key, zero + timedelta(seconds=start))
        channels.changed(CHANNEL)

    source = FragmentSource(window.on_init, on_fragment)
    for _ in range(round(seconds * FPS)):
        source.frame()


async def _interpret(booth: ChannelSource, seconds: float) -> None:
    """``seconds`` of an interpreter's Opus into the booth, paced a little so the remux
    task runs between packets."""
    maker = RtpMaker("audio/opus", 48000, booth.attach_publisher(Publisher()))
    loop = asyncio.get_running_loop()
    start = loop.time()
    for step in range(round(seconds * 50)):
        for packet in maker.packets(tone(step, 660), start + step * 0.02):
            booth.push(packet)
        if step % 25 == 0:
            await asyncio.sleep(0)


async def test_a_live_language_is_an_audio_rendition_of_opus(client: Client) -> None:
    # The video has run 100 s when the interpreter starts: the audio's media time is the
    # video's, so it starts near 100 s, not at 0.
    _video(client, 7, ago=100.0)
    booth = ChannelSource(f"{CHANNEL}-ja", lambda: 0.0)
    renditions = AudioRenditions(client.app[HLS], [CHANNEL], lambda channel, language: booth)
    renditions.language_changed(LanguageEvent(CHANNEL, "ja", "interpreter", datetime.now(UTC)))
    renditions.language_changed(LanguageEvent("us-return", "ja", "x", datetime.now(UTC)))
    assert renditions.languages == [(CHANNEL, "ja")], "programme channels only"
    try:
        await _interpret(booth, 7)
        for _ in range(100):
            if client.app[HLS].audio_languages(CHANNEL):
                break
            await asyncio.sleep(0.05)
        master = m3u8.loads(await (await client.get(f"/hls/{CHANNEL}/master.m3u8")).text())
        audio = [m for m in master.media if m.type == "AUDIO"]
        assert [(m.name, m.language, m.default) for m in audio] == [
            ("Floor", None, "YES"),
            ("ja", "ja", "NO"),
        ]
        assert audio[0].uri is None, "the floor is the video variant's own audio"
        assert master.playlists[0].stream_info.audio == "audio"

        response = await client.get(f"/hls/{CHANNEL}/{audio[1].uri}")
        assert response.status == 200
        playlist = m3u8.loads(await response.text())
        closed = [s for s in playlist.segments if s.uri]
        assert len(closed) >= 2
        assert all(1.5 <= s.duration <= 2.5 for s in closed[:-1])
        init = await (await client.get(f"/hls/{CHANNEL}/{closed[0].init_section.uri}")).read()
        body = b"".join(
            [init] + [await (await client.get(f"/hls/{CHANNEL}/{s.uri}")).read() for s in closed]
        )
        with av.open(io.BytesIO(body)) as container:
            [stream] = container.streams
            assert stream.type == "audio"
            assert stream.codec_context.name == "opus"
            frames = list(container.decode(stream))
            samples = sum(frame.samples for frame in frames)
        first = frames[0].time
        assert first is not None
        assert 99.0 <= first <= 102.0, f"audio starts at {first} s of the video's timeline"
        assert samples >= 48000 * sum(s.duration for s in closed) * 0.95
    finally:
        await renditions.aclose()


async def test_a_language_never_on_air_is_404(client: Client) -> None:
    _video(client, 5)
    assert (await client.get(f"/hls/{CHANNEL}/audio-ja.m3u8")).status == 404
    master = await (await client.get(f"/hls/{CHANNEL}/master.m3u8")).text()
    assert "TYPE=AUDIO" not in master

"""Chromium plays a channel's HLS through the vendored hls.js on the viewer page, and the
latency (wall clock now minus the playing frame's program date time) is printed."""

from __future__ import annotations

import asyncio
import json
import statistics
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser

from config import Event, Settings
from config.schedule import session_on_channel
from streaming.hls.renditions import AudioRenditions
from streaming.source import ChannelSource
from tests.helpers import eventually
from tests.hls_origin import live_origin
from tests.remux_media import RtpMaker, tone
from web.hls_http import HLS
from web.keys import HUB

CHANNEL = "gz-hall-1"
H264_IN_MSE = "MediaSource.isTypeSupported('video/mp4; codecs=\"avc1.64001f\"')"


async def _latencies(page, samples: int = 12) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    """Wall-clock latencies sampled every 0.5 s, and hls.js's own target latency."""
    found = []
    for _ in range(samples):
        value = await page.evaluate("window.vbHls.latency()")
        if value is not None:
            found.append(float(value))
        await page.wait_for_timeout(500)
    target = await page.evaluate("window.vbHls.hls.targetLatency")
    return found, float(target or 0)


@pytest.mark.requires("chromium")
@pytest.mark.timeout(120)
@pytest.mark.parametrize("parts", [True, False], ids=["with-parts", "segments-only"])
async def test_chromium_plays_hls_through_hlsjs(
    browser: Browser, settings: Settings, reference_event: Event, parts: bool
) -> None:
    page = await browser.new_page()
    assert await page.evaluate(H264_IN_MSE), "this Chromium cannot play H.264 in MSE"
    # Fragments of half a second are parts; a writer that cuts only at keyframes (2 s
    # GOPs) gives none, and the playlist has no EXT-X-PART.
    gop, fragment = (1.0, 0.5) if parts else (2.0, 2.0)
    async with live_origin(
        settings, reference_event, CHANNEL, keyframe_seconds=gop, fragment_seconds=fragment
    ) as origin:
        await eventually(lambda: origin.frames > 3 * 30, "three seconds of media", within=20)
        await page.goto(f"http://127.0.0.1:{origin.port}/watch/{CHANNEL}?hls=1")
        playback = page.locator("#playback")
        await eventually(
            lambda: playback.get_attribute("data-mode"), "the page saying how it plays"
        )
        assert await playback.get_attribute("data-mode") == "hls"
        assert "HLS" in (await playback.text_content() or "")

        async def advancing() -> bool:
            return bool(await page.evaluate("document.getElementById('player').currentTime > 2"))

        await eventually(advancing, "the video playing past 2 s", within=30)
        assert await page.locator("#status").get_attribute("data-state") == "live"
        await page.wait_for_timeout(4000)  # let hls.js settle on its target latency
        latencies, target = await _latencies(page)
        listed_parts = "#EXT-X-PART:" in await page.evaluate(
            f"fetch('/hls/{CHANNEL}/index.m3u8').then(r => r.text())"
        )
    assert listed_parts is parts
    assert latencies, "hls.js never knew the playing date"
    print(
        json.dumps(
            {
                "hls_latency_seconds": {
                    "parts": parts,
                    "median": round(statistics.median(latencies), 2),
                    "max": round(max(latencies), 2),
                    "samples": len(latencies),
                    "hlsjs_target": round(target, 2),
                }
            }
        )
    )
    await page.close()


@pytest.mark.requires("chromium")
@pytest.mark.timeout(120)
async def test_hlsjs_shows_typed_captions_as_a_subtitle_track(
    browser: Browser, settings: Settings, reference_event: Event
) -> None:
    """The page plays master.m3u8; hls.js lists the session's caption languages as
    subtitle tracks, and a typed line becomes a cue of the chosen track's text track."""
    page = await browser.new_page()
    async with live_origin(settings, reference_event, CHANNEL) as origin:
        assert origin.app is not None
        now = session_on_channel(reference_event, CHANNEL, datetime.now(UTC)).session
        assert now is not None
        language = now.languages[0]
        captions = origin.app[HUB].captions
        await eventually(lambda: origin.frames > 3 * 30, "three seconds of media", within=20)
        await page.goto(f"http://127.0.0.1:{origin.port}/watch/{CHANNEL}?hls=1")

        async def playing() -> bool:
            return bool(await page.evaluate("document.getElementById('player').currentTime > 1"))

        await eventually(playing, "the video playing", within=30)
        tracks = await page.evaluate("window.vbHls.hls.subtitleTracks.map(t => t.lang)")
        assert tracks == list(now.languages)
        await page.evaluate(
            f"window.vbHls.hls.subtitleDisplay = true;"
            f"window.vbHls.hls.subtitleTrack = {tracks.index(language)}"
        )
        said = "Welcome to the hall"
        for _ in range(6):  # a line a second, so one lands in each new segment
            await captions.heard(now.id, language, said, "captioner")
            await page.wait_for_timeout(1000)

        async def cue_shown() -> bool:
            return bool(
                await page.evaluate(
                    """(said) => [...document.getElementById('player').textTracks]
                    .some(t => t.cues && [...t.cues].some(c => c.text === said))""",
                    said,
                )
            )

        await eventually(cue_shown, "the typed line as a cue", within=20)
        # The cue sits near the playing position: the timestamp map placed it.
        gap = await page.evaluate(
            """(said) => { const v = document.getElementById('player');
            const cues = [...v.textTracks].flatMap(t => t.cues ? [...t.cues] : [])
              .filter(c => c.text === said);
            return Math.min(...cues.map(c => Math.abs(c.startTime - v.currentTime))); }""",
            said,
        )
    print(json.dumps({"hls_subtitle_cue_gap_seconds": round(float(gap), 2)}))
    assert gap < 15, "the cues are on the video's timeline"
    await page.close()


@pytest.mark.requires("chromium")
@pytest.mark.timeout(120)
async def test_hlsjs_switches_to_a_live_language_audio_rendition(
    browser: Browser, settings: Settings, reference_event: Event
) -> None:
    """An interpreter on air: hls.js lists the floor and the language, the page's
    ``setAudioLanguage`` picks it, and the video keeps playing with Opus audio buffered
    around the playing position. (hls.js placed the audio there even with the decode-time
    shift turned off, so this does not prove the shift: test_hls_audio.py checks that.)"""
    page = await browser.new_page()
    async with live_origin(settings, reference_event, CHANNEL) as origin:
        assert origin.app is not None
        booth = ChannelSource(f"{CHANNEL}-ja", lambda: 0.0)
        renditions = AudioRenditions(origin.app[HLS], [CHANNEL], lambda c, lang: booth)
        # The interpreter starts 8 s after the video.
        await eventually(lambda: origin.frames > 8 * 30, "eight seconds of media", within=20)
        renditions.package(CHANNEL, "ja")
        speaking = asyncio.create_task(_speak(booth))
        try:
            await eventually(
                lambda: bool(origin.app and origin.app[HLS].audio_languages(CHANNEL)),
                "the language's first audio segment",
                within=20,
            )
            await page.goto(f"http://127.0.0.1:{origin.port}/watch/{CHANNEL}?hls=1")

            async def two_tracks() -> bool:
                return bool(
                    await page.evaluate("window.vbHls.hls && window.vbHls.hls.audioTracks.length")
                    == 2
                )

            await eventually(two_tracks, "hls.js listing two audio tracks", within=30)
            await page.evaluate(
                """window.audioFrags = [];
                window.vbHls.hls.on('hlsFragBuffered', (_e, d) => {
                  if (d.frag.type === 'audio') window.audioFrags.push([d.frag.start, d.frag.end]);
                });
                window.vbHls.setAudioLanguage('ja')"""
            )
            await eventually(
                lambda: page.evaluate(
                    "window.vbHls.hls.audioTracks[window.vbHls.hls.audioTrack].lang === 'ja'"
                ),
                "the ja track chosen",
            )
            before = float(await page.evaluate("document.getElementById('player').currentTime"))

            async def played_on() -> bool:
                now = await page.evaluate("document.getElementById('player').currentTime")
                return float(now) > before + 3

            await eventually(played_on, "the video playing on with the ja audio", within=30)
            # The ja fragments buffered sit around the playing position.
            gap = await page.evaluate(
                """() => { const t = document.getElementById('player').currentTime;
                const gaps = window.audioFrags.map(([s, e]) => s <= t && t <= e ? 0
                  : Math.min(Math.abs(s - t), Math.abs(e - t)));
                return gaps.length ? Math.min(...gaps) : null; }"""
            )
        finally:
            speaking.cancel()
            await renditions.aclose()
    print(json.dumps({"hls_audio_rendition_gap_seconds": gap}))
    assert gap is not None, "hls.js buffered no ja audio fragment"
    assert gap < 4, "the ja audio is buffered where the video plays"
    await page.close()


async def _speak(booth: ChannelSource) -> None:
    """An interpreter's Opus, paced in real time (20 ms packets)."""

    class Publisher:
        def send_keyframe_request(self) -> None:
            """Audio only."""

    maker = RtpMaker("audio/opus", 48000, booth.attach_publisher(Publisher()))
    loop = asyncio.get_running_loop()
    began = loop.time()
    step = 0
    while True:
        for packet in maker.packets(tone(step, 660), loop.time()):
            booth.push(packet)
        step += 1
        await asyncio.sleep(max(0.0, began + step * 0.02 - loop.time()))

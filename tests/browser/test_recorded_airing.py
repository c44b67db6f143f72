"""A real recording joined to its airing, end to end: an aiortc publisher whose picture
steps each second is recorded while a director routes it to a venue; /api/records.json
points at the file with offsets the picture confirms, Chromium plays the airing from its
recorded start, and ``recordings export`` cuts it into one file that decodes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import pytest
from playwright.async_api import Browser

from config import Event
from config.recording_settings import RecordingSettings
from tests.control.support import mint
from tests.helpers import eventually, local_settings
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.pattern_peers import STEPS, luma_of, publish_pattern
from web.app import create_app
from web.cli_recordings import export_session
from web.keys import CLOCK, ROUTING
from web.recording_wiring import RECORDINGS
from web.server import start_server

pytestmark = pytest.mark.requires("network")
CHANNEL, VENUE = "gz-hall-1", "jp"
LUMAS = {luma_of(k): k for k in range(STEPS)}
PLAYER = """() => {
  const v = document.getElementById("player");
  return { time: v.currentTime, paused: v.paused, width: v.videoWidth,
           frames: v.getVideoPlaybackQuality().totalVideoFrames };
}"""


@contextlib.asynccontextmanager
async def _server(tmp_path: Path, event: Event) -> AsyncIterator[MediaServer]:
    recording = RecordingSettings(directory=tmp_path / "rec", idle_close_seconds=2.0, min_free_mb=1)
    settings = local_settings(
        data_dir=tmp_path / "data", producer_secret=PRODUCER_SECRET, recording=recording
    )
    app = create_app(settings, event)
    server = await start_server(app, settings, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http:
            yield MediaServer(f"http://127.0.0.1:{server.port}", app, http)
    finally:
        await server.aclose()


async def _route(server: MediaServer, channel: str | None, director: str) -> None:
    async with server.http.post(
        f"{server.url}/api/venues/{VENUE}/route",
        json={"channel": channel},
        headers={"Authorization": f"Bearer {director}"},
    ) as response:
        assert response.status == 202, await response.text()


def _second_shown(path: Path, at: float) -> int:
    """Which second of the pattern the picture at ``at`` s into ``path`` shows."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.pts is not None and frame.time is not None and frame.time >= at:
                plane = frame.planes[0]
                luma = bytes(plane)[plane.line_size * 120 + 160]
                return LUMAS[min(LUMAS, key=lambda known: abs(known - luma))]
    raise AssertionError(f"no picture at {at} s in {path.name}")


@pytest.mark.timeout(120)
async def test_a_recorded_airing_points_plays_and_exports(
    tmp_path: Path, reference_event: Event, browser: Browser, shots: Path
) -> None:
    async with _server(tmp_path, reference_event) as server:
        app = server.app
        director = mint(app, "director", "Director Wang")
        publisher = await publish_pattern(
            server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, 40
        )
        try:
            await asyncio.sleep(2.5)  # recorded before it goes on air
            await _route(server, CHANNEL, director)
            await eventually(lambda: app[ROUTING].log.open_on(VENUE) is not None, "on air", 10)
            await asyncio.sleep(4.5)
            await _route(server, None, director)
            await eventually(lambda: app[ROUTING].log.open_on(VENUE) is None, "off air", 10)
            await asyncio.sleep(1.0)
        finally:
            await publisher.pc.close()
        await eventually(
            lambda: all(not f.open for f in app[RECORDINGS].files(CHANNEL)), "the file closed", 15
        )
        [airing] = [a for a in app[ROUTING].log.airings() if a.venue == VENUE]
        [entry] = app[RECORDINGS].files(CHANNEL)
        assert airing.actual_start is not None
        assert airing.actual_end is not None
        aired = (airing.actual_end - airing.actual_start).total_seconds()

        # 1. The JSON export points at the file, at the airing's offsets.
        headers = {"Authorization": f"Bearer {director}"}
        async with server.http.get(f"{server.url}/api/records.json", headers=headers) as got:
            rows = (await got.json())["airings"]
        [row] = [r for r in rows if r["airing"] == airing.id]
        [piece] = row["recordings"]
        assert piece["file"] == entry.name
        assert piece["channel"] == CHANNEL
        start_offset = (airing.actual_start - entry.started_at).total_seconds()
        assert piece["from_offset"] == pytest.approx(start_offset, abs=0.01)
        assert 2.0 <= piece["from_offset"] <= 5.0  # routed 2.5 s in, taken at a keyframe
        assert piece["to_offset"] - piece["from_offset"] == pytest.approx(aired, abs=0.01)
        assert piece["to_offset"] <= entry.duration + 0.01
        # The file's picture half-way through the airing's second full second is the one
        # the pattern showed then (a second of the pattern is a second of media time).
        middle = int(piece["from_offset"]) + 1.5
        expected = int(middle) % STEPS
        assert _second_shown(entry.path, middle) == expected

        # 2. Chromium plays the airing from its recorded start.
        context = await browser.new_context(viewport={"width": 1000, "height": 760})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{server.url}/join?token={director}")
        await page.goto(f"{server.url}{row['player_url'].split(server.url)[-1]}")
        state: dict[str, object] = {}

        async def playing_from_the_offset() -> bool:
            state.update(await page.evaluate(PLAYER))
            time = float(str(state["time"]))
            return not state["paused"] and piece["from_offset"] + 0.3 <= time

        await eventually(playing_from_the_offset, "the player past the airing's start", 20)
        assert float(str(state["time"])) < piece["to_offset"] + 0.5
        assert state["width"] == 320
        await page.screenshot(path=str(shots / "recorded-airing-player.png"))
        assert errors == []
        await context.close()

        # 3. The export cuts the airing into one file that decodes.
        out = tmp_path / "airing.mp4"
        now = app[CLOCK].now()
        line = export_session(app[RECORDINGS], [airing], airing.id, VENUE, out, now)
        with av.open(str(out)) as container:
            frames = list(container.decode(video=0))
        with av.open(str(out)) as container:
            sounds = list(container.decode(audio=0))
        keyframes = [float(f.time or 0) for f in frames if f.key_frame]
        length = float(frames[-1].time or 0) + 1 / 30
        lead_in = float(line.split("up to ")[1].split(" s")[0])
        print(f"aired {aired:.3f} s, exported {length:.3f} s, lead-in {lead_in} s: {line}")
        assert keyframes[0] == pytest.approx(0.0, abs=0.05)
        assert aired <= length + 0.1
        assert length <= aired + lead_in + 0.1
        audio_length = float(sounds[-1].time or 0) + sounds[-1].samples / sounds[-1].sample_rate
        assert abs(audio_length - length) < 0.15  # sound all along the picture
        # The export's picture at that moment is the recording's.
        assert _second_shown(out, middle - piece["from_offset"] + lead_in) == expected

"""The /records player in Chromium: an airing across a file rotation plays from its
recorded start, piece after piece, from fMP4 (H.264 + Opus) served with ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser

from config import Event, Settings
from signaling.records.airing import Airing, Status
from signaling.records.recordings import RecordingIndex
from signaling.records.store import AiringStore
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import mint
from tests.helpers import eventually
from tests.recorded_clip import record_clip
from web.app import create_app
from web.backends import STORE_FILE
from web.recording_wiring import recording_directory

T0 = datetime(2018, 12, 21, 1, 0, tzinfo=UTC)
VIDEO_STATE = """() => {
  const v = document.getElementById("player");
  return { time: v.currentTime, paused: v.paused, piece: v.dataset.piece,
           width: v.videoWidth, frames: v.getVideoPlaybackQuality().totalVideoFrames,
           state: document.getElementById("player-state").textContent };
}"""


@pytest.fixture
async def app(settings: Settings, reference_event: Event) -> web.Application:
    """A record of one airing (4 s to 7.5 s) over two recorded files (rotated at 6 s)."""
    store = await SqliteEventStore.open(settings.data_dir / STORE_FILE)
    records = AiringStore(store, reference_event.id)
    await records.began(T0 - timedelta(hours=1))
    await records.save(
        [
            Airing(
                id="opening@jp#1", session="opening", venue="jp", channel="gz-hall-1",
                scheduled_start=T0, scheduled_end=T0 + timedelta(minutes=50),
                actual_start=T0 + timedelta(seconds=4), actual_end=T0 + timedelta(seconds=7.5),
                status=Status.CUT_SHORT, routed_by="auto",
            )
        ]
    )  # fmt: skip
    await store.aclose()
    index = RecordingIndex(recording_directory(settings))
    record_clip(index, "gz-hall-1", T0, 6)
    record_clip(index, "gz-hall-1", T0 + timedelta(seconds=6), 6, shade=120)
    return create_app(settings, reference_event)


async def test_the_player_plays_the_airing_from_its_recorded_start(
    browser: Browser, live_url: str, app: web.Application, shots: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1100, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{live_url}/join?token={mint(app, 'director', 'Director Wang')}")
    await page.goto(f"{live_url}/records")
    await page.locator("a.airing-play").first.click()
    await page.wait_for_url("**/records/play?airing=*")
    seen: list[dict[str, object]] = []

    async def state() -> dict[str, object]:
        seen.append(await page.evaluate(VIDEO_STATE))
        return seen[-1]

    # The first piece starts 4 s into the first file: it seeks there and plays.
    async def started() -> bool:
        now = await state()
        return now["piece"] == "0" and 4.0 <= float(str(now["time"])) < 6.0 and not now["paused"]

    await eventually(started, "the first piece playing from 4 s in", within=15)
    assert (await state())["width"] == 320
    await page.screenshot(path=str(shots / "player-first-piece.png"))

    async def second_piece() -> bool:
        now = await state()
        return now["piece"] == "1" and float(str(now["time"])) > 0.2

    await eventually(second_piece, "the second file playing after the rotation", within=15)
    await page.screenshot(path=str(shots / "player-second-piece.png"))

    async def finished() -> bool:
        return (await state())["state"] == "End of the airing."

    await eventually(finished, "the end of the airing", within=15)
    ended = await state()
    assert ended["paused"]
    assert float(str(ended["time"])) >= 1.5
    assert int(str(ended["frames"])) > 0
    assert errors == []
    await context.close()

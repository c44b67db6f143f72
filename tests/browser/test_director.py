"""A director in Chromium routes by hand over a running schedule; a second page playing the
venue output shows each new source; /records tells what happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from config import Event
from config.event_file import parse_event
from signaling.records.airing import Status
from tests.control.support import WsClient, mint
from tests.helpers import eventually, local_settings
from tests.integration.test_forwarding import BRIGHT, DARK
from tests.media_peers import needs_network, publish
from web.app import create_app
from web.keys import MEDIA, ROUTING

pytestmark = [pytest.mark.browser, pytest.mark.network, needs_network]

INGEST_KEY = "director-test-ingest-key-0123"

PLAY_VENUE = """async ({ venue, token }) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const video = document.createElement("video");
  Object.assign(video, { id: "projector", muted: true, autoplay: true, playsInline: true });
  video.width = 320;
  document.body.prepend(video);
  pc.ontrack = (e) => {
    if (e.track.kind === "video") video.srcObject = new MediaStream([e.track]);
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") done();
    });
    setTimeout(done, 3000);
  });
  const response = await fetch(`/whep/venue/${venue}`, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) throw new Error(await response.text());
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  window.projectorPc = pc;
}"""

BRIGHTNESS = """() => {
  const video = document.getElementById("projector");
  if (!video || video.readyState < 2) return -1;
  const canvas = document.createElement("canvas");
  canvas.width = 32; canvas.height = 18;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(video, 0, 0, 32, 18);
  const data = ctx.getImageData(0, 0, 32, 18).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += (data[i] + data[i + 1] + data[i + 2]) / 3;
  return sum / (data.length / 4);
}"""


def short_event(start: datetime) -> Event:
    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    table: dict[str, Any] = {
        "event": {"id": "directed", "name": "Directed run", "time_zone": "Asia/Shanghai"},
        "venues": [
            {"id": "gz", "name": "Guangzhou", "kind": "main", "time_zone": "Asia/Shanghai"},
            {"id": "jp", "name": "Tokyo sub-venue", "kind": "sub", "time_zone": "Asia/Tokyo"},
            {"id": "us", "name": "Silicon Valley sub-venue", "kind": "sub",
             "time_zone": "America/Los_Angeles"},
        ],
        "channels": [
            {"id": "hall-1", "title": "Hall 1", "venue": "gz", "kind": "programme"},
            {"id": "hall-2", "title": "Hall 2", "venue": "gz", "kind": "programme"},
            {"id": "jp-return", "title": "Tokyo return", "venue": "jp", "kind": "return"},
            {"id": "us-return", "title": "US return", "venue": "us", "kind": "return"},
        ],
        "sessions": [
            {"id": "keynote", "title": "Opening keynote", "part": "summit_forums",
             "start": at(4), "end": at(16), "channel": "hall-1", "venues": ["jp", "us"]},
            {"id": "roadshow", "title": "Roadshow", "part": "project_exchange",
             "start": at(4), "end": at(12), "channel": "hall-2", "venues": []},
        ],
    }  # fmt: skip
    return parse_event(table, "<directed run>")


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    settings = local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        producer_secret=INGEST_KEY,
        video_codec="VP8",
        pre_roll_seconds=2,
        asrun_tolerance_seconds=1,
    )
    app = create_app(settings, short_event(datetime.now(UTC) + timedelta(seconds=3)))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), app
    finally:
        await server.close()


async def take_confirmed(director: Page) -> None:
    """TAKE the preset; the venue is on air, so the page asks first: confirm."""
    await director.click("#take")
    dialog = director.locator("#confirm-take")
    await dialog.wait_for(state="visible")
    await dialog.locator("button[value=take]").click()
    await dialog.wait_for(state="hidden")


async def brightness(page: Page) -> float:
    value: float = await page.evaluate(BRIGHTNESS)
    return value


async def test_director_routes_and_the_venue_player_follows(
    running: tuple[str, Any], browser: Browser, shots: Path
) -> None:
    url, app = running
    hub, routing = app[MEDIA], app[ROUTING]
    peers: list[Any] = []
    async with aiohttp.ClientSession() as http:
        try:
            peers.append(await publish(http, f"{url}/whip/hall-1", INGEST_KEY, BRIGHT))
            peers.append(await publish(http, f"{url}/whip/hall-2", INGEST_KEY, DARK))
            await eventually(lambda: hub.channel("hall-1").live, "hall 1 live")
            await eventually(lambda: hub.channel("hall-2").live, "hall 2 live")

            director_context = await browser.new_context(viewport={"width": 1400, "height": 700})
            director = await director_context.new_page()
            errors: list[str] = []
            director.on("pageerror", lambda e: errors.append(str(e)))
            token = mint(app, "director", "Director Wang")
            await director.goto(f"{url}/join?token={token}")
            await director.goto(f"{url}/director")
            await director.locator("#status[data-state=online]").wait_for()

            projector_context = await browser.new_context()
            projector = await projector_context.new_page()
            await projector.goto(f"{url}/healthz")
            operator = mint(app, "operator", "op-tokyo", venue="jp")
            await projector.evaluate(PLAY_VENUE, {"venue": "jp", "token": operator})

            # The automation puts the keynote (hall 1, bright) on Tokyo at the pre-roll.
            hall1 = director.locator('button.xpt[data-venue="jp"][data-channel="hall-1"]')
            await hall1.and_(director.locator(".on-air")).wait_for(timeout=15000)

            async def shows(low: float, high: float) -> bool:
                return low <= await brightness(projector) <= high

            await eventually(lambda: shows(150, 255), "the projector to show hall 1", 15)

            # The director takes Tokyo to hall 2 (dark) by hand: preset, TAKE, confirm.
            hall2 = director.locator('button.xpt[data-venue="jp"][data-channel="hall-2"]')
            await hall2.click()
            await take_confirmed(director)
            await hall2.and_(director.locator(".on-air")).wait_for(timeout=10000)
            await eventually(lambda: shows(0, 100), "the projector to show hall 2", 15)
            assert "Director Wang" in (await hall2.get_attribute("title") or "")
            await director.screenshot(path=str(shots / "director.png"), full_page=True)

            # Talkback: the Tokyo operator speaks; the director answers from the matrix page.
            tokyo = await WsClient.connect(http, f"{url}/ws", operator)
            await tokyo.ok({"type": "talkback", "text": "Projector is up in Tokyo"})
            log = director.locator("#talkback [data-talkback-log]")
            await log.get_by_text("Projector is up in Tokyo").wait_for()
            await director.select_option("#talkback select[name=venue]", "jp")
            await director.fill("#talkback input[name=text]", "Thanks, Tokyo")
            await director.click("#talkback button[type=submit]")
            await eventually(
                lambda: any(f.get("text") == "Thanks, Tokyo" for f in tokyo.of_type("talkback")),
                "the operator to hear the director",
            )
            await tokyo.close()

            # Back to the schedule's choice, then let the keynote end.
            await hall1.click()
            await take_confirmed(director)
            await eventually(lambda: shows(150, 255), "the projector back on hall 1", 15)

            def keynote(venue: str) -> list[Any]:
                return [
                    a for a in routing.log.airings() if (a.session, a.venue) == ("keynote", venue)
                ]

            await eventually(
                lambda: (
                    all(not a.open for a in keynote("jp"))
                    and bool(keynote("us"))
                    and all(not a.open for a in keynote("us"))
                ),
                "the keynote to end everywhere",
                30,
            )
            jp = keynote("jp")
            assert jp[0].status is Status.CUT_SHORT  # the director took Tokyo away
            assert jp[0].routed_by == "automation"
            assert jp[-1].routed_by == "Director Wang"
            assert keynote("us")[0].status is Status.AIRED

            records = await director_context.new_page()
            await records.goto(f"{url}/records")
            cells = records.locator('tr[data-session="keynote"] td[data-venue="us"]')
            assert await cells.get_attribute("data-status") == "aired"
            assert await records.locator("figure.timeline").count() == 2
            await records.screenshot(path=str(shots / "records.png"), full_page=True)
            assert errors == []
        finally:
            for peer in peers:
                await peer.pc.close()

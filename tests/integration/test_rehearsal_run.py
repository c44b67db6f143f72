"""A rehearsal at 60x: an event dated years ahead runs now, through three sessions on two
halls with real aiortc publishers, and the records say what aired, on the shifted clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from config import Event
from config.event_file import parse_event
from signaling.records.airing import Status
from tests.control.support import mint
from tests.helpers import eventually, local_settings
from tests.integration.test_forwarding import BRIGHT, DARK, near
from tests.media_peers import needs_network, publish, subscribe
from web.app import create_app
from web.keys import CLOCK, MEDIA, ROUTING

pytestmark = [pytest.mark.network, needs_network]

INGEST_KEY = "rehearsal-run-ingest-key-0123"
SPEED = 60.0
EVENT_START = datetime(2031, 5, 20, 9, 0, tzinfo=UTC)


def future_event() -> Event:
    """Three three-minute sessions for Tokyo, alternating halls, in 2031."""

    def at(minutes: float) -> datetime:
        return EVENT_START + timedelta(minutes=minutes)

    table: dict[str, Any] = {
        "event": {"id": "rehearsed", "name": "Rehearsed event", "time_zone": "Asia/Shanghai"},
        "venues": [
            {"id": "gz", "name": "Guangzhou", "kind": "main", "time_zone": "Asia/Shanghai"},
            {"id": "jp", "name": "Tokyo", "kind": "sub", "time_zone": "Asia/Tokyo"},
        ],
        "channels": [
            {"id": "hall-1", "title": "Hall 1", "venue": "gz", "kind": "programme"},
            {"id": "hall-2", "title": "Hall 2", "venue": "gz", "kind": "programme"},
            {"id": "jp-return", "title": "Tokyo return", "venue": "jp", "kind": "return"},
        ],
        "sessions": [
            {"id": "one", "title": "One", "part": "summit_forums", "start": at(0), "end": at(3),
             "channel": "hall-1", "venues": ["jp"]},
            {"id": "two", "title": "Two", "part": "project_exchange", "start": at(3),
             "end": at(6), "channel": "hall-2", "venues": ["jp"]},
            {"id": "three", "title": "Three", "part": "summit_forums", "start": at(6),
             "end": at(9), "channel": "hall-1", "venues": ["jp"]},
        ],
    }  # fmt: skip
    return parse_event(table, "<future event>")


@pytest.fixture
async def rehearsal(tmp_path: Path) -> AsyncIterator[tuple[str, Any, aiohttp.ClientSession]]:
    settings = local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        producer_secret=INGEST_KEY,
        video_codec="VP8",
        pre_roll_seconds=30,  # half a real second at 60x
        asrun_tolerance_seconds=120,
        rehearsal=True,
        rehearsal_speed=SPEED,
        # The first session starts 8 real seconds after start-up: time to connect the peers.
        rehearsal_lead_seconds=8,
    )
    app = create_app(settings, future_event())
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield str(server.make_url("")).rstrip("/"), app, http
    finally:
        await server.close()


async def test_a_sped_up_rehearsal_runs_the_schedule_and_records_it(
    rehearsal: tuple[str, Any, aiohttp.ClientSession],
) -> None:
    url, app, http = rehearsal
    began = time.monotonic()
    hub, routing, clock = app[MEDIA], app[ROUTING], app[CLOCK]
    assert EVENT_START - timedelta(minutes=9) < clock.now() < EVENT_START
    async with http.get(f"{url}/api/schedule") as response:
        served = (await response.json())["clock"]
    assert served["rehearsal"] is True
    assert served["speed"] == SPEED
    # Pages with a socket learn the same clock from their welcome.
    async with http.ws_connect(f"{url}/ws") as ws:
        welcome = await ws.receive_json()
    assert welcome["rehearsal"] == {k: served[k] for k in ("real", "virtual", "speed")}
    peers: list[Any] = []
    try:
        peers.append(await publish(http, f"{url}/whip/hall-1", INGEST_KEY, BRIGHT))
        peers.append(await publish(http, f"{url}/whip/hall-2", INGEST_KEY, DARK))
        await eventually(lambda: hub.channel("hall-1").live and hub.channel("hall-2").live, "live")
        operator = mint(app, "operator", "op-tokyo", venue="jp")
        projector = await subscribe(http, f"{url}/whep/venue/jp", token=operator)
        peers.append(projector)

        def airing(session: str) -> Any:
            return next((a for a in routing.log.airings() if a.session == session), None)

        await eventually(lambda: airing("one") is not None, "session one on air", 15)
        await eventually(lambda: near(projector.last_luma or 0, BRIGHT), "Tokyo to see hall 1")
        await eventually(lambda: airing("two") is not None, "session two on air", 15)
        await eventually(lambda: near(projector.last_luma or 0, DARK), "Tokyo to see hall 2")
        await eventually(lambda: airing("three") is not None, "session three on air", 15)
        await eventually(
            lambda: airing("three").status is not Status.ON_AIR, "the rehearsal to end", 20
        )
        print(f"\nthree sessions (9 event minutes) rehearsed in {time.monotonic() - began:.1f} s")

        director = {"Authorization": f"Bearer {mint(app, 'director', 'Director Wang')}"}
        async with http.get(f"{url}/api/records.json", headers=director) as response:
            rows = (await response.json())["airings"]
        assert [(r["session"], r["status"], r["rehearsal"]) for r in rows] == [
            ("one", "aired", True),
            ("two", "aired", True),
            ("three", "aired", True),
        ]
        for row in rows:
            start = datetime.fromisoformat(row["actual_start_utc"])
            scheduled = datetime.fromisoformat(row["scheduled_start_utc"])
            # Taken at the pre-roll on the shifted clock (2031), not at today's date; two
            # event minutes are two real seconds of slack for a loaded machine.
            assert abs((start - scheduled).total_seconds() + 30) < 120, row
            assert row["routed_by"] == "automation"
        # The report on the command line reads the same store.
    finally:
        for peer in peers:
            await (peer.close() if hasattr(peer, "frames") else peer.pc.close())

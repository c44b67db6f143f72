"""A short schedule run for real: the automation routes a live aiortc publisher to a venue
output at the pre-roll, the media plane takes the cut, and the as-run record says so."""

from __future__ import annotations

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
from web.keys import MEDIA, ROUTING

pytestmark = [pytest.mark.network, needs_network]

INGEST_KEY = "live-schedule-ingest-key-0123"


def short_event(start: datetime) -> Event:
    """Two 4-second sessions back to back on two halls, both sent to Tokyo."""

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    table: dict[str, Any] = {
        "event": {"id": "short", "name": "Short schedule", "time_zone": "Asia/Shanghai"},
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
            {"id": "first", "title": "First", "part": "summit_forums", "start": at(2),
             "end": at(6), "channel": "hall-1", "venues": ["jp"]},
            {"id": "second", "title": "Second", "part": "project_exchange", "start": at(6),
             "end": at(10), "channel": "hall-2", "venues": ["jp"]},
        ],
    }  # fmt: skip
    return parse_event(table, "<short schedule>")


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[str, Any, aiohttp.ClientSession]]:
    settings = local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        producer_secret=INGEST_KEY,
        video_codec="VP8",
        pre_roll_seconds=1,
        asrun_tolerance_seconds=1,
        source_lost_seconds=30,
    )
    event = short_event(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2))
    app = create_app(settings, event)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield str(server.make_url("")).rstrip("/"), app, http
    finally:
        await server.close()


async def test_a_short_schedule_runs_itself(live: tuple[str, Any, aiohttp.ClientSession]) -> None:
    url, app, http = live
    hub, routing = app[MEDIA], app[ROUTING]
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

        await eventually(lambda: airing("first") is not None, "the first session on air", 15)
        await eventually(
            lambda: projector.last_luma is not None and near(projector.last_luma, BRIGHT),
            "the projector to show hall 1",
        )
        first = airing("first")
        assert first.status is Status.ON_AIR
        assert first.routed_by == "automation"
        # Taken at the pre-roll, a second before the scheduled start (give or take a frame).
        assert abs((first.actual_start - first.scheduled_start).total_seconds() + 1) < 1

        await eventually(lambda: airing("second") is not None, "the second session", 15)
        await eventually(
            lambda: near(projector.last_luma or 0, DARK), "the projector to show hall 2"
        )
        await eventually(
            lambda: airing("second").status is not Status.ON_AIR, "the second session to end", 15
        )
        assert airing("first").status is Status.AIRED
        assert airing("second").status is Status.AIRED
        assert airing("second").peak_venue_viewers == 1

        director = {"Authorization": f"Bearer {mint(app, 'director', 'Director Wang')}"}
        async with http.get(f"{url}/api/records.json", headers=director) as response:
            rows = (await response.json())["airings"]
        assert [(r["session"], r["venue"], r["status"]) for r in rows] == [
            ("first", "jp", "aired"),
            ("second", "jp", "aired"),
        ]
        assert rows[0]["scheduled_start_local"].endswith("+09:00")
    finally:
        for peer in peers:
            await (peer.close() if hasattr(peer, "frames") else peer.pc.close())

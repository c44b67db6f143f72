"""/records, the JSON and CSV exports show off-air intervals, totals and unscheduled airings."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from config import Event
from signaling.records.airing import Airing, OffAir, Status
from signaling.records.store import AiringStore
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import mint
from tests.helpers import local_settings
from web.app import create_app
from web.backends import STORE_FILE

GZ = ZoneInfo("Asia/Shanghai")
START = datetime(2018, 12, 21, 9, 0, tzinfo=GZ)


async def test_records_show_off_air_and_unscheduled(tmp_path: Path, reference_event: Event) -> None:
    data = tmp_path / "data"
    store = await SqliteEventStore.open(data / STORE_FILE)
    records = AiringStore(store, reference_event.id)
    await records.began(START - timedelta(hours=1))
    lost = OffAir(
        START + timedelta(minutes=10), START + timedelta(minutes=10, seconds=46), "source_lost"
    )
    down = OffAir(
        START + timedelta(minutes=20), START + timedelta(minutes=20, seconds=9), "server_down"
    )
    await records.save(
        [
            Airing(
                id="opening@jp#1", session="opening", venue="jp", channel="gz-hall-1",
                scheduled_start=START, scheduled_end=START + timedelta(minutes=50),
                actual_start=START - timedelta(minutes=2), actual_end=START + timedelta(minutes=50),
                status=Status.AIRED, routed_by="Director Wang", off_air=(lost, down),
            ),
            Airing(
                id="unscheduled@us#1", session="", venue="us", channel="gz-hall-2",
                scheduled_start=START, scheduled_end=START, actual_start=START,
                actual_end=START + timedelta(minutes=5), status=Status.AIRED,
                routed_by="Director Wang", unscheduled=True,
            ),
        ]
    )  # fmt: skip
    await store.aclose()

    app = create_app(local_settings(host="127.0.0.1", port=0, data_dir=data), reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        director = {"Authorization": f"Bearer {mint(app, 'director', 'Director Wang')}"}
        page = await (await client.get("/records", headers=director)).text()
        body = await (await client.get("/api/records.json", headers=director)).json()
        table = await (await client.get("/api/records.csv", headers=director)).text()

    assert 'data-cause="source_lost"' in page
    assert 'data-cause="server_down"' in page
    assert "55 s off air" in page
    assert 'data-airing="unscheduled@us#1"' in page
    assert "Unscheduled: Hall 2" in page

    opening = next(r for r in body["airings"] if r["airing"] == "opening@jp#1")
    assert opening["off_air_seconds"] == 55
    assert opening["off_air"] == [
        {"cause": "source_lost", "start_utc": "2018-12-21T01:10:00Z",
         "end_utc": "2018-12-21T01:10:46Z", "seconds": 46.0},
        {"cause": "server_down", "start_utc": "2018-12-21T01:20:00Z",
         "end_utc": "2018-12-21T01:20:09Z", "seconds": 9.0},
    ]  # fmt: skip
    unscheduled = next(r for r in body["airings"] if r["airing"] == "unscheduled@us#1")
    assert unscheduled["unscheduled"] is True

    rows = {r["airing"]: r for r in csv.DictReader(io.StringIO(table))}
    assert rows["opening@jp#1"]["off_air_seconds"] == "55.0"
    assert rows["opening@jp#1"]["off_air"].startswith("source_lost 2018-12-21T01:10:00Z/")
    assert rows["unscheduled@us#1"]["unscheduled"] == "True"

"""An airing open when the server died is closed on the next start, at the last heartbeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from config import Event
from signaling.records.airing import Airing, Status
from signaling.records.store import AiringStore
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import mint
from tests.helpers import local_settings
from web.app import create_app
from web.backends import STORE_FILE

GZ = ZoneInfo("Asia/Shanghai")


async def test_restart_closes_what_was_on_air(tmp_path: Path, reference_event: Event) -> None:
    data = tmp_path / "data"
    start = datetime(2018, 12, 21, 9, 0, tzinfo=GZ)
    # What a node left behind when it was killed mid-airing.
    store = await SqliteEventStore.open(data / STORE_FILE)
    records = AiringStore(store, reference_event.id)
    await records.began(start - timedelta(hours=1))
    await records.save(
        [
            Airing(
                id="opening@jp#1",
                session="opening",
                venue="jp",
                channel="gz-hall-1",
                scheduled_start=start,
                scheduled_end=start + timedelta(minutes=50),
                actual_start=start - timedelta(minutes=2),
                actual_end=None,
                status=Status.ON_AIR,
                routed_by="automation",
            )
        ]
    )
    await records.alive(start + timedelta(minutes=20))
    await store.aclose()

    settings = local_settings(host="127.0.0.1", port=0, data_dir=data)
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        director = {"Authorization": f"Bearer {mint(app, 'director', 'Director Wang')}"}
        body = await (await client.get("/api/records.json", headers=director)).json()
    opening = next(r for r in body["airings"] if r["airing"] == "opening@jp#1")
    assert opening["status"] == "cut_short"
    assert opening["actual_end_utc"] == "2018-12-21T01:20:00Z"
    assert "server stopped" in opening["note"]

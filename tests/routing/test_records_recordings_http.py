"""Airings joined to recordings over HTTP: export links, the player page, the file endpoint
(ranges, ids only, roles).

The files are real fMP4 clips (H.264 + Opus) where the recorder puts its files, told to the
recorder's own index (signaling/records/recordings.py) as the recorder tells it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event
from signaling.records.airing import Airing, OffAir, Status
from signaling.records.recordings import RecordingIndex
from signaling.records.store import AiringStore
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import mint
from tests.helpers import local_settings
from tests.recorded_clip import record_clip
from web.app import create_app
from web.backends import STORE_FILE
from web.recording_wiring import recording_directory

Client = TestClient[web.Request, web.Application]
T0 = datetime(2018, 12, 21, 1, 0, tzinfo=UTC)
FIRST = "gz-hall-1/gz-hall-1-20181221T010000.mp4"
SECOND = "gz-hall-1/gz-hall-1-20181221T010006.mp4"


@dataclass
class Served:
    client: Client
    app: web.Application
    clips: Path

    def as_role(self, role: str, **scope: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(self.app, role, **scope)}"}


@pytest.fixture
async def served(tmp_path: Path, reference_event: Event) -> AsyncIterator[Served]:
    data = tmp_path / "data"
    store = await SqliteEventStore.open(data / STORE_FILE)
    records = AiringStore(store, reference_event.id)
    await records.began(T0 - timedelta(hours=1))
    lost = OffAir(T0 + timedelta(seconds=4), T0 + timedelta(seconds=5), "source_lost")
    await records.save(
        [
            Airing(
                id="opening@jp#1", session="opening", venue="jp", channel="gz-hall-1",
                scheduled_start=T0, scheduled_end=T0 + timedelta(minutes=50),
                actual_start=T0 + timedelta(seconds=2), actual_end=T0 + timedelta(seconds=9),
                status=Status.CUT_SHORT, routed_by="auto", off_air=(lost,),
            ),
            Airing(
                id="opening@us#1", session="opening", venue="us", channel="gz-hall-2",
                scheduled_start=T0, scheduled_end=T0 + timedelta(minutes=50),
                actual_start=T0, actual_end=T0 + timedelta(seconds=3),
                status=Status.CUT_SHORT, routed_by="auto",
            ),
        ]
    )  # fmt: skip
    await store.aclose()
    settings = local_settings(data_dir=data)
    index = RecordingIndex(recording_directory(settings))
    # Two files of hall 1 (a rotation at T0+6 s, the second still open); nothing of hall 2.
    record_clip(index, "gz-hall-1", T0, 6)
    record_clip(index, "gz-hall-1", T0 + timedelta(seconds=6), 6, shade=90, still_open=True)
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield Served(client, app, index.directory)


async def test_the_json_export_points_at_the_files_and_offsets(served: Served) -> None:
    director = served.as_role("director")
    body = await (await served.client.get("/api/records.json", headers=director)).json()
    jp = next(r for r in body["airings"] if r["airing"] == "opening@jp#1")
    # On air 2-9 s, off air 4-5 s, the file rotated at 6 s.
    got = [(r["file"], r["from_offset"], r["to_offset"]) for r in jp["recordings"]]
    assert got == [
        (FIRST, 2.0, 4.0),
        (FIRST, 5.0, 6.0),
        (SECOND, 0.0, 3.0),
    ]
    assert jp["recorded_seconds"] == 6.0
    base = str(served.client.make_url("")).rstrip("/")
    assert jp["recordings"][0]["url"] == f"{base}/recordings/files/{FIRST}#t=2.0,4.0"
    assert jp["player_url"] == f"{base}/records/play?airing=opening%40jp%231"
    us = next(r for r in body["airings"] if r["airing"] == "opening@us#1")
    assert (us["recordings"], us["player_url"]) == ([], "")


async def test_the_csv_export_carries_the_links(served: Served) -> None:
    director = served.as_role("director")
    table = await (await served.client.get("/api/records.csv", headers=director)).text()
    rows = {r["airing"]: r for r in csv.DictReader(io.StringIO(table))}
    assert rows["opening@jp#1"]["recordings"] == (
        f"{FIRST} 2.0-4.0; {FIRST} 5.0-6.0; {SECOND} 0.0-3.0"
    )
    assert rows["opening@jp#1"]["player_url"].endswith("/records/play?airing=opening%40jp%231")
    assert rows["opening@us#1"]["player_url"] == ""


async def test_records_link_to_the_player_and_it_lists_the_pieces(served: Served) -> None:
    director = served.as_role("director")
    page = await (await served.client.get("/records", headers=director)).text()
    assert 'href="/records/play?airing=opening%40jp%231"' in page
    assert "opening%40us%231" not in page  # nothing of it was recorded: no player
    response = await served.client.get(
        "/records/play", params={"airing": "opening@jp#1"}, headers=director
    )
    assert response.status == 200
    player = await response.text()
    assert '<video id="player"' in player
    assert player.count("data-piece=") == 3
    assert f"/recordings/files/{SECOND}" in player


async def test_files_are_served_with_ranges(served: Served) -> None:
    director = served.as_role("director")
    whole = (served.clips / FIRST).read_bytes()
    response = await served.client.get(
        f"/recordings/files/{FIRST}", headers=director | {"Range": "bytes=100-199"}
    )
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response.headers["Content-Type"] == "video/mp4"
    assert await response.read() == whole[100:200]


@pytest.mark.parametrize(
    "path",
    [
        "/recordings/files/..%2F..%2Fdata%2Fvenuebridge.sqlite3",
        "/recordings/files/%2Fetc%2Fpasswd",
        "/recordings/files/gz-hall-1/%2E%2E/%2E%2E/venuebridge.sqlite3",
        "/recordings/files/gz-hall-1%2F..%2F..%2Fdata%2Fvenuebridge.sqlite3",
        "/recordings/files/gz-hall-1/gz-hall-1-20181221T010000.mp4.json",  # the sidecar
        "/recordings/files/gz-hall-1-20181221T010000.mp4",  # not the name in the index
        "/recordings/files/gz-hall-1/gz-hall-1-20181221T010012.mp4",
        "/recordings/files/..",
    ],
)
async def test_unknown_ids_and_paths_are_not_found(served: Served, path: str) -> None:
    response = await served.client.get(path, headers=served.as_role("director"))
    assert response.status == 404


async def test_unknown_airing_is_not_found(served: Served) -> None:
    response = await served.client.get(
        "/records/play", params={"airing": "../../etc"}, headers=served.as_role("director")
    )
    assert response.status == 404


@pytest.mark.parametrize(
    "path",
    [f"/recordings/files/{FIRST}", "/records/play?airing=opening%40jp%231"],
)
async def test_only_directors_and_admins(served: Served, path: str) -> None:
    assert (await served.client.get(path)).status == 401
    viewer = await served.client.get(path, headers=served.as_role("viewer"))
    assert viewer.status == 403
    operator = await served.client.get(path, headers=served.as_role("operator", venue="jp"))
    assert operator.status == 403
    admin = await served.client.get(path, headers=served.as_role("admin"))
    assert admin.status == 200

"""Every CSV export defuses spreadsheet formulas in people's text (titles, names).

questions.csv is covered with a formula question text in
tests/control/test_http_control.py::test_exports_hold_every_question_in_every_state.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from signaling.records.airing import Airing, Status
from signaling.records.store import AiringStore
from signaling.store.sqlite import SqliteEventStore
from tests.control.support import mint
from web.app import create_app
from web.backends import STORE_FILE
from web.cli import main

REFERENCE = Path(__file__).resolve().parents[2] / "config" / "events" / "coet2018.toml"
TITLE = '=HYPERLINK("http://evil.example","Opening")'
OPERATOR = "@SUM(1+1)*cmd|' /C calc'!A0"


async def store_one_airing(data_dir: Path, event_id: str) -> None:
    """One cut-short airing of the opening in Japan, with formula-like operator and note."""
    start = datetime(2018, 12, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    store = await SqliteEventStore.open(data_dir / STORE_FILE)
    try:
        await AiringStore(store, event_id).save(
            [
                Airing(
                    id="opening@jp#1",
                    session="opening",
                    venue="jp",
                    channel="gz-hall-1",
                    scheduled_start=start,
                    scheduled_end=start + timedelta(minutes=50),
                    actual_start=start - timedelta(minutes=2),
                    actual_end=start + timedelta(minutes=40),
                    status=Status.CUT_SHORT,
                    routed_by=OPERATOR,
                    note="-bad note",
                )
            ]
        )
    finally:
        await store.aclose()


def _only_row(text: str) -> dict[str, str]:
    (row,) = csv.DictReader(io.StringIO(text))
    return row


def _assert_defused(row: dict[str, str]) -> None:
    assert row["title"] == "'" + TITLE
    assert row["routed_by"] == "'" + OPERATOR
    assert row["note"] == "'-bad note"
    assert row["start_delta_seconds"] == "-120.0"  # numbers stay numbers


@pytest.fixture
async def records_client(
    settings: Settings, reference_event: Event
) -> AsyncIterator[TestClient[Any, Any]]:
    await store_one_airing(settings.data_dir, reference_event.id)
    sessions = tuple(
        replace(s, title=TITLE) if s.id == "opening" else s for s in reference_event.sessions
    )
    app = create_app(settings, replace(reference_event, sessions=sessions))
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


async def test_records_csv_defuses_titles_and_operator_names(
    records_client: TestClient[Any, Any],
) -> None:
    director = mint(records_client.server.app, "director", "d")
    response = await records_client.get(
        "/api/records.csv", headers={"Authorization": f"Bearer {director}"}
    )
    assert response.status == 200
    _assert_defused(_only_row(await response.text()))


async def test_report_csv_defuses_titles_and_operator_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    await store_one_airing(data, "coet2018")
    event_file = tmp_path / "event.toml"
    opening = 'title.en = "Opening Ceremony and 20th Anniversary Commemoration of the Convention"'
    assert opening in REFERENCE.read_text()
    event_file.write_text(REFERENCE.read_text().replace(opening, f"title.en = '{TITLE}'"))
    args = ["report", "--data-dir", str(data), "--event", str(event_file), "--format", "csv"]
    # The CLI runs its own event loop, so it runs in a worker thread here.
    assert await asyncio.to_thread(main, args) == 0
    _assert_defused(_only_row(capsys.readouterr().out))

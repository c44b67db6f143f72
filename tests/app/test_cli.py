from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import eventually
from web.cli import main

REFERENCE = Path(__file__).resolve().parents[2] / "config" / "events" / "coet2018.toml"


def test_check_summarises_a_good_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REFERENCE)]) == 0
    out = capsys.readouterr().out
    assert "OK — 2018 Convention on Exchange of Overseas Talents (2018 CEOT) (Asia/Shanghai)" in out
    assert "sessions: 26" in out


def test_check_reports_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(REFERENCE.read_text().replace('time_zone = "Asia/Tokyo"', 'time_zone = "Tokyo"'))
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: venues[3].time_zone: unknown time zone 'Tokyo'" in err


def test_schedule_in_the_venue_local_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--venue", "us"]) == 0
    out = capsys.readouterr().out
    assert "Times in America/Los_Angeles (UTC-08:00)" in out
    assert "Thursday 20 December 2018" in out
    assert "17:00-19:00   Silicon Valley Sub-venue: Project Exchange and Recruitment" in out


def test_schedule_unknown_venue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--venue", "mars"]) == 2
    assert "unknown venue 'mars' (known: gz, us, eu, jp, kr, cis)" in capsys.readouterr().err


def test_bad_setting_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VENUEBRIDGE_PORT", "lots")
    assert main(["serve"]) == 2
    assert "VENUEBRIDGE_PORT: expected a whole number" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_serve_runs_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = _free_port()
    data = tmp_path / "data"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "web",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data),
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def up() -> bool:
                try:
                    async with http.get(url + "/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            await eventually(up, "the server to answer /healthz", within=20)
            async with http.get(url + "/") as response:
                assert "2018 Overseas Talents Summit" in await response.text()
        assert data.is_dir()
        process.send_signal(stop_signal)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    log = stderr.decode()
    assert (
        "serving '2018 Convention on Exchange of Overseas Talents (2018 CEOT)' (26 sessions)" in log
    )
    assert "venuebridge stopped" in log


async def _store_airings(data: Path) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from signaling.records.airing import Airing, Status
    from signaling.records.store import AiringStore
    from signaling.store.sqlite import SqliteEventStore
    from web.backends import STORE_FILE

    start = datetime(2018, 12, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    store = await SqliteEventStore.open(data / STORE_FILE)
    try:
        await AiringStore(store, "coet2018").save(
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
                    routed_by="Director Wang",
                )
            ]
        )
    finally:
        await store.aclose()


def test_report_reads_the_server_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    asyncio.run(_store_airings(data))
    assert main(["report", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Japan sub-venue (Tokyo) (Asia/Tokyo): 1 airing(s)" in out
    assert "12-21 10:00-10:50" in out
    assert "09:58:00-10:40:00   cut_short Director Wang" in out
    assert main(["report", "--data-dir", str(data), "--format", "csv"]) == 0
    assert "opening@jp#1,opening," in capsys.readouterr().out

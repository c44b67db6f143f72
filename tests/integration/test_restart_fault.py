"""Fault: the server is killed with -9 mid-airing and restarted on the same port and data
dir. A real server process, a real aiortc publisher and venue projector: the time until
frames flow again at the venue output is measured and bounded, and the records show one
airing (not two cut-short halves) with the time the server was down as off air."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signaling.auth import Grant, Role, TokenAuthority, load_or_create_secret
from tests.helpers import eventually
from tests.integration.test_forwarding import BRIGHT, near
from tests.media_peers import free_port, needs_network, publish, subscribe

pytestmark = [pytest.mark.network, needs_network]

INGEST_KEY = "restart-fault-ingest-key-0123"
RESTART_BOUND = 10.0  # seconds from the restart until the projector shows frames again
REPO = Path(__file__).resolve().parents[2]


def event_file(path: Path, start: datetime) -> Path:
    """One ten-minute session on hall 1, sent to Tokyo, starting at ``start``."""
    end = start + timedelta(minutes=10)
    path.write_text(
        f"""
[event]
id = "fault"
name = "Fault drill"
time_zone = "Asia/Shanghai"

[[venues]]
id = "gz"
name = "Guangzhou"
kind = "main"
time_zone = "Asia/Shanghai"

[[venues]]
id = "jp"
name = "Tokyo"
kind = "sub"
time_zone = "Asia/Tokyo"

[[channels]]
id = "hall-1"
title = "Hall 1"
venue = "gz"
kind = "programme"

[[channels]]
id = "jp-return"
title = "Tokyo return"
venue = "jp"
kind = "return"

[[sessions]]
id = "keynote"
title = "Keynote"
part = "summit_forums"
start = {start.isoformat()}
end = {end.isoformat()}
channel = "hall-1"
venues = ["jp"]
""",
        encoding="utf-8",
    )
    return path


class Server:
    """``venuebridge serve`` as a child process, killed or stopped by the test."""

    def __init__(self, tmp: Path, port: int, event: Path) -> None:
        self.tmp, self.port, self.event = tmp, port, event
        self.data = tmp / "data"
        self.url = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.runs += 1
        env = dict(
            os.environ,
            VENUEBRIDGE_PRODUCER_SECRET=INGEST_KEY,
            VENUEBRIDGE_VIDEO_CODEC="VP8",
            VENUEBRIDGE_PRE_ROLL_SECONDS="1",
            VENUEBRIDGE_ASRUN_RESTART_GRACE="60",
        )
        # The child keeps its own copy of the log's descriptor; ours closes at once.
        with (self.tmp / f"server-{self.runs}.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "web", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--data-dir", str(self.data),
                "--event", str(self.event), cwd=REPO, env=env, stdout=log, stderr=log,
            )  # fmt: skip

        async def healthy() -> bool:
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(healthy, "the server to answer /healthz", 20)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[Server, aiohttp.ClientSession]]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    event = event_file(tmp_path / "event.toml", start)
    running = Server(tmp_path, free_port(), event)
    async with aiohttp.ClientSession() as http:
        try:
            await running.start(http)
            yield running, http
        finally:
            await running.stop()


def token(data: Path, role: Role, name: str, venue: str | None = None) -> str:
    """Signed with the server's own secret from its data dir, as ``venuebridge token`` does."""
    authority = TokenAuthority(load_or_create_secret(data), audience="fault")
    return authority.mint(Grant(identity=name, role=role, venue=venue), ttl=3600)


async def records(server: Server, http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token(server.data, Role.DIRECTOR, 'Director')}"}
    async with http.get(f"{server.url}/api/records.json", headers=headers) as response:
        rows: list[dict[str, Any]] = (await response.json())["airings"]
        return rows


async def test_kill_9_and_restart_continues_the_airing(
    server: tuple[Server, aiohttp.ClientSession],
) -> None:
    running, http = server
    operator = token(running.data, Role.OPERATOR, "Op Sato", venue="jp")
    peers: list[Any] = []
    try:
        peers.append(await publish(http, f"{running.url}/whip/hall-1", INGEST_KEY, BRIGHT))
        projector = await subscribe(http, f"{running.url}/whep/venue/jp", token=operator)
        peers.append(projector)
        await eventually(lambda: near(projector.last_luma or 0, BRIGHT), "Tokyo to show hall 1", 20)

        async def on_air() -> bool:
            return [(r["session"], r["status"]) for r in await records(running, http)] == [
                ("keynote", "on_air")
            ]

        await eventually(on_air, "the keynote on air in the records")

        killed_at = datetime.now(UTC)
        await running.kill()
        for peer in peers:
            await (peer.close() if hasattr(peer, "frames") else peer.pc.close())
        peers.clear()

        restarted = time.monotonic()
        await running.start(http)
        # What the producer's page and the Tokyo console do by themselves: connect again.
        peers.append(await publish(http, f"{running.url}/whip/hall-1", INGEST_KEY, BRIGHT))
        projector = await subscribe(http, f"{running.url}/whep/venue/jp", token=operator)
        peers.append(projector)
        await eventually(
            lambda: projector.frames > 0 and near(projector.last_luma or 0, BRIGHT),
            "Tokyo to show hall 1 again",
            RESTART_BOUND,
        )
        back_after = time.monotonic() - restarted
        print(f"\nframes at the Tokyo output {back_after:.2f} s after the restart")
        assert back_after <= RESTART_BOUND

        async def continued() -> bool:
            rows = await records(running, http)
            return (
                len(rows) == 1
                and bool(rows[0]["off_air"])
                and rows[0]["off_air"][0]["end_utc"] is not None
            )

        await eventually(continued, "the same airing, its interruption closed")
        [row] = await records(running, http)
        assert (row["airing"], row["status"]) == ("keynote@jp#1", "on_air")
        [down] = row["off_air"]
        assert down["cause"] == "server_down"
        start = datetime.fromisoformat(down["start_utc"])
        end = datetime.fromisoformat(down["end_utc"])
        assert start <= killed_at < end
        assert 0 < down["seconds"] < 30
        assert "continued after a restart" in row["note"]
    finally:
        for peer in peers:
            await (peer.close() if hasattr(peer, "frames") else peer.pc.close())

    # A clean stop closes the airing; the report on the command line says all of it.
    await running.stop()
    report = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "report", "--data-dir", str(running.data),
        "--event", str(running.event), cwd=REPO, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    text = (await report.communicate())[0].decode()
    assert "cut_short" in text, text
    assert "server down" in text, text
    assert "s off air" in text, text

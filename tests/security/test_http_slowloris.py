"""Slow clients against the real server construction (web/server.py) on 127.0.0.1.

A slowloris client opens many connections and trickles its request heads so that none
ever completes. With the head deadline they are closed after it, /healthz answers while
they are open, and connections beyond the cap are refused at once with a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from config import Event, Settings
from tests.helpers import eventually, local_settings
from web.app import create_app
from web.server import RunningServer, start_server

SLOW_CLIENTS = 200
HEAD_TIMEOUT = 1
PARTIAL_HEAD = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture
def edge_settings(tmp_path: Path) -> Settings:
    return local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        http_header_timeout_seconds=HEAD_TIMEOUT,
        http_body_timeout_seconds=1,
        http_max_connections=SLOW_CLIENTS + 20,
    )


@contextlib.asynccontextmanager
async def serving(settings: Settings, event: Event) -> AsyncIterator[RunningServer]:
    server = await start_server(create_app(settings, event), settings)
    try:
        yield server
    finally:
        await server.aclose()


@dataclass
class SlowClient:
    """One connection that sends a header line now and then but never ends its head."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened_at: float
    closed_after: float | None = None

    @classmethod
    async def open(cls, port: int) -> SlowClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(PARTIAL_HEAD)
        return cls(reader, writer, time.monotonic())

    async def trickle_until_closed(self) -> None:
        """Send one more header line every 200 ms until the server hangs up."""
        with contextlib.suppress(ConnectionError):
            for line in range(1000):
                self.writer.write(f"X-Slow-{line}: a\r\n".encode())
                with contextlib.suppress(TimeoutError):
                    # The attack's own pace, not synchronisation: EOF ends the wait early.
                    async with asyncio.timeout(0.2):
                        if await self.reader.read(1024) == b"":
                            break
        self.closed_after = time.monotonic() - self.opened_at
        self.writer.close()


async def _healthz(port: int) -> int:
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


async def test_slow_heads_are_closed_after_the_timeout_while_healthz_answers(
    edge_settings: Settings, reference_event: Event
) -> None:
    async with serving(edge_settings, reference_event) as server:
        clients = [await SlowClient.open(server.port) for _ in range(SLOW_CLIENTS)]
        trickles = [asyncio.create_task(client.trickle_until_closed()) for client in clients]
        await eventually(
            lambda: server.budget.open >= SLOW_CLIENTS, "the server to hold the slow clients"
        )
        # While all of them are open, the health check is answered at once.
        assert await _healthz(server.port) == 200
        # The bound only keeps a broken server from hanging the suite; that the server
        # closed them for the timeout (not sooner, not for another reason) is what counts.
        await asyncio.wait_for(asyncio.gather(*trickles), timeout=HEAD_TIMEOUT + 60)
        assert server.budget.timed_out == SLOW_CLIENTS
        durations = [client.closed_after for client in clients]
        assert all(d is not None and d >= HEAD_TIMEOUT * 0.9 for d in durations)
        await eventually(lambda: server.budget.open == 0, "every slot to be given back")


async def test_connections_beyond_the_cap_are_refused_at_once(
    edge_settings: Settings, reference_event: Event
) -> None:
    settings = replace(edge_settings, http_max_connections=50, http_header_timeout_seconds=60)
    async with serving(settings, reference_event) as server:
        held = [await SlowClient.open(server.port) for _ in range(50)]
        await eventually(lambda: server.budget.open == 50, "the server to hold 50 connections")
        for _ in range(10):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            answer = await asyncio.wait_for(reader.read(), timeout=5)  # until the server closes
            writer.close()
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert b"Retry-After: 5" in answer
        assert server.budget.refused == 10
        assert server.budget.open == 50
        for client in held:
            client.writer.close()
        await eventually(lambda: server.budget.open == 0, "the held connections to close")
        assert await _healthz(server.port) == 200


async def test_a_trickled_body_is_answered_408(
    edge_settings: Settings, reference_event: Event
) -> None:
    async with serving(edge_settings, reference_event) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /whip/gz-hall-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/sdp\r\nContent-Length: 1000\r\n\r\nv=0\r\n"
        )
        started = time.monotonic()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        elapsed = time.monotonic() - started
        writer.close()
        assert status_line.startswith(b"HTTP/1.1 408"), status_line
        assert 0.7 <= elapsed <= 5


async def test_a_quick_client_on_a_kept_alive_connection_is_not_cut(
    edge_settings: Settings, reference_event: Event
) -> None:
    # The head deadline is for slow heads: requests that finish in time keep working on
    # the same connection for longer than the deadline.
    async with serving(edge_settings, reference_event) as server:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as http:
            deadline = time.monotonic() + HEAD_TIMEOUT + 0.5
            while time.monotonic() < deadline:
                async with http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
                    assert response.status == 200
        assert server.budget.timed_out == 0

"""Out of file descriptors: failed accepts are logged once per interval, not per attempt.

asyncio retries ``accept()`` up to a hundred times per wake-up and logs every failure
with a traceback; a flood of connections against a low file limit filled 67 MB of log in
20 s. ``AcceptErrorLog`` reports once per interval with a count.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import resource
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import eventually
from web.connections import ACCEPT_ERROR_MESSAGE, AcceptErrorLog

FILE_LIMIT = 96
CONNECTIONS = 200


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_accept_errors_are_reported_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    others: list[dict[str, object]] = []
    handler = AcceptErrorLog(10.0, lambda loop, context: others.append(context), clock)
    loop = asyncio.new_event_loop()
    failure = {"message": ACCEPT_ERROR_MESSAGE, "exception": OSError(errno.EMFILE, "Too many")}
    try:
        with caplog.at_level(logging.DEBUG, logger="web.connections"):
            for _ in range(500):
                handler(loop, failure)
            assert len(caplog.records) == 1
            clock.now += 10.0
            handler(loop, failure)
            handler(loop, {"message": "something else"})
    finally:
        loop.close()
    assert len(caplog.records) == 2
    assert "499 more such errors" in caplog.records[1].getMessage()
    assert all(record.exc_info is None for record in caplog.records)
    assert others == [{"message": "something else"}]  # the rest go where they went


def _low_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, hard))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _connect_many(port: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(CONNECTIONS):
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(0.5):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writers.append(writer)
    return writers


async def test_a_server_out_of_descriptors_logs_one_line_and_recovers(tmp_path: Path) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "web", "serve", "--host", "127.0.0.1", "--port", str(port)),
        *("--data-dir", str(tmp_path / "data")),
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_low_file_limit,
        env={**os.environ, "VENUEBRIDGE_HTTP_HEADER_TIMEOUT_SECONDS": "2"},
    )
    assert process.stderr is not None
    lines: list[str] = []

    async def collect(stream: asyncio.StreamReader) -> None:
        async for line in stream:
            lines.append(line.decode(errors="replace"))

    collector = asyncio.create_task(collect(process.stderr))
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as answer:
                        return answer.status == 200
                return False

            await eventually(healthy, "the server to start", within=30)
            writers = await _connect_many(port)
            await eventually(
                lambda: any("accept" in line for line in lines),
                "the server to run out of descriptors and say so",
            )
            for writer in writers:
                writer.close()
            # The head deadline frees the held sockets; the server answers again.
            await eventually(healthy, "the server to recover", within=20)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
        await collector
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        collector.cancel()
    accept_lines = [line for line in lines if "accept" in line]
    assert 1 <= len(accept_lines) <= 2, accept_lines
    assert not any("Traceback" in line for line in lines)

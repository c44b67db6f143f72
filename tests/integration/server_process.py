"""A real ``venuebridge serve`` process on a free port, for fault tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.helpers import eventually
from tests.media_peers import free_port

SECRET = "fault-test-producer-secret-0123"


@dataclass
class ServerProcess:
    url: str
    http: aiohttp.ClientSession
    process: asyncio.subprocess.Process

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {SECRET}"}

    async def streams(self) -> dict[str, object]:
        async with self.http.get(f"{self.url}/api/streams") as response:
            body: dict[str, object] = await response.json()
            return body

    async def channel(self, channel: str) -> dict[str, object]:
        streams = await self.streams()
        entries = streams["channels"]
        assert isinstance(entries, list)
        return next(c for c in entries if c["id"] == channel)

    async def route(self, venue: str, channel: str | None) -> None:
        async with self.http.post(
            f"{self.url}/api/venues/{venue}/route", json={"channel": channel}, headers=self.bearer
        ) as response:
            assert response.status == 202, await response.text()

    async def metrics(self) -> str:
        async with self.http.get(f"{self.url}/metrics") as response:
            return await response.text()


@asynccontextmanager
async def serve(
    data_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None
) -> AsyncIterator[ServerProcess]:
    """Start the server, wait for ``/healthz``, stop it (SIGTERM) at the end.

    ``port``: known in advance (a node's ``node.url`` names it); else a free one.
    """
    port = port or free_port()
    environment = {
        **os.environ,
        "VENUEBRIDGE_PRODUCER_SECRET": SECRET,
        "VENUEBRIDGE_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(data_dir), env=environment,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def up() -> bool:
                try:
                    async with http.get(f"{url}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(up, "the server to answer /healthz", within=30)
            yield ServerProcess(url, http, process)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()

"""A WHEP flood (issue 10, finding 3): the caps hold, and ending sessions gives back
what they held.

Several client addresses (127.0.0.x) open WHEP sessions on venue outputs as fast as
they can, a few hundred in all; the caps answer 429 and 503 at their configured numbers.
Then every session is ended and the server must hold no session, no extra socket and no
extra task. RSS is measured before and after and printed as a benchmark-style JSON line;
it is not asserted, because the allocator keeps freed arenas and the number is noisy.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from config import Event, MediaSettings
from signaling.auth import Grant, Role
from streaming.memory import MIN_ENDED, QUIET_SECONDS, HeapTrimmer, give_back_memory
from tests.helpers import eventually, local_settings
from tests.obs_offer import OBS_OFFER
from web.app import create_app
from web.keys import AUTHORITY, MEDIA

PLAYER_OFFER = OBS_OFFER.replace("a=sendonly", "a=recvonly")
ADDRESSES = [f"127.0.0.{n}" for n in range(10, 16)]  # six clients
ATTEMPTS_PER_ADDRESS = 50  # 300 set-ups in all
LIMITS = MediaSettings(
    max_sessions=200,
    max_sessions_per_channel=120,
    max_sessions_per_address=40,
    setup_rate_per_minute=6000,
    setup_burst=ATTEMPTS_PER_ADDRESS,
    connect_timeout_seconds=600,  # ended by the test, not by the reaper
)
VENUES = ("jp", "kr")


def rss_kib() -> int:
    """This process's resident set size (the server runs in it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def open_sockets() -> int:
    """Sockets this process holds open."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue  # closed while listing
    return count


@pytest.fixture
async def flood_server(
    tmp_path: Path, reference_event: Event
) -> AsyncIterator[tuple[web.Application, str]]:
    settings = local_settings(host="127.0.0.1", port=0, data_dir=tmp_path / "data", media=LIMITS)
    app = create_app(settings, reference_event)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield app, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def _open(
    http: aiohttp.ClientSession, base: str, venue: str, headers: dict[str, str]
) -> tuple[int, str | None, str | None]:
    async with http.post(f"{base}/whep/venue/{venue}", data=PLAYER_OFFER, headers=headers) as r:
        await r.read()
        return r.status, r.headers.get("Location"), r.headers.get("Retry-After")


async def _settle() -> None:
    # Closing aiortc connections finishes in callbacks scheduled after close() returns.
    for _ in range(20):
        await asyncio.sleep(0)
    gc.collect()


async def test_whep_flood_is_capped_and_gives_everything_back(
    flood_server: tuple[web.Application, str],
) -> None:
    app, base = flood_server
    hub = app[MEDIA]
    token = app[AUTHORITY].mint(Grant(identity="flood", role=Role.DIRECTOR), ttl=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}
    # Warm up once, so imports and first-use caches are not counted as growth.
    async with aiohttp.ClientSession() as warm_up:
        status, location, _ = await _open(warm_up, base, "us", headers)
        assert status == 201
        assert location is not None
        async with warm_up.delete(location) as r:
            assert r.status == 200
    await _settle()
    await eventually(lambda: not hub.subscribers(), "the warm-up session to end")
    before = Usage.now()
    record: dict[str, object] = {"bench": "whep_flood", "rss_kib_before": before.rss_kib}
    # Two rounds: if the second grows RSS as much as the first, something leaks; if it
    # reuses what the first left in the allocator, RSS plateaus.
    for round_number in (1, 2):
        await _flood_round(app, base, headers, before, record, round_number)
    print(json.dumps(record))


@dataclass(frozen=True)
class Usage:
    rss_kib: int
    sockets: int
    tasks: int

    @classmethod
    def now(cls) -> Usage:
        return cls(rss_kib(), open_sockets(), len(asyncio.all_tasks()))


async def _flood_round(
    app: web.Application,
    base: str,
    headers: dict[str, str],
    before: Usage,
    record: dict[str, object],
    round_number: int,
) -> None:
    hub = app[MEDIA]
    clients = [
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))
        for address in ADDRESSES
    ]
    try:
        started = time.monotonic()
        # One greedy address first (it meets its own cap), then the rest at once (they
        # meet the venue output's cap and the server's).
        results = [await _flood(clients[0], base, headers, 0)]
        results += await asyncio.gather(
            *(_flood(client, base, headers, n) for n, client in enumerate(clients) if n)
        )
        elapsed = time.monotonic() - started
        outcomes = Counter(status for per_client in results for status, _, _ in per_client)
        peak = Usage.now()

        # The caps at their numbers: 200 in total, never more than 40 per address or 120
        # per venue output; the rest refused with the status and Retry-After of its cap.
        assert outcomes[201] == LIMITS.max_sessions
        assert outcomes[429] == ATTEMPTS_PER_ADDRESS - LIMITS.max_sessions_per_address
        assert outcomes[503] == len(ADDRESSES) * ATTEMPTS_PER_ADDRESS - sum(
            outcomes[s] for s in (201, 429)
        )
        per_address = [sum(1 for s, _, _ in per_client if s == 201) for per_client in results]
        assert per_address[0] == LIMITS.max_sessions_per_address
        assert max(per_address) <= LIMITS.max_sessions_per_address
        assert max(hub.audience().per_venue.values()) <= LIMITS.max_sessions_per_channel
        assert all(retry for per_client in results for s, _, retry in per_client if s != 201)
        assert hub.admitted == LIMITS.max_sessions

        # End them all, as their owners.
        for client, per_client in zip(clients, results, strict=True):
            for status, location, _ in per_client:
                if status == 201:
                    assert location is not None
                    async with client.delete(location) as r:
                        assert r.status == 200
    finally:
        for client in clients:
            await client.close()
    await _settle()
    # Every UDP socket a session bound is closed, and the server's side of the HTTP
    # connections too; no task outlives its session.
    await eventually(lambda: open_sockets() <= before.sockets, "the sockets to be closed")
    await eventually(lambda: len(asyncio.all_tasks()) <= before.tasks, "the tasks to end")
    if give_back_memory():
        # glibc: the hub hands freed pages back once the burst of ends goes quiet.
        await eventually(lambda: hub.heap_trims >= round_number, "the heap to be trimmed")
    assert hub.subscribers() == ()
    assert hub.admitted == 0
    assert hub.session_urls == 0
    after = Usage.now()
    record.update(
        {
            f"round{round_number}_created": outcomes[201],
            f"round{round_number}_refused_429": outcomes[429],
            f"round{round_number}_refused_503": outcomes[503],
            f"round{round_number}_setups_per_s": round(sum(outcomes.values()) / elapsed),
            f"round{round_number}_rss_kib_peak": peak.rss_kib,
            f"round{round_number}_rss_kib_after": after.rss_kib,
            f"round{round_number}_sockets_peak": peak.sockets,
            f"round{round_number}_sockets_after": after.sockets,
            f"round{round_number}_tasks_after": after.tasks,
        }
    )


async def _flood(
    client: aiohttp.ClientSession, base: str, headers: dict[str, str], offset: int
) -> list[tuple[int, str | None, str | None]]:
    results = []
    for n in range(ATTEMPTS_PER_ADDRESS):
        venue = VENUES[(n + offset) % 2]
        results.append(await _open(client, base, venue, headers))
    return results


async def test_the_heap_is_trimmed_once_after_a_burst_of_ends_goes_quiet() -> None:
    calls: list[float] = []

    def trim() -> bool:
        calls.append(time.monotonic())
        return True

    trimmer = HeapTrimmer(trim)
    for _ in range(MIN_ENDED - 1):
        trimmer.session_ended()
    started = time.monotonic()
    await eventually(lambda: trimmer._timer is None, "the quiet timer to fire")
    assert calls == []  # too few ends to be worth a walk over the heap
    for _ in range(MIN_ENDED * 3):
        trimmer.session_ended()
    await eventually(lambda: trimmer.trims == 1, "one trim after the burst")
    assert len(calls) == 1
    assert calls[0] - started >= QUIET_SECONDS
    trimmer.close()

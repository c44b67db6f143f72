"""Fault tests on a real server process with real aiortc peers: a publisher dropped and
back, and a primary replaced by its backup and back. Each measures, prints (one JSON
line) and bounds the time until pictures flow again at a venue output's viewer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from streaming.slate_picture import HEIGHT, WIDTH
from tests.helpers import eventually
from tests.integration.server_process import SECRET, ServerProcess, serve
from tests.media_peers import Subscriber, needs_network, publish, subscribe

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
VENUE = "jp"
PRIMARY_SIZE, BACKUP_SIZE = (320, 240), (640, 360)
SLATE_SIZE = (WIDTH, HEIGHT)
SLATE_WITHIN = 2.0  # the bound: slate within 2 s of source loss
BACKUP_WITHIN = 3.0  # failover to a backup within 3 s
BACK_WITHIN = 3.0  # a returning publisher on air again


def report(fault: str, **timings: float) -> None:
    print(json.dumps({"fault": fault, **{k: round(v, 3) for k, v in timings.items()}}))


async def seconds_until(predicate: Callable[[], bool], what: str, since: float) -> float:
    await eventually(predicate, what, within=15, interval=0.01)
    return time.monotonic() - since


def showing(viewer: Subscriber, size: tuple[int, int]) -> Callable[[], bool]:
    return lambda: viewer.last_size == size


def health_is(server: ServerProcess, state: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await server.channel(CHANNEL))["health"] == state

    return check


def on_air(server: ServerProcess, source: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        channel = await server.channel(CHANNEL)
        return (channel["health"], channel["source"]) == ("live", source)

    return check


async def close_all(peers: list[Any]) -> None:
    for peer in peers:
        await (peer.close() if isinstance(peer, Subscriber) else peer.pc.close())


async def test_publisher_dropped_shows_the_slate_then_the_channel_again(tmp_path: Path) -> None:
    async with serve(tmp_path / "data") as server:
        http, url = server.http, server.url
        peers: list[Any] = []
        try:
            viewer = await subscribe(http, f"{url}/whep/venue/{VENUE}", token=SECRET)
            peers.append(viewer)
            # Nothing routed: the venue's slate, at its own size.
            await seconds_until(showing(viewer, SLATE_SIZE), "the slate", time.monotonic())
            publisher = await publish(http, f"{url}/whip/{CHANNEL}", SECRET, 200)
            peers.append(publisher)
            await server.route(VENUE, CHANNEL)
            await eventually(showing(viewer, PRIMARY_SIZE), "the channel on the output")
            await eventually(health_is(server, "live"), "the channel to be reported live")

            publisher.stall()  # media stops, no goodbye
            dropped = time.monotonic()
            to_slate = await seconds_until(showing(viewer, SLATE_SIZE), "the slate", dropped)
            assert (await server.channel(CHANNEL))["health"] == "lost"
            await publisher.pc.close()  # gone for good; a new WHIP session comes back

            again = time.monotonic()
            returned = await publish(http, f"{url}/whip/{CHANNEL}", SECRET, 200)
            peers.append(returned)
            back = await seconds_until(showing(viewer, PRIMARY_SIZE), "the channel", again)
            report("publisher_dropped_and_back", slate_after_s=to_slate, back_after_s=back)
            assert to_slate <= SLATE_WITHIN
            assert back <= BACK_WITHIN
            frames = viewer.frames
            await eventually(lambda: viewer.frames > frames + 10, "pictures keep coming")
            channel = await server.channel(CHANNEL)
            assert (channel["health"], channel["source"], channel["lost_total"]) == (
                "live",
                "primary",
                1,
            )
            metrics = await server.metrics()
            assert f'venuebridge_media_source_lost_total{{channel="{CHANNEL}"}} 1.0' in metrics
            assert f'venuebridge_media_source_up{{channel="{CHANNEL}"}} 1.0' in metrics
        finally:
            await close_all(peers)


async def test_primary_replaced_by_its_backup_and_back(tmp_path: Path) -> None:
    async with serve(tmp_path / "data") as server:
        http, url = server.http, server.url
        peers: list[Any] = []
        try:
            primary = await publish(http, f"{url}/whip/{CHANNEL}", SECRET, 200, size=PRIMARY_SIZE)
            peers.append(primary)
            backup = await publish(
                http, f"{url}/whip/{CHANNEL}?backup=1", SECRET, 120, size=BACKUP_SIZE
            )
            peers.append(backup)
            await server.route(VENUE, CHANNEL)
            await eventually(health_is(server, "live"), "the channel to be reported live")
            viewer = await subscribe(http, f"{url}/whep/venue/{VENUE}", token=SECRET)
            watcher = await subscribe(http, f"{url}/whep/{CHANNEL}", token=SECRET)
            peers += [viewer, watcher]
            await eventually(showing(viewer, PRIMARY_SIZE), "the primary on the output")
            await eventually(showing(watcher, PRIMARY_SIZE), "the primary on the channel")

            async def backup_ready() -> bool:
                return (await server.channel(CHANNEL))["backup_ready"] is True

            await eventually(backup_ready, "the backup to be ready")

            primary.stall()
            dropped = time.monotonic()
            on_backup = await seconds_until(showing(viewer, BACKUP_SIZE), "the backup", dropped)
            await eventually(showing(watcher, BACKUP_SIZE), "the backup on the channel")
            await eventually(on_air(server, "backup"), "the backup to be reported on air")

            primary.resume()
            resumed = time.monotonic()
            back = await seconds_until(showing(viewer, PRIMARY_SIZE), "the primary", resumed)
            await eventually(showing(watcher, PRIMARY_SIZE), "the primary on the channel")
            report("primary_to_backup_and_back", backup_after_s=on_backup, back_after_s=back)
            assert on_backup <= BACKUP_WITHIN
            assert back <= BACK_WITHIN
            await eventually(on_air(server, "primary"), "the primary to be reported on air")
        finally:
            await close_all(peers)

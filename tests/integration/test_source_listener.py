"""Source events reach the control plane's adapter, and "confirm" failover waits for the
director: real aiortc peers against the app in this process."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from config import Event, Settings
from config.settings import FailoverSettings
from streaming.http_rules import session_id_of
from streaming.ports import SourceRole, SourceState
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import Subscriber, needs_network, publish, subscribe
from web.adapters import SwitchesToRouting
from web.app import create_app

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"


class FakeRouting:
    """Records what ``RoutingService.source_changed`` would be told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, bool]] = []

    async def source_changed(
        self,
        channel: str,
        state: SourceState,
        source: SourceRole | None,
        backup_ready: bool,
        at: datetime,
    ) -> None:
        assert at.tzinfo is not None
        self.calls.append((channel, state, source, backup_ready))


@pytest.fixture
async def confirming_server(
    media_settings: Settings, reference_event: Event
) -> AsyncIterator[MediaServer]:
    settings = dataclasses.replace(media_settings, failover=FailoverSettings(mode="confirm"))
    server = TestServer(create_app(settings, reference_event), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield MediaServer(str(server.make_url("")).rstrip("/"), server.app, http)
    finally:
        await server.close()


async def test_source_events_reach_routing_and_confirm_mode_waits_for_the_director(
    confirming_server: MediaServer,
) -> None:
    server, hub = confirming_server, confirming_server.hub
    routing = FakeRouting()
    adapter = SwitchesToRouting(routing)
    hub.add_source_listener(adapter)
    peers: list[Any] = []
    try:
        url = f"{server.url}/whip/{CHANNEL}"
        primary = await publish(server.http, url, PRODUCER_SECRET, 200, size=(320, 240))
        backup = await publish(server.http, url + "?backup=1", PRODUCER_SECRET, 90, size=(640, 360))
        peers += [primary, backup]
        await eventually(lambda: hub.channel(CHANNEL).backup_ready, "a ready backup")
        watcher = await subscribe(
            server.http, f"{server.url}/whep/{CHANNEL}", token=PRODUCER_SECRET
        )
        peers.append(watcher)
        await eventually(lambda: watcher.last_size == (320, 240), "the primary")

        primary.stall()
        await eventually(lambda: watcher.last_size == (640, 360), "the backup after failover")
        primary.resume()

        def primary_packets() -> int:
            session = next(
                p
                for p in hub.publishers()
                if p.id == session_id_of(primary.location.rsplit("/", 1)[1])
            )
            return sum(t.packets for t in session.tracks)

        resumed_at = primary_packets()
        await eventually(lambda: primary_packets() > resumed_at + 100, "the primary's media")
        assert hub.channel(CHANNEL).source == "backup"  # waits for the director
        assert watcher.last_size == (640, 360)
        hub.use_source(CHANNEL, "primary")
        await eventually(lambda: watcher.last_size == (320, 240), "the primary, confirmed")
        await eventually(lambda: hub.channel(CHANNEL).source == "primary", "primary reported")
        await adapter.aclose()
        assert (CHANNEL, "live", "primary", True) in routing.calls
        assert (CHANNEL, "lost", "primary", True) in routing.calls
        assert (CHANNEL, "live", "backup", True) in routing.calls
        assert routing.calls[-1] == (CHANNEL, "live", "primary", True)
    finally:
        for peer in peers:
            await (peer.close() if isinstance(peer, Subscriber) else peer.pc.close())

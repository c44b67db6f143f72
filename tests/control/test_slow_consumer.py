"""A websocket that stops reading is closed as too slow; the room's other sockets get
every frame, in order, and the server never waits for the slow one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings, SettingsError, load_settings
from config.setting_sections import ControlLimits
from config.settings import replace
from signaling.protocol.server import Frame
from tests.control.raw_ws import RawWebSocket
from tests.control.support import Node, WsClient
from tests.helpers import eventually
from web.app import create_app, hub_options_for
from web.keys import HUB
from web.ws import CLOSE_TOO_SLOW

ROOM = "overseas-talents-summit"
BIG = 256 * 1024  # a frame this size; a few megabytes of them pass any kernel buffer


def test_the_outbox_limit_and_send_timeout_are_settings() -> None:
    options = hub_options_for(
        Settings(limits=ControlLimits(ws_outbox_kib=64, ws_send_timeout_seconds=2))
    )
    assert options.max_backlog == 64 * 1024
    assert options.send_timeout == 2.0
    assert hub_options_for(Settings()).max_backlog == 1024 * 1024
    loaded = load_settings(environ={"VENUEBRIDGE_LIMITS_WS_OUTBOX_KIB": "256"})
    assert hub_options_for(loaded).max_backlog == 256 * 1024
    with pytest.raises(SettingsError, match=r"limits\.ws_send_timeout_seconds"):
        load_settings(environ={"VENUEBRIDGE_LIMITS_WS_SEND_TIMEOUT_SECONDS": "0"})


def _has_read(client: WsClient, count: int) -> Callable[[], bool]:
    return lambda: len(client.of_type("bench")) == count


@pytest.fixture
async def small_outbox_node(settings: Settings, reference_event: Event) -> AsyncIterator[Node]:
    limits = replace(settings, limits=ControlLimits(ws_outbox_kib=64, ws_send_timeout_seconds=30))
    app = create_app(limits, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as http:
        yield Node(http)


async def test_a_socket_that_stops_reading_is_closed_as_too_slow(
    small_outbox_node: Node,
) -> None:
    node = small_outbox_node
    hub = node.app[HUB]
    assert hub.options.max_backlog == 64 * 1024
    healthy = await node.joined(ROOM)
    stuck = await RawWebSocket.connect("127.0.0.1", node.http.port)
    stuck.send_text(json.dumps({"type": "join", "room": ROOM, "ref": "j"}))
    await eventually(lambda: len(hub.clients.members(ROOM)) == 2, "both sockets in the room")

    count = 40
    for n in range(count):
        frame = Frame(json.dumps({"type": "bench", "n": n, "pad": "x" * BIG}))
        # What a fan-out does: one synchronous write per member, never an await.
        for member in hub.clients.members(ROOM):
            hub.clients.send(member, frame)
        # The healthy reader keeps up (it shares this event loop, so let it read).
        await eventually(_has_read(healthy, n + 1), f"frame {n} read")
    assert hub.stats.dropped_slow == 1
    assert [c.dropped for c in hub.clients.everyone()].count(True) == 1
    assert [f["n"] for f in healthy.of_type("bench")] == list(range(count))

    # The slow socket, once it reads again, finds what was queued and then why it was closed.
    seen: list[int] = []
    while True:
        got = await stuck.receive()
        if got.opcode == 0x8:
            assert got.close_code == CLOSE_TOO_SLOW
            break
        message = json.loads(got.payload)
        if message["type"] == "bench":
            seen.append(message["n"])
    assert seen == list(range(len(seen)))
    assert 0 < len(seen) < count
    stuck.close()


async def test_a_peer_that_never_reads_again_is_cut_off_after_one_more_send_timeout(
    settings: Settings, reference_event: Event
) -> None:
    limits = ControlLimits(ws_outbox_kib=64, ws_send_timeout_seconds=1)
    app = create_app(replace(settings, limits=limits), reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as http:
        hub = app[HUB]
        assert http.port is not None
        stuck = await RawWebSocket.connect("127.0.0.1", http.port)
        await eventually(lambda: len(hub.clients) == 1, "the socket connected")
        (client,) = hub.clients.everyone()
        frame = Frame(json.dumps({"type": "bench", "pad": "x" * BIG}))
        while not client.dropped:
            hub.clients.send(client, frame)
        assert client.drop_reason == "too slow: the outbox is full"
        # Its close frame waits behind megabytes nobody reads: the socket is aborted.
        await eventually(lambda: len(hub.clients) == 0, "the stuck socket gone", within=5)
        stuck.close()

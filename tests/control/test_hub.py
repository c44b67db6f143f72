"""The hub without sockets: fan-out never waits for a slow client; shutdown owns every task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config import Event
from signaling.auth import Grant, Role
from signaling.bus.local import LocalBus
from signaling.clients import Client
from signaling.hub import Hub, HubOptions
from signaling.protocol import Frame
from signaling.protocol import messages as m
from signaling.qa import events as ev
from signaling.qa.limits import Limits, Rate
from signaling.store.sqlite import SqliteEventStore
from tests.helpers import eventually

ROOM = "overseas-talents-summit"
LOTS = Rate(burst=10_000, per_minute=10_000)


class FakeSocket:
    """Where a client's frames go in these tests; ``stuck`` leaves them in its buffer."""

    def __init__(self, stuck: bool = False) -> None:
        self.frames: list[bytes] = []
        self.buffered = 0
        self.stuck = stuck

    def write(self, data: bytes) -> None:
        self.frames.append(data)
        if self.stuck:
            self.buffered += len(data)

    def attach(self, client: Client) -> Client:
        client.write = self.write
        client.backlog = lambda: self.buffered
        return client


async def test_a_slow_client_is_dropped_and_the_others_still_get_everything(
    tmp_path: Path, reference_event: Event
) -> None:
    store = await SqliteEventStore.open(tmp_path / "s.sqlite3")
    hub = Hub(reference_event, store, LocalBus(), HubOptions(limits=Limits(LOTS, LOTS, LOTS, LOTS)))
    await hub.start()
    try:
        sockets = {"mod": FakeSocket(), "slow": FakeSocket(stuck=True), "fast": FakeSocket()}
        moderator = sockets["mod"].attach(
            Client(Grant("mod", Role.MODERATOR, sessions=(ROOM,)), "a")
        )
        slow = sockets["slow"].attach(Client(Grant("slow", Role.VIEWER), "b", max_backlog=2000))
        fast = sockets["fast"].attach(Client(Grant("fast", Role.VIEWER), "c", max_backlog=2000))
        for client in (moderator, slow, fast):
            hub.clients.connect(client)
            await hub.handle(client, m.Join(room=ROOM))
        await hub.handle(moderator, m.SetMode(room=ROOM, mode="open"))
        for i in range(20):
            await hub.handle(moderator, m.Ask(room=ROOM, text=f"question {i}"))
        assert slow.dropped
        assert slow.drop_reason == "too slow: the outbox is full"
        assert hub.stats.dropped_slow == 1
        assert not fast.dropped
        assert sum(b'"type":"question"' in f for f in sockets["fast"].frames) == 20
        assert sum(b'"type":"question"' in f for f in sockets["slow"].frames) < 20
    finally:
        await hub.stop()
        await store.aclose()


async def test_a_client_whose_backlog_never_empties_is_dropped(
    tmp_path: Path, reference_event: Event
) -> None:
    store = await SqliteEventStore.open(tmp_path / "s.sqlite3")
    hub = Hub(reference_event, store, LocalBus(), HubOptions(send_timeout=5.0))
    stuck, fine = FakeSocket(stuck=True), FakeSocket()
    lagging = stuck.attach(Client(Grant("lag", Role.VIEWER), "a"))
    healthy = fine.attach(Client(Grant("ok", Role.VIEWER), "b"))
    for client in (lagging, healthy):
        hub.clients.connect(client)
        hub.clients.send(client, Frame("{}"))
    hub.clients.sweep(now=100.0)
    hub.clients.sweep(now=104.0)
    assert not lagging.dropped
    hub.clients.sweep(now=105.5)
    assert lagging.dropped
    assert lagging.drop_reason == "too slow: send timed out"
    assert not healthy.dropped
    await store.aclose()


async def test_stop_awaits_its_tasks(tmp_path: Path, reference_event: Event) -> None:
    store = await SqliteEventStore.open(tmp_path / "s.sqlite3")
    hub = Hub(reference_event, store, LocalBus())
    await hub.start()
    tasks = {t for t in asyncio.all_tasks() if t.get_name().startswith("hub-")}
    assert len(tasks) == 3
    await hub.stop()
    await store.aclose()
    assert all(t.done() for t in tasks)


class FlakyBus:
    """A local bus whose first subscription breaks when told to (a Redis restart)."""

    def __init__(self) -> None:
        self.inner = LocalBus()
        self.subscriptions = 0
        self.breaks = asyncio.Event()

    async def publish(self, message: str) -> None:
        await self.inner.publish(message)

    async def subscribe(self) -> AsyncIterator[str]:
        self.subscriptions += 1
        if self.subscriptions == 1:
            return self._broken()
        return await self.inner.subscribe()

    async def _broken(self) -> AsyncIterator[str]:
        await self.breaks.wait()
        raise ConnectionError("redis went away")
        yield ""  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_lost_bus_is_subscribed_again_and_rooms_catch_up(
    tmp_path: Path, reference_event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    store = await SqliteEventStore.open(tmp_path / "s.sqlite3")
    bus = FlakyBus()
    hub = Hub(reference_event, store, bus, HubOptions(bus_retry=0.01))
    await hub.start()
    try:
        socket_ = FakeSocket()
        viewer = socket_.attach(Client(Grant("v", Role.VIEWER), "a"))
        hub.clients.connect(viewer)
        await hub.handle(viewer, m.Join(room=ROOM))
        # Another node stores an event while this node's subscription is down.
        other = ev.ModeSet(at=1.0, by="elsewhere", mode="open")
        assert await store.append(ROOM, 0, ev.dump_event(other)) == 1
        bus.breaks.set()
        await eventually(lambda: bus.subscriptions == 2, "a second subscription")
        await eventually(
            lambda: any(b'"mode":"open"' in f for f in socket_.frames), "the missed event"
        )
        assert "bus subscription lost" in caplog.text
    finally:
        await hub.stop()
        await store.aclose()

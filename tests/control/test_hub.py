"""The hub without sockets: fan-out never waits for a slow client; shutdown owns every task."""

from __future__ import annotations

import asyncio
from pathlib import Path

from config import Event
from signaling.auth import Grant, Role
from signaling.bus.local import LocalBus
from signaling.clients import Client
from signaling.hub import Hub, HubOptions
from signaling.protocol import messages as m
from signaling.qa.limits import Limits, Rate
from signaling.store.sqlite import SqliteEventStore

ROOM = "overseas-talents-summit"
LOTS = Rate(burst=10_000, per_minute=10_000)


async def test_a_slow_client_is_dropped_and_the_others_still_get_everything(
    tmp_path: Path, reference_event: Event
) -> None:
    store = await SqliteEventStore.open(tmp_path / "s.sqlite3")
    hub = Hub(
        reference_event,
        store,
        LocalBus(),
        HubOptions(outbox_size=8, limits=Limits(LOTS, LOTS, LOTS, LOTS)),
    )
    await hub.start()
    try:
        moderator = Client(Grant("mod", Role.MODERATOR, sessions=(ROOM,)), "a", outbox_size=8)
        slow = Client(Grant("slow", Role.VIEWER), "b", outbox_size=8)
        fast = Client(Grant("fast", Role.VIEWER), "c", outbox_size=1000)
        for client in (moderator, slow, fast):
            hub.connect(client)
            await hub.handle(client, m.Join(room=ROOM))
        await hub.handle(moderator, m.SetMode(room=ROOM, mode="open"))
        received = []
        # The moderator's outbox is drained as a writer would; nobody drains ``slow``.
        for i in range(20):
            ack = await hub.handle(moderator, m.Ask(room=ROOM, text=f"question {i}"))
            assert ack is not None
            while not moderator.outbox.empty():
                received.append(moderator.outbox.get_nowait())
        assert slow.dropped.is_set()
        assert slow.drop_reason == "too slow: the outbox is full"
        assert hub.stats.dropped_slow >= 1
        assert not fast.dropped.is_set()
        fast_frames = [fast.outbox.get_nowait() for _ in range(fast.outbox.qsize())]
        assert sum('"type":"question"' in f for f in fast_frames) == 20
    finally:
        await hub.stop()
        await store.aclose()


async def test_stop_awaits_its_tasks(tmp_path: Path, reference_event: Event) -> None:
    store = await SqliteEventStore.open(tmp_path / "s.sqlite3")
    hub = Hub(reference_event, store, LocalBus())
    await hub.start()
    tasks = {t for t in asyncio.all_tasks() if t.get_name().startswith("hub-")}
    assert len(tasks) == 2
    await hub.stop()
    await store.aclose()
    assert all(t.done() for t in tasks)

"""The store and bus contract: SQLite + in-process bus and Redis pass the same tests."""

from __future__ import annotations

import asyncio

from signaling.auth import Role
from signaling.auth.revocation import RevocationLog, revoke_role, revoke_token
from tests.control.support import Backend


async def test_append_numbers_events_from_one(backend: Backend) -> None:
    store = backend.store
    assert await store.last_seq("room-a") == 0
    assert await store.append("room-a", 0, '{"n":1}') == 1
    assert await store.append("room-a", 1, '{"n":2}') == 2
    assert await store.last_seq("room-a") == 2
    assert await store.read("room-a") == [(1, '{"n":1}'), (2, '{"n":2}')]
    assert await store.read("room-a", after=1) == [(2, '{"n":2}')]
    assert await store.read("room-a", after=2) == []


async def test_append_is_refused_when_the_room_moved_on(backend: Backend) -> None:
    store = backend.store
    assert await store.append("room-a", 0, "first") == 1
    assert await store.append("room-a", 0, "lost race") is None
    assert await store.append("room-a", 5, "from the future") is None
    assert await store.read("room-a") == [(1, "first")]


async def test_concurrent_appends_at_the_same_number_only_one_wins(backend: Backend) -> None:
    results = await asyncio.gather(*(backend.store.append("r", 0, f"e{i}") for i in range(10)))
    assert sorted(r for r in results if r is not None) == [1]
    assert len(await backend.store.read("r")) == 1


async def test_rooms_are_independent(backend: Backend) -> None:
    await backend.store.append("a", 0, "in a")
    assert await backend.store.read("b") == []
    assert await backend.store.append("b", 0, "in b") == 1


async def test_unicode_and_markup_are_kept_as_data(backend: Backend) -> None:
    text = '{"text":"<script>alert(1)</script> 你好 \\u0000"}'
    await backend.store.append("r", 0, text)
    assert await backend.store.read("r") == [(1, text)]


async def test_events_survive_reopening_the_store(backend: Backend) -> None:
    await backend.store.append("r", 0, "kept")
    again = await backend.reopen()
    try:
        assert await again.read("r") == [(1, "kept")]
    finally:
        if backend.name == "sqlite":
            await again.aclose()


async def test_bus_delivers_to_every_subscriber_in_order(backend: Backend) -> None:
    bus_one, bus_two = backend.new_bus(), backend.new_bus()
    first = await bus_one.subscribe()
    second = await bus_two.subscribe()
    for i in range(20):
        await bus_one.publish(f"m{i}")
    expected = [f"m{i}" for i in range(20)]

    async def take(stream: object, n: int) -> list[str]:
        got: list[str] = []
        async for item in stream:  # type: ignore[attr-defined]
            got.append(item)
            if len(got) == n:
                break
        return got

    assert await asyncio.wait_for(take(first, 20), 10) == expected
    assert await asyncio.wait_for(take(second, 20), 10) == expected


async def test_closing_the_bus_ends_its_subscriptions(backend: Backend) -> None:
    bus = backend.new_bus()
    stream = await bus.subscribe()
    await bus.aclose()

    async def drain() -> list[str]:
        return [item async for item in stream]

    assert await asyncio.wait_for(drain(), 10) == []


async def test_the_revocation_list_is_kept_in_order_and_read_once(backend: Backend) -> None:
    writer, reader = RevocationLog(backend.store, "ev"), RevocationLog(backend.store, "ev")
    first, second = revoke_token("jti-1", "admin", 10.0), revoke_role(Role.VIEWER, "admin", 11.0)
    await writer.add(first)
    await writer.add(second)
    assert await reader.read_new() == [first, second]
    assert await reader.read_new() == []
    third = revoke_token("jti-2", "cli", 12.0)
    await writer.add(third)
    assert await reader.read_new() == [third]
    assert await RevocationLog(backend.store, "other-event").read_new() == []
    again = await backend.reopen()
    try:
        assert await RevocationLog(again, "ev").read_new() == [first, second, third]
    finally:
        if backend.name == "sqlite":
            await again.aclose()


async def test_a_value_is_replaced_and_survives_reopening(backend: Backend) -> None:
    store = backend.store
    assert await store.get_value("routing") is None
    await store.put_value("routing", '{"v":1}')
    await store.put_value("routing", '{"v":2} 你好')
    assert await store.get_value("routing") == '{"v":2} 你好'
    assert await store.get_value("other") is None
    again = await backend.reopen()
    try:
        assert await again.get_value("routing") == '{"v":2} 你好'
    finally:
        if backend.name == "sqlite":
            await again.aclose()


async def test_recent_lists_keep_only_their_last_items(backend: Backend) -> None:
    store = backend.store
    assert await store.recent("talkback:jp") == []
    for i in range(7):
        await store.push_recent("talkback:jp", f"line {i}", keep=5)
    await store.push_recent("talkback:us", "elsewhere", keep=5)
    assert await store.recent("talkback:jp") == [f"line {i}" for i in range(2, 7)]
    assert await store.recent("talkback:us") == ["elsewhere"]
    again = await backend.reopen()
    try:
        assert await again.recent("talkback:jp") == [f"line {i}" for i in range(2, 7)]
    finally:
        if backend.name == "sqlite":
            await again.aclose()

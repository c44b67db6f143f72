"""Rooms kept in memory, durable in the store, serialised per room across nodes.

A command is decided against the room's state, appended to the store only if nobody
appended since (else: catch up and decide again), then applied and announced. Events
from other nodes arrive through ``receive`` and are applied in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import NamedTuple, Protocol

from signaling.errors import SignalingError
from signaling.qa.events import RoomEvent, dump_event, load_event
from signaling.qa.room import Room
from signaling.store import EventStore

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


class RoomListener(Protocol):
    def room_changed(self, room: Room, seq: int, event: RoomEvent, touched: set[str]) -> None:
        """Called after ``event`` (number ``seq``) was applied to ``room``."""


class Committed(NamedTuple):
    """One stored event: its number, the event itself and the JSON text that was stored."""

    seq: int
    event: RoomEvent
    body: str


class RoomService:
    """The Q&A rooms of one node."""

    def __init__(self, store: EventStore, listener: RoomListener) -> None:
        self._store = store
        self._listener = listener
        self._rooms: dict[str, Room] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    def loaded(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    async def room(self, room_id: str) -> Room:
        """The room, loaded from the store and caught up with it."""
        async with self._lock(room_id):
            return await self._current(room_id)

    async def _current(self, room_id: str) -> Room:
        room = self._rooms.get(room_id)
        if room is None:
            room = Room(room_id)
            self._rooms[room_id] = room
        await self._catch_up(room)
        return room

    async def _catch_up(self, room: Room) -> None:
        for seq, body in await self._store.read(room.id, after=room.seq):
            if seq == room.seq + 1:
                self._apply(room, seq, load_event(body))

    def _apply(self, room: Room, seq: int, event: RoomEvent) -> None:
        touched = room.apply(event, seq)
        self._listener.room_changed(room, seq, event, touched)

    async def commit(self, room_id: str, decide: Callable[[Room], RoomEvent]) -> Committed:
        """Decide and store one event; return it with its number and its stored text."""
        async with self._lock(room_id):
            room = self._rooms.get(room_id) or await self._current(room_id)
            for _ in range(MAX_ATTEMPTS):
                event = decide(room)
                body = dump_event(event)
                seq = await self._store.append(room_id, room.seq, body)
                if seq is not None:
                    if seq == room.seq + 1:
                        self._apply(room, seq, event)
                    else:  # A bus delivery raced us; the store has the truth.
                        await self._catch_up(room)
                    return Committed(seq, event, body)
                await self._catch_up(room)
        raise SignalingError("the room is busy; try again", code="conflict")

    async def catch_up_all(self) -> None:
        """Bring every loaded room up to date with the store (after the bus was lost)."""
        for room_id in list(self._rooms):
            await self.room(room_id)

    async def receive(self, room_id: str, seq: int, body: str) -> None:
        """An event another node (or this one) announced."""
        room = self._rooms.get(room_id)
        if room is None or seq <= room.seq:
            return  # Not loaded here (it will load from the store), or already applied.
        if seq == room.seq + 1 and not self._lock(room_id).locked():
            self._apply(room, seq, load_event(body))
            return
        async with self._lock(room_id):
            await self._catch_up(room)

    async def events_since(self, room_id: str, after: int) -> list[RoomEvent]:
        """The stored events after ``after``, for a reconnecting client's replay."""
        return [load_event(body) for _, body in await self._store.read(room_id, after=after)]

"""A connected page: who it is, what it watches, and its bounded outbox."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

from signaling.auth.grants import Grant

_ids = itertools.count(1)


@dataclass(eq=False, slots=True)
class Client:
    """One websocket. Fan-out calls ``send`` and never waits: a full outbox drops the client.

    The websocket's writer drains ``outbox``; when ``dropped`` is set it closes the socket.
    """

    grant: Grant
    address: str
    outbox_size: int = 256
    id: int = field(default_factory=lambda: next(_ids))
    rooms: set[str] = field(default_factory=set)
    channel: str | None = None
    venue: str | None = None
    watches_presence: bool = False
    outbox: asyncio.Queue[str] = field(init=False)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    drop_reason: str = ""

    def __post_init__(self) -> None:
        self.outbox = asyncio.Queue(maxsize=self.outbox_size)

    @property
    def identity(self) -> str:
        return self.grant.identity

    def send(self, frame: str) -> bool:
        """Queue ``frame``; a client too slow to keep up is marked dropped instead."""
        if self.dropped.is_set():
            return False
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.drop("too slow: the outbox is full")
            return False
        return True

    def drop(self, reason: str) -> None:
        """Mark the client for disconnection; its writer closes the socket."""
        if not self.dropped.is_set():
            self.drop_reason = reason
            self.dropped.set()
            # Wake a writer idle on an empty outbox (a full one wakes up by itself).
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait("")

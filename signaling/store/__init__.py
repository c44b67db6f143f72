"""The event store: the ordered, durable log of each Q&A room.

Besides the room logs it keeps small pieces of state that must survive a restart: a
document per key (the routing state) and short capped lists (talkback history).

One narrow interface, two backends (SQLite, Redis) passing the same contract tests.
Appends are conditional on the room's last event number, so nodes sharing one store
serialise their decisions per room (optimistic concurrency): a vote counts once even
when two nodes take it at the same moment.
"""

from __future__ import annotations

from typing import Protocol


class EventStore(Protocol):
    async def append(self, room: str, expected_seq: int, event: str) -> int | None:
        """Store ``event`` as number ``expected_seq + 1``; None if the room moved on."""
        ...

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]:
        """Events of ``room`` numbered above ``after``, in order."""
        ...

    async def last_seq(self, room: str) -> int:
        """The number of the room's last event (0 when it has none)."""
        ...

    async def put_value(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` (one document of state, replaced as a whole)."""
        ...

    async def get_value(self, key: str) -> str | None:
        """The document kept under ``key``, or None."""
        ...

    async def push_recent(self, key: str, item: str, keep: int) -> None:
        """Add ``item`` to the list ``key``, keeping only its last ``keep`` items."""
        ...

    async def recent(self, key: str) -> list[str]:
        """The items of the list ``key``, oldest first."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...

"""When each invite was last used, written cheaply.

Two moments per token: ``joined`` (its link was opened at ``/join``) and ``seen`` (the
token was presented on any request, WHIP/WHEP call or websocket). Noting a use is a
dict write on the request path; a flusher writes what was noted once per ``interval``,
one value per token and kind, so a busy token costs one store write per interval per
node however many requests it makes. The page flushes before it reads, so this node's
uses show at once; other nodes' within one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from signaling.auth.grants import Grant

logger = logging.getLogger(__name__)


class ValueStore(Protocol):
    """The part of the event store last uses need: one small document per key."""

    async def put_value(self, key: str, value: str) -> None: ...

    async def get_value(self, key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class LastUse:
    """The last time a token's link was opened and the last time the token was seen."""

    joined: float | None = None
    seen: float | None = None


class UseRecorder:
    """Notes uses in memory and writes them at most once per ``interval`` per token."""

    def __init__(
        self,
        values: ValueStore,
        event_id: str,
        interval: float,
        max_pending: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._values = values
        self._prefix = f"invite-use:{event_id}"
        self._interval = interval
        self._max_pending = max_pending
        self._clock = clock
        self._pending: dict[tuple[str, str], float] = {}
        self.dropped = 0
        self._reported = 0
        self._task: asyncio.Task[None] | None = None

    def note(self, grant: Grant, kind: str = "seen") -> None:
        """Remember that ``grant``'s token was used now (anonymous visitors are not invites)."""
        if grant.anonymous or grant.token_id is None:
            return
        key = (grant.token_id, kind)
        if key not in self._pending and len(self._pending) >= self._max_pending:
            # Bounded: a flood of distinct tokens between two flushes cannot grow this.
            self.dropped += 1
            return
        self._pending[key] = self._clock()

    async def flush(self) -> int:
        """Write what was noted since the last flush; returns how many values were written."""
        pending, self._pending = self._pending, {}
        if self.dropped > self._reported:
            logger.warning(
                "%d invite uses not recorded: more tokens used within one interval than "
                "the event may have invites (invites.max_per_event)",
                self.dropped - self._reported,
            )
            self._reported = self.dropped
        for (token_id, kind), moment in pending.items():
            await self._values.put_value(self._key(token_id, kind), repr(moment))
        return len(pending)

    async def last_uses(self, token_ids: Iterable[str]) -> dict[str, LastUse]:
        """The last uses of ``token_ids`` as the store has them (written by any node)."""
        found: dict[str, LastUse] = {}
        for token_id in token_ids:
            joined = await self._read(token_id, "joined")
            found[token_id] = LastUse(joined=joined, seen=await self._read(token_id, "seen"))
        return found

    async def _read(self, token_id: str, kind: str) -> float | None:
        value = await self._values.get_value(self._key(token_id, kind))
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def _key(self, token_id: str, kind: str) -> str:
        return f"{self._prefix}:{token_id}:{kind}"

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="invite-uses")

    async def stop(self) -> None:
        """Stop the flusher and write what is still pending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception as error:
            logger.warning("could not write the last invite uses: %s", error)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception as error:  # a store hiccup loses one round of uses, not the loop
                logger.warning("could not write invite uses: %s", error)

"""A connected page: who it is, what it watches, and where its frames go.

Fan-out calls ``send`` and never waits. The edge (web/ws.py) gives each client a
``write`` that hands a whole websocket frame (``Frame.wire``, built once for every
client it goes to) to the socket's transport at once, and a ``backlog`` that
says how many bytes that transport still holds for the peer: that buffer is the client's
bounded outbox. A client whose backlog passes ``max_backlog`` bytes, or stays non-empty
for longer than the send timeout (see ``ClientRegistry.sweep``), is dropped instead of
slowing the others.

Why not a queue and a writer task per client: with thousands of clients, waking one task
per client per event cost more than everything else (see tests/bench/qa_fanout.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from signaling.auth.grants import Grant
from signaling.protocol.server import Frame

_ids = itertools.count(1)


def _discard(data: bytes) -> None:
    """The default ``write``: a client not yet attached to a socket."""


def _empty() -> int:
    return 0


def _ignore(reason: str) -> None:
    """The default ``on_drop``."""


@dataclass(eq=False, slots=True)
class Client:
    """One websocket page."""

    grant: Grant
    address: str
    write: Callable[[bytes], None] = _discard
    backlog: Callable[[], int] = _empty
    on_drop: Callable[[str], None] = _ignore
    max_backlog: int = 1024 * 1024
    id: int = field(default_factory=lambda: next(_ids))
    rooms: set[str] = field(default_factory=set)
    channel: str | None = None
    venue: str | None = None
    watches_presence: bool = False
    watches_routing: bool = False
    dropped: bool = False
    drop_reason: str = ""
    backlog_since: float | None = None

    @property
    def identity(self) -> str:
        return self.grant.identity

    def send(self, frame: Frame) -> bool:
        """Hand ``frame`` to the socket; a client too far behind is dropped instead."""
        return not self.dropped and self.send_wire(frame.wire)

    def send_wire(self, wire: bytes) -> bool:
        """``send`` for a frame already encoded (``Frame.wire``); False if it dropped."""
        if self.backlog() > self.max_backlog:
            self.drop("too slow: the outbox is full")
            return False
        self.write(wire)
        return True

    def drop(self, reason: str) -> None:
        """Disconnect the client (once); the edge closes the socket."""
        if not self.dropped:
            self.dropped = True
            self.drop_reason = reason
            self.on_drop(reason)

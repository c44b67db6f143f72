"""Guards in front of aiohttp's protocol: a connection cap and a request-head deadline.

aiohttp waits for a request head as long as bytes keep trickling in, and accepts every
connection the kernel hands it, so a slowloris client could hold every socket and file
descriptor the process has. ``GuardedConnection`` wraps each aiohttp ``RequestHandler``:
beyond ``ConnectionBudget.limit`` open connections a newcomer gets a short 503 and is
closed, and a connection whose first request head has not ended (a blank line) within the
header timeout is dropped. Later requests on a kept-alive connection are held to aiohttp's
own ``keepalive_timeout``, which also closes a connection whose next head is incomplete.

``AcceptErrorLog`` keeps the event loop from logging every failed ``accept()`` when the
process is out of file descriptors (asyncio logs each attempt, with a traceback).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

HEAD_END = b"\r\n\r\n"
# Sent to a connection over the cap: a plain answer a browser or a proxy understands.
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Retry-After: 5\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 34\r\n"
    b"Connection: close\r\n\r\n"
    b"Too many connections; retry soon.\n"
)
ACCEPT_ERROR_MESSAGE = "socket.accept() out of system resource"


class ConnectionBudget:
    """How many connections are open, against a cap; counts what it refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.refused = 0
        self.timed_out = 0

    def try_open(self) -> bool:
        """Take a slot, or count a refusal when all are taken."""
        if self.open >= self.limit:
            self.refused += 1
            return False
        self.open += 1
        return True

    def close(self) -> None:
        """Give a slot back."""
        self.open -= 1


class GuardedConnection(asyncio.Protocol):
    """One connection: counted, given a head deadline, then handed to ``inner``."""

    def __init__(
        self,
        inner: asyncio.Protocol,
        budget: ConnectionBudget,
        header_timeout: float,
    ) -> None:
        self._inner = inner
        self._budget = budget
        self._header_timeout = header_timeout
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._head_tail = b""
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self._budget.try_open():
            transport.write(REFUSAL)
            transport.close()
            return
        self._admitted = True
        self._transport = transport
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._header_timeout, self._head_too_slow)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        if self._deadline is not None:
            # The head ends at the first blank line; it may straddle two reads.
            seen = self._head_tail + data
            if HEAD_END in seen:
                self._deadline.cancel()
                self._deadline = None
                self._head_tail = b""
            else:
                self._head_tail = seen[-(len(HEAD_END) - 1) :]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._budget.close()
        self._inner.connection_lost(exc)

    def _head_too_slow(self) -> None:
        self._deadline = None
        self._budget.timed_out += 1
        if self._transport is not None:
            self._transport.abort()


def guarded_factory(
    inner: Callable[[], asyncio.Protocol], budget: ConnectionBudget, header_timeout: float
) -> Callable[[], GuardedConnection]:
    """A protocol factory for ``loop.create_server`` that guards ``inner``'s protocols."""

    def make() -> GuardedConnection:
        return GuardedConnection(inner(), budget, header_timeout)

    return make


class AcceptErrorLog:
    """An event-loop exception handler that logs failed accepts once per interval.

    Everything else goes to the handler that was there before (asyncio's default).
    """

    def __init__(
        self,
        interval: float,
        previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._previous = previous
        self._clock = clock
        self._last_logged: float | None = None
        self.suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_ERROR_MESSAGE:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = self._clock()
        if self._last_logged is not None and now - self._last_logged < self.interval:
            self.suppressed += 1
            return
        self._last_logged = now
        logger.error(
            "cannot accept connections: %s (%d more such errors since the last report); "
            "raise the file limit or lower http_max_connections",
            context.get("exception"),
            self.suppressed,
        )
        self.suppressed = 0


def log_accept_errors_once_per(interval: float, loop: asyncio.AbstractEventLoop) -> None:
    """Install ``AcceptErrorLog`` on ``loop`` (once; a second call keeps the first)."""
    current = loop.get_exception_handler()
    if isinstance(current, AcceptErrorLog):
        return
    loop.set_exception_handler(AcceptErrorLog(interval, current))

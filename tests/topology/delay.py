"""One-way delay injected in a node process (this kernel has no netem).

``install(seconds, peers)`` replaces ``socket.socket`` with a subclass whose ``sendto``
holds datagrams addressed to ``peers`` for ``seconds`` before sending them, in order,
from the event loop (``loop.call_at``). It must run before the server creates its
sockets: every datagram path then goes through it, including the media writer that
calls the raw socket's ``sendto`` directly (``SrtpSink``). TCP (HTTP, WHEP) is not
delayed. Only for test node processes (``tests/topology/launch.py``); never a setting.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

_Send = Callable[..., Any]


class DelayLine:
    """Datagrams waiting for their time, first in first out (order is kept)."""

    def __init__(self, seconds: float, peers: Iterable[str]) -> None:
        self.seconds = seconds
        self.peers = frozenset(peers)
        self.waiting: deque[tuple[float, _Send, bytes, tuple[Any, ...]]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.delayed = 0
        self.failed = 0

    def wants(self, args: tuple[Any, ...]) -> bool:
        address = args[-1]
        return isinstance(address, tuple) and address[0] in self.peers

    def push(self, send: _Send, data: bytes, args: tuple[Any, ...]) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.seconds
        self.waiting.append((due, send, data, args))
        self.delayed += 1
        if self.timer is None:
            self.timer = loop.call_at(due, self._flush)

    def _flush(self) -> None:
        self.timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self.waiting and self.waiting[0][0] <= now:
            _, send, data, args = self.waiting.popleft()
            try:
                send(data, *args)
            except OSError:  # buffer full or socket closed meanwhile: the packet is lost
                self.failed += 1
        if self.waiting:
            self.timer = loop.call_at(self.waiting[0][0], self._flush)


_line: DelayLine | None = None
_Original = socket.socket


class DelayedSocket(_Original):
    """``socket.socket`` whose datagrams to the delay line's peers wait their turn."""

    def sendto(self, data: Any, *args: Any) -> int:  # type: ignore[override]
        line = _line
        if line is None or not line.wants(args):
            return super().sendto(data, *args)
        payload = bytes(data)  # the caller reuses its buffer (SrtpSink does)
        line.push(super().sendto, payload, args)
        return len(payload)


def install(seconds: float, peers: Iterable[str]) -> DelayLine:
    """Delay every datagram this process sends to ``peers`` by ``seconds``."""
    global _line
    _line = DelayLine(seconds, peers)
    socket.socket = DelayedSocket  # type: ignore[misc]
    return _line

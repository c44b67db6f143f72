"""Load generator for the Q&A fan-out benchmark: many websocket viewers in one process.

Run by tests/bench/qa_fanout.py, several processes at once (``python qa_clients.py URL N``).
Each viewer is a bare asyncio protocol, not a websocket library: a library's per-socket
task and buffers would make the clients, which share the machine with the server, the
slowest part of what we measure. A viewer does the upgrade handshake, sends a masked
``join``, answers pings, and notes the arrival time of every approved question frame.

Prints JSON lines: ``ready`` once every viewer joined (or failed), then ``arrived`` with
the arrival times of one question at every joined viewer. A line on stdin ends it.
Clocks: ``time.monotonic()`` is CLOCK_MONOTONIC, shared by every process on the machine.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

ROOM = "overseas-talents-summit"
JOINED_MARK = b'"of":"join"'
QUESTION_MARK = b'"type":"question"'
APPROVED_MARK = b'"state":"approved"'


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask, RFC 6455 section 5.3); payloads under 126 bytes."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + body


class Viewer(asyncio.Protocol):
    """One websocket viewer; calls ``joined`` once and ``question(id, t)`` per question."""

    def __init__(
        self,
        handshake: bytes,
        joined: Callable[[], None],
        question: Callable[[str, float], None],
        failed: Callable[[str], None],
    ) -> None:
        self._handshake = handshake
        self._joined = joined
        self._question = question
        self._failed = failed
        self._buffer = bytearray()
        self._upgraded = False
        self._ended = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._handshake)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._buffer.startswith(b"HTTP/1.1 101"):
                self._fail("refused: " + self._buffer[:40].decode(errors="replace"))
                return
            del self._buffer[: end + 4]
            self._upgraded = True
            join = json.dumps({"type": "join", "room": ROOM, "ref": "j"}).encode()
            assert self.transport is not None
            self.transport.write(masked_frame(0x1, join))
        self._frames(now)

    def _frames(self, now: float) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            self._frame(opcode, payload, now)

    def _frame(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode == 0x1:
            if QUESTION_MARK in payload and APPROVED_MARK in payload:
                self._question(json.loads(payload)["question"]["id"], now)
            elif JOINED_MARK in payload:
                self._joined()
        elif opcode == 0x9 and self.transport is not None:
            self.transport.write(masked_frame(0xA, payload))  # pong
        elif opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self._fail(f"closed {code}")

    def _fail(self, reason: str) -> None:
        if not self._ended:
            self._ended = True
            self._failed(reason)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._ended:
            self._ended = True
            self._failed(type(exc).__name__ if exc else "connection lost")


async def run(url: str, count: int, sources: int, connect_burst: int) -> None:
    """Open ``count`` viewers; report joins and arrivals until stdin says stop."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    joined = 0
    errors: dict[str, int] = {}
    arrivals: dict[str, list[float]] = {}
    stopping = False

    def settled() -> None:
        if joined + sum(errors.values()) == count:
            emit(kind="ready", joined=joined, errors=errors)

    def on_joined() -> None:
        nonlocal joined
        joined += 1
        settled()

    def on_question(question: str, at: float) -> None:
        times = arrivals.setdefault(question, [])
        times.append(at)
        if len(times) == joined:
            emit(kind="arrived", question=question, times=times)

    def on_failed(reason: str) -> None:
        if not stopping:
            errors[reason] = errors.get(reason, 0) + 1
            settled()

    def handshake() -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        return (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    async def open_one(i: int) -> asyncio.Transport | None:
        # Several loopback source addresses: more ephemeral ports than one address has.
        source = (f"127.0.0.{1 + i % sources}", 0) if host == "127.0.0.1" else None
        try:
            transport, _ = await loop.create_connection(
                lambda: Viewer(handshake(), on_joined, on_question, on_failed),
                host,
                port,
                local_addr=source,
            )
        except OSError as error:
            on_failed(type(error).__name__)
            return None
        return transport

    transports: list[asyncio.Transport] = []
    for first in range(0, count, connect_burst):
        batch = range(first, min(count, first + connect_burst))
        opened = await asyncio.gather(*(open_one(i) for i in batch))
        transports.extend(t for t in opened if t is not None)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()  # the parent says stop
    stopping = True
    for transport in transports:
        transport.close()


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    sources = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    asyncio.run(run(url, count, sources, connect_burst=250))


if __name__ == "__main__":
    main()

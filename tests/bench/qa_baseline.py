"""The bare baseline of the Q&A fan-out benchmark: a websocket server with nothing else to do.

``python qa_baseline.py aiohttp|websockets PORT`` serves ``/ws``: a socket that sends a
``join`` gets the ack our server would send, and each line on stdin (a JSON string: a
frame's text, taken from our server in the same run) is written to every joined socket.

- ``aiohttp``: a minimal aiohttp app, ``await ws.send_str(text)`` for each socket: how
  one writes a broadcast with aiohttp.
- ``websockets``: the websockets library's asyncio server and its ``broadcast()``, which
  writes synchronously to every connection and skips the ones that are behind.

Several processes may share the port (SO_REUSEPORT), like worker processes. Prints one
JSON line per push: how long this process's write loop took. The end of stdin ends it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

ACK = json.dumps({"type": "ack", "of": "join", "ref": "j"}, separators=(",", ":"))


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def pushes(push: Any) -> None:
    """Read frames from stdin and hand each to ``push`` until stdin ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        text = json.loads(line)
        started = time.monotonic()
        sockets = await push(text)
        emit(kind="pushed", sockets=sockets, loop_ms=(time.monotonic() - started) * 1000)


async def serve_aiohttp(port: int) -> None:
    from aiohttp import WSMsgType, web

    joined: set[web.WebSocketResponse] = set()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT and '"join"' in message.data:
                    joined.add(ws)
                    await ws.send_str(ACK)
        finally:
            joined.discard(ws)
        return ws

    async def push(text: str) -> int:
        targets = list(joined)
        for ws in targets:
            await ws.send_str(text)
        return len(targets)

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096, reuse_port=True)
    await site.start()
    emit(kind="listening", port=port)
    try:
        await pushes(push)
    finally:
        await runner.cleanup()


async def serve_websockets(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    joined: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        try:
            async for message in connection:
                if isinstance(message, str) and '"join"' in message:
                    joined.add(connection)
                    await connection.send(ACK)
        except ConnectionClosed:
            pass  # a viewer going away is not news here
        finally:
            joined.discard(connection)

    async def push(text: str) -> int:
        targets = list(joined)
        broadcast(targets, text)
        return len(targets)

    async with serve(
        handler, "127.0.0.1", port, reuse_port=True, backlog=4096, compression=None,
        ping_interval=None, max_size=2**16,
    ):  # fmt: skip
        emit(kind="listening", port=port)
        await pushes(push)


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    serve = {"aiohttp": serve_aiohttp, "websockets": serve_websockets}[kind]
    asyncio.run(serve(port))


if __name__ == "__main__":
    main()

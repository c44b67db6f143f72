"""Server-side websocket framing (RFC 6455 section 5.2), sans-I/O: bytes in, bytes out.

A server's frames are never masked, so one encoded frame (header and payload) is the same
bytes on every socket: fan-out builds it once and hands the very same ``bytes`` object to
each connection's transport.
"""

from __future__ import annotations

import struct

TEXT = 0x81  # FIN + opcode 1
CLOSE = 0x88  # FIN + opcode 8


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final websocket text frame around ``payload``."""
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", TEXT, length) + payload
    if length < 65536:
        return struct.pack("!BBH", TEXT, 126, length) + payload
    return struct.pack("!BBQ", TEXT, 127, length) + payload


def close_frame(code: int, reason: str) -> bytes:
    """An unmasked close frame with ``code`` and a reason cut to fit a control frame."""
    body = struct.pack("!H", code) + reason.encode()[:120]
    return struct.pack("!BB", CLOSE, len(body)) + body

"""The optional native send path: one call protects and sends a packet to many subscribers.

Built by ``scripts/setup.sh`` from ``rtp_fanout.c`` (``python -m streaming.native.build``).
``load()`` returns the compiled module, or None when it was not built (no C compiler) or
does not match the declarations here: the server then sends packet by packet.
"""

from __future__ import annotations

import importlib
import logging
import socket
from functools import cache
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)


@cache
def load() -> ModuleType | None:
    """The compiled ``_rtp_fanout`` module, or None (logged once) if it is not there."""
    try:
        return importlib.import_module("streaming.native._rtp_fanout")
    except ImportError as error:
        logger.info("native send path not built (%s); sending packet by packet", error)
        return None


def native_dest(sock: Any, address: Any, session: int) -> tuple[Any, int]:
    """A ``struct vb_dest`` for sending on ``sock`` to ``address`` with the libsrtp session
    at ``session``, and its address for the batch; ``(None, 0)`` if the native path cannot
    send there (not built, not a UDP socket, not IPv4: it sends the plain way)."""
    native = load()
    if native is None or not isinstance(sock, socket.socket):
        return None, 0
    if sock.family != socket.AF_INET or sock.type != socket.SOCK_DGRAM:
        return None, 0
    try:
        host = int.from_bytes(socket.inet_aton(address[0]), "big")
        port = int(address[1])
    except (OSError, TypeError, ValueError, IndexError):
        return None, 0
    dest = native.ffi.new("struct vb_dest *")
    native.lib.vb_set_dest(dest, native.ffi.cast("void *", session), host, port)
    return dest, int(native.ffi.cast("uintptr_t", dest))

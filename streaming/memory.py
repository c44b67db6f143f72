"""Giving freed memory back to the operating system after many sessions end.

Each session allocates a DTLS context, certificates and buffers through OpenSSL and
aiortc with C ``malloc``. When hundreds end, glibc keeps the freed pages in its heap
(only the top of the heap is returned by itself), so the process's resident size stays at
its peak. ``malloc_trim(0)`` releases those pages; measured in the WHEP flood test, it
gives back about 40 % of what 200 sessions added. Python's own arenas are not touched:
what remains is reused by the next sessions rather than grown again.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Trim once ends have been quiet this long, and only after a burst worth the walk over
# the heap (a few milliseconds for a few hundred MiB).
QUIET_SECONDS = 1.0
MIN_ENDED = 20


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def give_back_memory() -> bool:
    """Return freed heap pages to the OS where the C library can; True if it tried."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True


class HeapTrimmer:
    """Calls ``give_back_memory`` once a burst of session ends has gone quiet."""

    def __init__(self, trim: Callable[[], bool] = give_back_memory) -> None:
        self._trim = trim
        self._ended = 0
        self._timer: asyncio.TimerHandle | None = None
        self.trims = 0

    def session_ended(self) -> None:
        """One more session ended; (re)start the quiet timer."""
        self._ended += 1
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._quiet)

    def _quiet(self) -> None:
        self._timer = None
        if self._ended >= MIN_ENDED and self._trim():
            self.trims += 1
            logger.debug("gave freed memory back after %d sessions ended", self._ended)
        self._ended = 0

    def close(self) -> None:
        """Cancel a pending trim (shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

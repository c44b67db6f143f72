"""Shared test helpers: waiting on conditions instead of sleeping; test server settings."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from config import IceSettings, Settings


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    what: str,
    within: float = 10.0,
    interval: float = 0.02,
) -> None:
    """Wait until ``predicate`` is true; fail naming ``what`` we waited for."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.1f}s waiting for {what}")
        await asyncio.sleep(interval)


def local_settings(**fields: Any) -> Settings:
    """Settings for a server a test starts: loopback, and free ports picked at start-up.

    The HTTP port (0) and the media UDP port (``ice.udp_port`` 0): several servers may
    run in one test process, and none may take the default 8189.
    """
    fields.setdefault("host", "127.0.0.1")
    fields.setdefault("port", 0)
    ice = fields.pop("ice", IceSettings())
    if ice.udp_port == IceSettings().udp_port:
        ice = dataclasses.replace(ice, udp_port=0)
    return Settings(ice=ice, **fields)

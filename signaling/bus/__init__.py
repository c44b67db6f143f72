"""The bus: every node hears every message, its own included, in publishing order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Bus(Protocol):
    async def publish(self, message: str) -> None:
        """Send ``message`` to every listener of every node."""
        ...

    async def subscribe(self) -> AsyncIterator[str]:
        """Once this returns, every message published is delivered, in order, until ``aclose``."""
        ...

    async def aclose(self) -> None:
        """Stop listening and release connections; open ``listen`` iterators end."""
        ...

"""The routing service's smaller ports: the topology, Q&A counts, the records' sink and
the interpreters' booths (``MediaView``, the media plane's, stays in ``service.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from signaling.records.airing import Airing


class Homes(Protocol):
    """Where each venue's output is served, for the matrix."""

    def where(self, venue: str) -> tuple[str | None, bool | None]:
        """The home node (None: this routing node) and whether it is up (None: unknown)."""
        ...


class QuestionCounts(Protocol):
    async def counts(self, session_id: str) -> tuple[int, int]:
        """Questions asked and answered in a session's Q&A."""
        ...


class Booths(Protocol):
    def on_air(self) -> dict[str, dict[str, str]]:
        """Per channel: language -> the interpreter on air in that booth now."""
        ...


class AiringSink(Protocol):
    async def save(self, airings: list[Airing]) -> None: ...

    async def alive(self, at: datetime) -> None: ...

"""The narrow interfaces between the media plane and whoever drives it.

The control plane (routing, role tokens, as-run records) implements or calls these;
``web/app.py`` wires the two together, so neither plane imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class MediaAccess(Protocol):
    """Decides who may publish and who may play; ``token`` is the Bearer token or None."""

    def may_publish(self, token: str | None, channel: str) -> bool: ...

    def may_play(self, token: str | None, channel: str) -> bool: ...

    def may_play_venue(self, token: str | None, venue: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class SwitchEvent:
    """A venue output started showing ``channel`` (None: nothing) at ``at`` (UTC)."""

    venue: str
    channel: str | None
    previous: str | None
    at: datetime


class SwitchListener(Protocol):
    """Told the moment a venue output actually switched (for as-run records)."""

    def venue_switched(self, event: SwitchEvent) -> None: ...

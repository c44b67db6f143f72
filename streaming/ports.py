"""The narrow interfaces between the media plane and whoever drives it.

The control plane (routing, role tokens, as-run records) implements or calls these;
``web/app.py`` wires the two together, so neither plane imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol


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


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """A channel's health changed (the contract between the issue-11 branches)."""

    channel: str
    # live: media flowing (first time or back); lost: no media for `health.lost_after` s
    # while a publisher is connected or just dropped; idle: no publisher.
    state: Literal["live", "lost", "idle"]
    source: Literal["primary", "backup"] | None  # which publisher feeds outputs now
    backup_ready: bool  # a live backup publisher is connected
    at: datetime  # UTC


class SourceListener(Protocol):
    def source_changed(self, event: SourceEvent) -> None: ...

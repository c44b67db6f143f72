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

    def interpreter(self, token: str | None, channel: str, language: str) -> str | None:
        """The interpreter's name if ``token`` may publish ``channel``'s ``language`` track."""
        ...

    def may_see_booth(self, token: str | None, channel: str) -> bool:
        """May list who is connected and on air in ``channel``'s interpreter booths."""
        ...

    def revoked(self, token: str) -> bool:
        """The token a session was opened with has been revoked since: end the session."""
        ...


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


SourceRole = Literal["primary", "backup"]
SourceState = Literal["live", "lost", "idle"]


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """A channel's source health changed (state, the publisher on air, or its backup).

    live: media flowing (first time or back); lost: no media for ``health.lost_after``
    seconds while a publisher is connected or just dropped; idle: no publisher (ended
    cleanly, or never came).
    """

    channel: str
    state: SourceState
    source: SourceRole | None  # which publisher feeds outputs now
    backup_ready: bool  # a live backup publisher is connected
    at: datetime  # UTC
    # The media comes from another node over a relay link, not from a publisher here.
    relayed: bool = False


class SourceListener(Protocol):
    """Told on every change of a channel's source health (alarms, off-air records)."""

    def source_changed(self, event: SourceEvent) -> None: ...


class UpstreamLocator(Protocol):
    """Where this node pulls a channel from: a node's base URL, or None (nowhere).

    A static setting (``relay.upstream``: chains), else on Redis the node directory
    (channel -> the node holding its publisher; ``web/upstreams.DirectoryUpstreams``):
    None when no other node holds the channel (nobody publishes it, or this node does).
    """

    async def upstream_for(self, channel: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class LanguageEvent:
    """Who is on air in ``channel``'s ``language`` booth since ``at`` (UTC)."""

    channel: str
    language: str
    interpreter: str | None  # None: nobody on air, listeners hear the floor
    at: datetime


class LanguageListener(Protocol):
    """Told on every on-air change in an interpreter booth (interpreting records)."""

    def language_changed(self, event: LanguageEvent) -> None: ...

"""The timer that watches every channel's source: health, failover, and who is told.

Every ``CHECK_INTERVAL`` it reads each channel's publisher slots (the packet path only
stamps their last-packet times), decides live / lost / idle and whether to fail over,
and reports each change exactly once, as a ``SourceEvent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from streaming.health import SlotFacts, channel_state, failover_choice, slot_live
from streaming.ports import SourceEvent, SourceRole, SourceState
from streaming.source import ChannelSource

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """``health.lost_after``, ``failover.after`` and ``failover.mode``."""

    lost_after: float = 1.0
    failover_after: float = 2.0
    failover_mode: str = "auto"  # or "confirm": the director brings the primary back


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """A channel's health now, as ``/api/streams`` and ``/metrics`` show it."""

    state: SourceState
    since: datetime | None  # when it entered this state (None: idle since start-up)
    source: SourceRole | None
    backup_ready: bool
    lost_total: int


@dataclass(slots=True)
class _Watched:
    state: SourceState = "idle"
    since: datetime | None = None
    source: SourceRole | None = None
    backup_ready: bool = False
    lost_total: int = 0
    preferred: SourceRole = "primary"
    # After a failover in "confirm" mode: stay until the director chooses.
    hold: bool = False


class SourceWatch:
    """Owns the health timer; ``check()`` is one pass, callable directly in tests."""

    def __init__(
        self,
        sources: Mapping[str, ChannelSource],
        on_event: Callable[[SourceEvent], None],
        settings: WatchSettings,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sources = sources
        self._on_event = on_event
        self._settings = settings
        self._clock = clock
        self._wall_clock = wall_clock
        self._watched = {channel: _Watched() for channel in sources}
        self._task: asyncio.Task[None] | None = None

    def health(self, channel: str) -> ChannelHealth:
        """The last judged health of ``channel``."""
        w = self._watched[channel]
        return ChannelHealth(w.state, w.since, w.source, w.backup_ready, w.lost_total)

    def is_live(self, channel: str) -> bool:
        """The channel's media is flowing now (a venue output may show it).

        Judged afresh rather than from the last check, so a route taken just after a
        publisher started does not flash the slate until the next check.
        """
        source = self._sources.get(channel)
        if source is None:
            return False
        slot = source.slots[source.on_air]
        facts = SlotFacts(slot.publisher is not None, slot.last_packet_at, slot.ended_cleanly)
        return slot_live(facts, self._clock(), self._settings.lost_after)

    def use_source(self, channel: str, role: SourceRole) -> None:
        """The director's choice: put ``role`` on air (at its next keyframe) and prefer it."""
        watched = self._watched[channel]
        watched.preferred = role
        watched.hold = False
        self._sources[channel].arm(role)

    def start(self) -> None:
        """Start checking every ``CHECK_INTERVAL`` seconds."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="source-watch")

    async def aclose(self) -> None:
        """Stop the timer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            try:
                self.check()
            except Exception:  # one bad pass must not end the watch
                logger.exception("source health check failed")

    def check(self) -> None:
        """One pass over every channel: fail over where needed, report what changed."""
        now = self._clock()
        for channel, source in self._sources.items():
            self._check_channel(channel, source, now)

    def _check_channel(self, channel: str, source: ChannelSource, now: float) -> None:
        settings, watched = self._settings, self._watched[channel]
        slots = {
            role: SlotFacts(slot.publisher is not None, slot.last_packet_at, slot.ended_cleanly)
            for role, slot in source.slots.items()
        }
        choice = failover_choice(
            source.on_air,
            slots,
            watched.preferred,
            watched.hold,
            now,
            settings.lost_after,
            settings.failover_after,
        )
        if choice is None:
            source.armed = None
        elif choice != source.armed:
            if choice != watched.preferred and settings.failover_mode == "confirm":
                watched.hold = True
            logger.warning("channel %s: switching to the %s publisher", channel, choice)
            source.arm(choice)
        source.nudge_armed()
        state = channel_state(source.on_air, slots, now, settings.lost_after)
        on_air = source.on_air if source.publisher is not None else None
        backup_ready = slot_live(slots["backup"], now, settings.lost_after)
        if (state, on_air, backup_ready) == (watched.state, watched.source, watched.backup_ready):
            return
        at = self._wall_clock()
        if state != watched.state:
            watched.since = at
            if state == "lost":
                watched.lost_total += 1
        watched.state, watched.source, watched.backup_ready = state, on_air, backup_ready
        self._on_event(SourceEvent(channel, state, on_air, backup_ready, at))

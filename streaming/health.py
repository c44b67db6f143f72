"""Sans-I/O source health and failover decisions for one channel.

Pure functions of a channel's two publisher slots and the time: the watchdog
(``streaming/watchdog.py``) feeds them on a timer, so the packet path does nothing for
health but stamp a slot's last-packet time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streaming.ports import SourceRole, SourceState


@dataclass(frozen=True, slots=True)
class SlotFacts:
    """What a health check needs to know of one publisher slot."""

    connected: bool
    last_packet_at: float | None  # monotonic seconds; None: never had media
    ended_cleanly: bool


def other_role(role: SourceRole) -> SourceRole:
    """The backup for the primary and the other way round."""
    return "backup" if role == "primary" else "primary"


def slot_live(slot: SlotFacts, now: float, lost_after: float) -> bool:
    """A publisher is connected and its media arrived less than ``lost_after`` ago."""
    last = slot.last_packet_at
    return slot.connected and last is not None and now - last < lost_after


def channel_state(
    on_air: SourceRole, slots: Mapping[SourceRole, SlotFacts], now: float, lost_after: float
) -> SourceState:
    """live, lost or idle, judged on the publisher on air."""
    current = slots[on_air]
    if current.connected:
        return "live" if slot_live(current, now, lost_after) else "lost"
    # Nothing on air: a publisher that dropped (rather than said goodbye) leaves it lost.
    dropped = any(s.last_packet_at is not None and not s.ended_cleanly for s in slots.values())
    return "lost" if dropped else "idle"


def failover_choice(
    on_air: SourceRole,
    slots: Mapping[SourceRole, SlotFacts],
    preferred: SourceRole,
    hold: bool,
    now: float,
    lost_after: float,
    failover_after: float,
) -> SourceRole | None:
    """The publisher to cut to now (at its next keyframe), or None to stay.

    Fail over when the one on air is gone or silent for ``failover_after`` and the other
    is live; go back to the ``preferred`` one as soon as it is live again, unless the
    director holds the choice (failover mode "confirm").
    """
    other = other_role(on_air)
    if not slot_live(slots[other], now, lost_after):
        return None
    current = slots[on_air]
    down = (
        not current.connected
        or current.last_packet_at is None
        or now - current.last_packet_at >= failover_after
    )
    if down or (other == preferred and not hold):
        return other
    return None

"""The rehearsal clock: the server's time shifted (and sped up) so the schedule runs now.

``virtual = anchor.virtual + (real - anchor.real) * speed``. The anchor is kept in the
store, so a restart in the middle of a rehearsal continues the same rehearsal instead of
starting the event over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from config.event import Event
from signaling.clock import MAX_WAIT_SECONDS
from signaling.protocol.server import RehearsalTime


class RehearsalError(ValueError):
    """The rehearsal cannot start as asked (e.g. an unknown session)."""


@dataclass(frozen=True, slots=True)
class RehearsalPlan:
    """What ``--rehearse`` asks for: where the event starts, how soon, how fast."""

    lead: timedelta = timedelta(minutes=2)
    from_session: str | None = None
    speed: float = 1.0


@dataclass(frozen=True, slots=True)
class Anchor:
    """One real moment and the event time it stands for."""

    real: datetime
    virtual: datetime
    speed: float


class RehearsalClock:
    """A ``Clock`` running ``speed`` times as fast as real time from ``anchor``."""

    def __init__(self, anchor: Anchor) -> None:
        self.anchor = anchor
        self.speed = anchor.speed

    def real_now(self) -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        elapsed = self.real_now() - self.anchor.real
        return self.anchor.virtual + elapsed * self.speed

    def from_real(self, moment: datetime) -> datetime:
        return self.anchor.virtual + (moment - self.anchor.real) * self.speed

    async def wait_until(self, moment: datetime | None, wake: asyncio.Event) -> None:
        timeout = MAX_WAIT_SECONDS
        if moment is not None:
            remaining = (moment - self.now()).total_seconds() / self.speed
            timeout = min(timeout, max(0.0, remaining))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

    def rehearsal_time(self) -> RehearsalTime:
        """The clock for the ``welcome`` frame."""
        return RehearsalTime(
            real=self.anchor.real.isoformat(),
            virtual=self.anchor.virtual.isoformat(),
            speed=self.speed,
        )

    def as_json(self) -> dict[str, Any]:
        """What a page needs to run the same clock: ``virtual + (Date.now() - real) * speed``."""
        return {
            "rehearsal": True,
            "real": self.anchor.real.isoformat(),
            "virtual": self.anchor.virtual.isoformat(),
            "speed": self.speed,
        }


def first_start(event: Event, plan: RehearsalPlan) -> datetime:
    """When the rehearsal's first session starts, in event time."""
    if plan.from_session is not None:
        session = event.session(plan.from_session)
        if session is None:
            raise RehearsalError(f"no session '{plan.from_session}' to rehearse from")
        return session.start
    if not event.sessions:
        raise RehearsalError("the event has no sessions to rehearse")
    return min(s.start for s in event.sessions)


def new_anchor(event: Event, plan: RehearsalPlan, real_now: datetime) -> Anchor:
    """The first session starts ``plan.lead`` of real time after ``real_now``."""
    virtual = first_start(event, plan) - plan.lead * plan.speed
    return Anchor(real=real_now, virtual=virtual, speed=plan.speed)


class ValueStore(Protocol):
    async def put_value(self, key: str, value: str) -> None: ...

    async def get_value(self, key: str) -> str | None: ...


async def rehearsal_clock(
    store: ValueStore, event: Event, plan: RehearsalPlan, real_now: datetime
) -> RehearsalClock:
    """The clock of this rehearsal: the stored one while it still runs, else a new one.

    A stored anchor is kept when the plan is the same and the event is not over on it, so
    a server restarted mid-rehearsal goes on where it was.
    """
    key = f"rehearsal-clock:{event.id}"
    wanted = _plan_json(plan)
    stored = await store.get_value(key)
    if stored is not None:
        data = json.loads(stored)
        anchor = Anchor(
            datetime.fromisoformat(data["real"]),
            datetime.fromisoformat(data["virtual"]),
            float(data["speed"]),
        )
        ends = max((s.end for s in event.sessions), default=anchor.virtual)
        clock = RehearsalClock(anchor)
        on_clock = clock.from_real(real_now)
        if data.get("plan") == wanted and anchor.real <= real_now and on_clock < ends:
            return clock
    anchor = new_anchor(event, plan, real_now)
    document = {
        "real": anchor.real.isoformat(),
        "virtual": anchor.virtual.isoformat(),
        "speed": anchor.speed,
        "plan": wanted,
    }
    await store.put_value(key, json.dumps(document))
    return RehearsalClock(anchor)


def _plan_json(plan: RehearsalPlan) -> dict[str, Any]:
    return {"lead": plan.lead.total_seconds(), "from": plan.from_session, "speed": plan.speed}

"""How many frames one websocket may send: a token bucket per connection. Pure.

A join costs more than other frames because it answers with a whole room snapshot.
Frames over the budget are refused; a client that keeps sending while refused is cut off.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MessageRate:
    """``burst`` frames at once, refilled at ``per_second``; a join takes ``join_cost``."""

    burst: int = 60
    per_second: float = 20.0
    join_cost: int = 10
    refused_before_close: int = 50


class Verdict:
    ALLOW = "allow"
    REFUSE = "refuse"  # answer with one rate_limited error
    IGNORE = "ignore"  # refused again: say nothing more
    CLOSE = "close"


class ConnectionBudget:
    """One connection's bucket; ``take`` says what to do with the next frame."""

    def __init__(self, rate: MessageRate, now: float) -> None:
        self._rate = rate
        self._tokens = float(rate.burst)
        self._last = now
        self._refused = 0

    def take(self, cost: int, now: float) -> str:
        """Charge ``cost`` tokens for a frame; one of the ``Verdict`` values."""
        rate = self._rate
        self._tokens = min(rate.burst, self._tokens + (now - self._last) * rate.per_second)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            self._refused = 0
            return Verdict.ALLOW
        self._refused += 1
        if self._refused >= rate.refused_before_close:
            return Verdict.CLOSE
        return Verdict.REFUSE if self._refused == 1 else Verdict.IGNORE

"""Sans-I/O rate limiting: the caller passes the clock."""

from __future__ import annotations


class MinInterval:
    """Allows an action at most once per ``interval`` seconds (e.g. PLIs upstream)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: float | None = None
        self.refused = 0

    def allow(self, now: float) -> bool:
        """True, and remember ``now``, if the action may happen at ``now``."""
        if self._last is not None and now - self._last < self.interval:
            self.refused += 1
            return False
        self._last = now
        return True


class TokenBucket:
    """Allows ``rate`` actions a second on average and ``burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last: float | None = None
        self.refused = 0

    def allow(self, now: float) -> bool:
        """True, spending one token, if the action may happen at ``now``."""
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self.refused += 1
        return False

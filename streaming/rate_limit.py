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

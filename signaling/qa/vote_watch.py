"""Spotting votes that arrive in bursts from one address. Pure: counts in, flags out.

Rate limits cannot tell a stuffer who mints identities from a venue NAT full of real
phones; a moderator can. So the node counts votes per question and address in a sliding
window and, past a threshold, flags the question once for the moderators to judge.
"""

from __future__ import annotations

from collections import OrderedDict, deque


class VoteWatch:
    """Counts recent votes per (room, question, address); says when one becomes a burst."""

    def __init__(self, threshold: int, window: float, size: int = 50_000) -> None:
        self._threshold = threshold
        self._window = window
        self.window = int(window)
        self._size = size
        self._recent: OrderedDict[tuple[str, str, str], deque[float]] = OrderedDict()
        self._flagged: set[tuple[str, str]] = set()

    def vote(self, room: str, question: str, address: str, now: float) -> int | None:
        """Count one vote; the burst's size the first time it reaches the threshold, else None."""
        key = (room, question, address)
        times = self._recent.pop(key, None) or deque()
        times.append(now)
        while times and times[0] <= now - self._window:
            times.popleft()
        self._recent[key] = times
        if len(self._recent) > self._size:
            self._recent.popitem(last=False)
        if len(times) < self._threshold or (room, question) in self._flagged:
            return None
        self._flagged.add((room, question))
        return len(times)

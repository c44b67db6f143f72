"""Sans-I/O measures of a receiving link: recent loss, and time without decodable video.

``LossWindow`` is the raw loss (before any retransmission) over the last second: when
it is above ``media.keyframe_loss_percent``, retransmissions are unlikely to keep up
(they are lost too, and each costs a round trip), so the receiver asks for a keyframe.

``FreezeMeter`` counts the time a decoder behind this link would show a frozen picture.
The receiver calls ``advance(now)`` each time the video becomes decodable up to a newer
complete frame: a frame's last packet (marker) arrives while no earlier packet since the
last keyframe is still missing, or the retransmission that fills the last hole arrives, or
a keyframe restarts the chain. A gap between two advances longer than ``threshold``
counts whole as freeze time; it covers both losses and media stalls (no packets at all).
"""

from __future__ import annotations

from collections import deque

LOSS_WINDOW = 1.0
LOSS_BUCKETS = 4
# Below this many expected packets in the window the fraction says nothing.
LOSS_MIN_EXPECTED = 20
# A wait between decodable frames longer than this is a freeze (30 fps is 33 ms a frame;
# a browser's own freeze count starts near 3 frame intervals + 150 ms).
FREEZE_THRESHOLD = 0.2


class LossWindow:
    """Expected and lost packets over the last ``window`` seconds, in a few buckets."""

    def __init__(self, window: float = LOSS_WINDOW, buckets: int = LOSS_BUCKETS) -> None:
        self._window = window
        self._step = window / buckets
        self._buckets: deque[list[float]] = deque()  # [start, expected, lost]

    def add(self, now: float, expected: int, lost: int) -> None:
        """Count ``expected`` packets (``lost`` of them missing) at ``now``."""
        buckets = self._buckets
        if not buckets or now - buckets[-1][0] >= self._step:
            buckets.append([now, 0, 0])
            while now - buckets[0][0] >= self._window + self._step:
                buckets.popleft()
        last = buckets[-1]
        last[1] += expected
        last[2] += lost

    def fraction(self, now: float) -> float | None:
        """Lost / expected in the window; None if too few packets to say."""
        expected = lost = 0.0
        for start, bucket_expected, bucket_lost in self._buckets:
            if now - start < self._window + self._step:
                expected += bucket_expected
                lost += bucket_lost
        if expected < LOSS_MIN_EXPECTED:
            return None
        return lost / expected

    def clear(self) -> None:
        """Forget the past (a keyframe restarted the picture)."""
        self._buckets.clear()


class FreezeMeter:
    """Sums the gaps between decodable video frames that are longer than ``threshold``."""

    def __init__(self, threshold: float = FREEZE_THRESHOLD) -> None:
        self.threshold = threshold
        self.freezes = 0
        self.total = 0.0
        self.longest = 0.0
        self.last_advance: float | None = None

    def advance(self, now: float) -> None:
        """The picture moved on at ``now``."""
        last = self.last_advance
        self.last_advance = now
        if last is None:
            return
        gap = now - last
        if gap > self.threshold:
            self.freezes += 1
            self.total += gap
            self.longest = max(self.longest, gap)

    def frozen_for(self, now: float) -> float:
        """The freeze going on at ``now`` (0 if the picture moved within ``threshold``)."""
        if self.last_advance is None:
            return 0.0
        gap = now - self.last_advance
        return gap if gap > self.threshold else 0.0

    def total_at(self, now: float) -> float:
        """Freeze time so far, the one going on included."""
        return self.total + self.frozen_for(now)

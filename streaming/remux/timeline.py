"""RTP timestamps to one media timeline, re-based at each publisher epoch.

Each publisher session (epoch) has its own random RTP base and its own clock; audio and
video of one session do not share a base either (there is no RTCP sender report on this
path). So each (track, epoch) is anchored at the arrival time of its first frame, and
runs on from there by its RTP clock; a reconnect's new epoch starts where arrival time
says, never before the end of what that track already wrote. Sans-I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

WRAP = 1 << 32


@dataclass(slots=True)
class _Anchor:
    epoch: int
    first_timestamp: int  # unwrapped RTP timestamp of the epoch's first frame
    last_timestamp: int  # unwrapped, for wrap-around detection
    start: float  # media seconds of the first frame


class MediaTimeline:
    """Media seconds since ``origin`` (monotonic) for frames of several tracks."""

    def __init__(self, origin: float) -> None:
        self.origin = origin
        self._anchors: dict[object, _Anchor] = {}
        self._ends: dict[object, float] = {}

    def seconds(
        self, track: object, epoch: int, timestamp: int, rate: int, arrival: float
    ) -> float:
        """The media time of a frame of ``track``, or -1.0 for a frame not after the
        track's last one (a late duplicate: the caller drops it)."""
        anchor = self._anchors.get(track)
        end = self._ends.get(track)
        if anchor is None or anchor.epoch != epoch:
            start = arrival - self.origin
            if end is not None:
                start = max(start, end)
            anchor = _Anchor(epoch, timestamp, timestamp, start)
            self._anchors[track] = anchor
            when = start
        else:
            unwrapped = _unwrap(timestamp, anchor.last_timestamp)
            anchor.last_timestamp = unwrapped
            when = anchor.start + (unwrapped - anchor.first_timestamp) / rate
            if end is not None and when < end:
                return -1.0
        self._ends[track] = when + 1 / rate  # times strictly increase
        return when

    def end(self, track: object) -> float | None:
        """Where ``track``'s next frame may start at the earliest (None: nothing yet)."""
        return self._ends.get(track)


def _unwrap(timestamp: int, previous: int) -> int:
    """``timestamp`` (32 bits) placed nearest ``previous`` (unwrapped)."""
    candidate = (previous & ~(WRAP - 1)) | (timestamp & (WRAP - 1))
    if candidate - previous > WRAP // 2:
        candidate -= WRAP
    elif previous - candidate > WRAP // 2:
        candidate += WRAP
    return candidate

"""Sans-I/O repair hold: release a relay pull's packets in sequence order, holes repaired.

An edge that forwards packets the moment they arrive passes every long-haul hole on to
its viewers; their repair (a NACK upstream, one long round trip) comes later than a
viewer's jitter buffer, tuned for its short link to the edge, waits. Broadcast links
solve this with a receiver latency (SRT) or buffer (RIST); ``ReleaseBuffer`` is ours,
paid only while a hole waits:

- a packet that is next in sequence is released at once, with any held ones it frees;
- a packet after a hole is held until the hole is filled (the retransmission arrives)
  or the hole has waited ``hold`` seconds (then it is skipped: what follows goes out);
- a packet behind the release point that was skipped (its retransmission came after the
  hold) passes straight through, for the caller to forward as late; one that was already
  released (a duplicate, e.g. the answer to a repeated NACK) is dropped, as is a
  duplicate of a held packet;
- a packet ``max_held`` or more ahead of the next expected one is a jump (a sender
  restart, or garbage): everything held goes out and the sequence restarts there, so
  the buffer never holds ``max_held`` packets or more, whatever arrives.

No clock of its own: callers pass ``now`` and call ``poll(now)`` by ``deadline()``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

SEQ_MOD = 1 << 16
SEQ_HALF = 1 << 15

T = TypeVar("T")


@dataclass(slots=True)
class HoldStats:
    """What the buffer did, counted since it was made."""

    released: int = 0  # packets released in order
    held: int = 0  # packets that waited behind a hole
    repaired: int = 0  # holes filled while packets waited behind them
    skipped: int = 0  # sequence numbers given up when their hole had waited ``hold``
    late: int = 0  # a skipped packet that came after all: passed through
    duplicates: int = 0  # of held or released packets: dropped
    jumps: int = 0  # a packet too far ahead restarted the sequence
    longest_wait: float = 0.0  # the longest a packet waited, in seconds


class ReleaseBuffer(Generic[T]):
    """The in-order release of one RTP stream (one SSRC); ``T`` is the caller's packet."""

    def __init__(self, hold: float, max_held: int) -> None:
        if max_held < 2:
            raise ValueError("max_held must be at least 2")
        self.hold = hold
        self.max_held = max_held
        self.stats = HoldStats()
        self._next: int | None = None  # the sequence number to release next
        self._held: dict[int, tuple[T, float]] = {}  # sequence -> (packet, arrival)
        self._hole_since: float | None = None  # when the hole at ``_next`` was first seen
        # Sequence numbers skipped lately (at most ``max_held``): their late arrival passes.
        self._skipped: set[int] = set()
        self._skipped_order: deque[int] = deque()

    @property
    def holding(self) -> int:
        """Packets waiting now."""
        return len(self._held)

    def deadline(self) -> float | None:
        """When the hole at the release point is given up (None: nothing waits)."""
        if self._hole_since is None:
            return None
        return self._hole_since + self.hold

    def push(self, sequence: int, packet: T, now: float) -> tuple[list[T], bool]:
        """Take one arrival: the packets to forward now, in order, and whether ``packet``
        came behind the release point (a late one, forwarded as such)."""
        sequence %= SEQ_MOD
        if self._next is None:
            self._next = (sequence + 1) % SEQ_MOD
            self.stats.released += 1
            return [packet], False
        ahead = (sequence - self._next) % SEQ_MOD
        if ahead >= SEQ_HALF:
            if sequence in self._skipped:
                self._skipped.discard(sequence)
                self.stats.late += 1
                return [packet], True
            self.stats.duplicates += 1
            return [], False
        if ahead == 0:
            released = [packet]
            self.stats.released += 1
            self._next = (sequence + 1) % SEQ_MOD
            if self._held:
                self.stats.repaired += 1
                self._drain(released, now)
            return released, False
        if sequence in self._held:
            self.stats.duplicates += 1
            return [], False
        if ahead >= self.max_held or self.hold <= 0:
            # Too far ahead to wait for (or no hold): what waits goes, the sequence restarts.
            released = self._flush(now)
            ahead = (sequence - self._next) % SEQ_MOD
            if ahead >= self.max_held:
                self.stats.jumps += 1
            else:
                self.stats.skipped += ahead
                for offset in range(ahead):
                    self._remember_skipped((self._next + offset) % SEQ_MOD)
            self._next = (sequence + 1) % SEQ_MOD
            released.append(packet)
            self.stats.released += 1
            return released, False
        self._held[sequence] = (packet, now)
        self.stats.held += 1
        if self._hole_since is None:
            self._hole_since = now
        return self.poll(now), False

    def poll(self, now: float) -> list[T]:
        """Packets freed because the hole before them has waited ``hold`` (maybe none)."""
        released: list[T] = []
        while self._hole_since is not None and now >= self._hole_since + self.hold:
            self._skip_hole(released, now)
        return released

    def _skip_hole(self, released: list[T], now: float) -> None:
        """Give up the hole at the release point; release what follows it in order."""
        start = self._next
        assert start is not None
        first = min(self._held, key=lambda sequence: (sequence - start) % SEQ_MOD)
        gap = (first - start) % SEQ_MOD
        self.stats.skipped += gap
        for offset in range(gap):  # fewer than max_held: all of them are held beyond
            self._remember_skipped((start + offset) % SEQ_MOD)
        self._next = first
        self._drain(released, now)

    def _remember_skipped(self, sequence: int) -> None:
        self._skipped.add(sequence)
        self._skipped_order.append(sequence)
        if len(self._skipped_order) > self.max_held:
            self._skipped.discard(self._skipped_order.popleft())

    def _drain(self, released: list[T], now: float) -> None:
        """Release the held packets that now follow in order; note the next hole's start."""
        held = self._held
        assert self._next is not None
        while self._next in held:
            packet, arrival = held.pop(self._next)
            self.stats.longest_wait = max(self.stats.longest_wait, now - arrival)
            released.append(packet)
            self.stats.released += 1
            self._next = (self._next + 1) % SEQ_MOD
        # The next hole was seen when the first packet still held behind it arrived.
        self._hole_since = min((arrival for _, arrival in held.values()), default=None)

    def _flush(self, now: float) -> list[T]:
        """Everything held, in order, holes skipped."""
        released: list[T] = []
        while self._held:
            self._skip_hole(released, now)
        return released

    def clear(self, now: float) -> list[T]:
        """Forget the sequence (a new sender); returns what was held, in order."""
        released = self._flush(now)
        self._next = None
        return released

"""Sans-I/O NACK logic for long links: how much the sender keeps, when the receiver asks again.

Sender: a subscriber's retransmission history must still hold a packet when the last
NACK for it arrives, i.e. for several round trips plus the receiver's jitter, at the
stream's packet rate. ``history_size`` turns (RTT, jitter, packet rate) into a slot
count, bounded by ``media.nack_history_max_packets`` (each slot pins a packet).

Receiver: a NACK (or its retransmission) can itself be lost, so ``NackScheduler`` asks
again every ``retry_interval`` (a little over one RTT, measured from its own NACKs) until
the packet arrives, ``MAX_TRIES`` asks were made, or it has waited ``give_up_after``:
then the hole is left to a keyframe request (the caller's job).
"""

from __future__ import annotations

from dataclasses import dataclass

from config import MediaSettings

# The history spans this many RTTs: the first NACK and up to three retries.
RTT_MULTIPLIER = 4.0
# Never fewer slots than the fixed history we had (a LAN link needs no more).
MIN_HISTORY = 512
# A NACK is asked again after this many estimated RTTs, plus a little slack.
RETRY_RTT_FACTOR = 1.5
RETRY_SLACK = 0.01
# Before any measurement the link is assumed long (the links: 150-300 ms).
INITIAL_RTT = 0.3
# At most this many NACKs for one packet (a short RTT would allow dozens).
MAX_TRIES = 6
# Lost packets waiting for a retransmission, at most (a bigger hole needs a keyframe).
MAX_PENDING = 256
# Weight of a new RTT sample in the smoothed estimate (TCP's 1/8).
RTT_GAIN = 0.125

SEQ_HALF = 0x8000


@dataclass(frozen=True, slots=True)
class RepairTuning:
    """The settings of retransmission and keyframe recovery (``[media]``)."""

    history_max_packets: int = 4096
    give_up_after: float = 1.5
    keyframe_loss_fraction: float = 0.15

    @classmethod
    def from_settings(cls, media: MediaSettings) -> RepairTuning:
        """The ``[media]`` settings of NACK history, NACK give-up and keyframe loss."""
        return cls(
            media.nack_history_max_packets,
            media.nack_give_up_ms / 1000,
            media.keyframe_loss_percent / 100,
        )


def history_size(
    rtt: float | None,
    packets_per_second: float,
    jitter: float = 0.0,
    *,
    maximum: int,
    multiplier: float = RTT_MULTIPLIER,
    minimum: int = MIN_HISTORY,
) -> int:
    """Slots of retransmission history for a link: a power of two in [minimum, maximum].

    Enough for ``rtt * multiplier + 2 * jitter`` seconds of packets; with no RTT yet the
    initial estimate is used. A power of two keeps ``sequence % size`` consistent across
    the 16-bit wrap.
    """
    seconds = (INITIAL_RTT if rtt is None else max(0.0, rtt)) * multiplier + 2 * max(0.0, jitter)
    wanted = max(1, int(seconds * max(0.0, packets_per_second) + 0.999))
    size = 1 << (wanted - 1).bit_length()
    ceiling = 1 << (max(1, maximum).bit_length() - 1)  # the power of two not above maximum
    return max(min(minimum, ceiling), min(size, ceiling))


def nack_items(lost: list[int]) -> list[tuple[int, int]]:
    """Generic NACK entries (RFC 4585 6.2.1): (PID, bitmask of the 16 following) for ``lost``.

    Any order in, RTP order out, across the 16-bit wrap: the list is read as starting
    after the widest gap between its sequence numbers (aiortc's own packer needs them
    sorted and not wrapping; given a retry list it raised and stopped the receive loop).
    """
    ordered = sorted({sequence & 0xFFFF for sequence in lost})
    if not ordered:
        return []
    widest, start = -1, 0
    for index, sequence in enumerate(ordered):
        gap = (sequence - ordered[index - 1]) & 0xFFFF  # index 0: from the last, round
        if gap > widest:
            widest, start = gap, index
    ordered = ordered[start:] + ordered[:start]
    items: list[tuple[int, int]] = []
    pid, mask = ordered[0], 0
    for sequence in ordered[1:]:
        distance = (sequence - pid - 1) & 0xFFFF
        if distance < 16:
            mask |= 1 << distance
        else:
            items.append((pid, mask))
            pid, mask = sequence, 0
    items.append((pid, mask))
    return items


def is_before(sequence: int, other: int) -> bool:
    """True if ``sequence`` comes before ``other`` in 16-bit RTP order."""
    return 0 < ((other - sequence) & 0xFFFF) < SEQ_HALF


@dataclass(slots=True)
class _Pending:
    first_at: float
    last_at: float
    tries: int = 1
    before_keyframe: bool = False  # a later keyframe made it moot for our own decoding


class NackScheduler:
    """Which lost packets to NACK again now, which to give up on; the RTT it saw."""

    def __init__(self, give_up_after: float) -> None:
        self.give_up_after = give_up_after
        self.rtt: float | None = None
        self.repaired = 0  # lost packets that arrived after a NACK
        self.retries = 0  # sequence numbers NACKed again
        self.given_up = 0
        self._pending: dict[int, _Pending] = {}  # in the order they went missing
        # No entry can be due before this (``poll`` runs per packet: most calls end here).
        self._next_due = 0.0

    @property
    def pending(self) -> int:
        """Lost packets still awaited since the last keyframe (the ones that hold video up)."""
        if not self._pending:  # the common case, once per video packet
            return 0
        return sum(not entry.before_keyframe for entry in self._pending.values())

    @property
    def awaited(self) -> int:
        """Every lost packet still asked for, those before the last keyframe included."""
        return len(self._pending)

    def retry_interval(self) -> float:
        """How long to wait for a retransmission before asking again."""
        return (INITIAL_RTT if self.rtt is None else self.rtt) * RETRY_RTT_FACTOR + RETRY_SLACK

    def missing(self, sequence_numbers: list[int], now: float) -> int:
        """The caller NACKed these now; returns how many older ones that mattered were
        given up to make room."""
        pending = self._pending
        for sequence in sequence_numbers:
            pending.setdefault(sequence, _Pending(now, now))
        if sequence_numbers:
            self._next_due = min(self._next_due, now + self.retry_interval())
        dropped = mattered = 0
        while len(pending) > MAX_PENDING:
            mattered += not pending.pop(next(iter(pending))).before_keyframe
            dropped += 1
        self.given_up += dropped
        return mattered

    def arrived(self, sequence: int, now: float) -> bool:
        """A late packet came: True if it repaired a hole (the RTT estimate learns from it)."""
        entry = self._pending.pop(sequence, None)
        if entry is None:
            return False
        self.repaired += 1
        if entry.tries == 1:
            self._learn(now - entry.last_at)
        else:
            # Which ask was answered is unknown (Karn): only let it lengthen the estimate,
            # so retries that always come too early cannot hide a long RTT for ever.
            sample = now - entry.first_at
            if self.rtt is None or sample > self.rtt:
                self._learn(sample)
        return True

    def _learn(self, sample: float) -> None:
        self.rtt = sample if self.rtt is None else self.rtt + RTT_GAIN * (sample - self.rtt)
        self._next_due = 0.0  # a new interval: every entry's due time moved

    def poll(self, now: float) -> tuple[list[int], int]:
        """Sequence numbers to NACK again now, and how many that mattered were given up.

        Holes before the last keyframe are still asked for (a player downstream may be
        waiting on them: not every jitter buffer skips to a keyframe), but giving up on
        them costs nothing here.
        """
        pending = self._pending
        if not pending or now < self._next_due:
            return [], 0
        interval = self.retry_interval()
        again: list[int] = []
        expired: list[int] = []
        earliest = now
        for sequence, entry in pending.items():
            if now - entry.last_at < interval:
                earliest = min(earliest, entry.last_at)
                continue
            if entry.tries >= MAX_TRIES or now - entry.first_at + interval > self.give_up_after:
                expired.append(sequence)
                continue
            entry.tries += 1
            entry.last_at = now
            again.append(sequence)
        # Whatever stays (asked again now, or not yet due) is next due an interval on.
        self._next_due = earliest + interval
        mattered = 0
        for sequence in expired:
            mattered += not pending.pop(sequence).before_keyframe
        self.retries += len(again)
        self.given_up += len(expired)
        return again, mattered

    def keyframe_at(self, sequence: int) -> None:
        """A keyframe starts at ``sequence``: holes before it no longer hold our video up."""
        for old, entry in self._pending.items():
            if is_before(old, sequence):
                entry.before_keyframe = True

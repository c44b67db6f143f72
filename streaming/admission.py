"""Sans-I/O admission control for WHEP sessions: caps and a set-up rate, the caller's clock.

A session costs a UDP socket, a DTLS certificate and some hundred KiB until it ends, so a
stranger must not be able to open them without bound. Refusals carry how long to wait.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import NoReturn

from config import MediaSettings
from streaming.errors import OverCapacity, Refused, TooManyRequests

# What a refusal for a full cap asks the client to wait: sessions end at human pace.
CAP_RETRY_AFTER = 10
# Idle buckets are forgotten once this many addresses are tracked.
MAX_TRACKED_ADDRESSES = 10_000


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    """The caps and the set-up rate (``setup_per_minute`` with a ``setup_burst``)."""

    max_sessions: int
    max_sessions_per_feed: int
    max_sessions_per_address: int
    setup_per_minute: int
    setup_burst: int

    @classmethod
    def from_settings(cls, media: MediaSettings) -> AdmissionLimits:
        """The limits the ``media.*`` settings name."""
        return cls(
            max_sessions=media.max_sessions,
            max_sessions_per_feed=media.max_sessions_per_channel,
            max_sessions_per_address=media.max_sessions_per_address,
            setup_per_minute=media.setup_rate_per_minute,
            setup_burst=media.setup_burst,
        )


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(frozen=True, slots=True)
class Ticket:
    """What an admitted session holds until it ends: hand it back to ``release``."""

    address: str
    feed: str


class Admission:
    """Counts sessions per address, per feed and in total; a token bucket per address."""

    def __init__(self, limits: AdmissionLimits) -> None:
        self.limits = limits
        self._per_address: Counter[str] = Counter()
        self._per_feed: Counter[str] = Counter()
        self._total = 0
        self._buckets: dict[str, _Bucket] = {}
        # Refusals so far by reason, for metrics: a flood shows up here, not in the log.
        self.refused: Counter[str] = Counter()

    @property
    def total(self) -> int:
        """Sessions admitted and not yet released."""
        return self._total

    def admit(self, address: str, feed: str, now: float) -> Ticket:
        """A ticket for one more session, or ``TooManyRequests`` / ``OverCapacity``.

        Every attempt spends from the address's bucket, refused or not, so a client that
        ignores ``Retry-After`` stays refused.
        """
        limits = self.limits
        if not self._spend(address, now):
            rate = limits.setup_per_minute / 60
            wait = math.ceil((1 - self._buckets[address].tokens) / rate)
            message = "sessions are being set up too fast from this address"
            self._refuse("setup_rate", TooManyRequests(message, wait))
        if self._per_address[address] >= limits.max_sessions_per_address:
            message = f"this address has {limits.max_sessions_per_address} sessions already"
            self._refuse("per_address", TooManyRequests(message, CAP_RETRY_AFTER))
        if self._total >= limits.max_sessions:
            message = "the server is at its session limit"
            self._refuse("total", OverCapacity(message, CAP_RETRY_AFTER))
        if self._per_feed[feed] >= limits.max_sessions_per_feed:
            message = f"{feed} is at its session limit"
            self._refuse("per_channel", OverCapacity(message, CAP_RETRY_AFTER))
        self._per_address[address] += 1
        self._per_feed[feed] += 1
        self._total += 1
        return Ticket(address, feed)

    def _refuse(self, reason: str, refusal: Refused) -> NoReturn:
        self.refused[reason] += 1
        raise refusal

    def release(self, ticket: Ticket) -> None:
        """The session ``ticket`` admitted has ended."""
        self._total -= 1
        for counter, key in ((self._per_address, ticket.address), (self._per_feed, ticket.feed)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    def _spend(self, address: str, now: float) -> bool:
        """Take one set-up from ``address``'s bucket; False if it is empty."""
        rate = self.limits.setup_per_minute / 60
        burst = self.limits.setup_burst
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_ADDRESSES:
                self._forget_full_buckets(now)
            bucket = self._buckets[address] = _Bucket(float(burst), now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _forget_full_buckets(self, now: float) -> None:
        rate = self.limits.setup_per_minute / 60
        burst = self.limits.setup_burst
        for address in [
            a for a, b in self._buckets.items() if b.tokens + (now - b.at) * rate >= burst
        ]:
            del self._buckets[address]

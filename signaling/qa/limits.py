"""Rate limits: token buckets keyed by identity and by address, with an injected clock."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from signaling.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Rate:
    """``burst`` actions at once, refilled at ``per_minute``."""

    burst: int
    per_minute: float


class RateLimiter:
    """Token buckets for many keys; the least recently used keys are forgotten past ``size``."""

    def __init__(self, rate: Rate, size: int = 100_000) -> None:
        self._rate = rate
        self._size = size
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, key: str, now: float) -> bool:
        """Take one token for ``key``; False when the bucket is empty."""
        tokens, last = self._buckets.pop(key, (float(self._rate.burst), now))
        tokens = min(self._rate.burst, tokens + (now - last) * self._rate.per_minute / 60.0)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._size:
            self._buckets.popitem(last=False)
        return allowed


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-node limits for asking and voting, by identity and by address."""

    ask_per_identity: Rate = Rate(burst=3, per_minute=4)
    ask_per_address: Rate = Rate(burst=30, per_minute=60)
    vote_per_identity: Rate = Rate(burst=20, per_minute=60)
    # A venue's NAT carries hundreds of phones: the address bucket is wide on purpose.
    vote_per_address: Rate = Rate(burst=600, per_minute=600)
    talkback_per_identity: Rate = Rate(burst=5, per_minute=20)
    talkback_per_address: Rate = Rate(burst=20, per_minute=120)
    # Output language changes: a few clicks at once, never a stream of them.
    language_per_identity: Rate = Rate(burst=10, per_minute=30)
    language_per_address: Rate = Rate(burst=30, per_minute=120)
    # Votes on one question from one address within ``suspect_window`` seconds that flag it.
    # Anonymous identities a single address may be given (see signaling.auth.anonymous).
    anonymous_per_address: Rate = Rate(burst=500, per_minute=300)
    suspect_votes: int = 50
    suspect_window: float = 60.0


class ActionLimiter:
    """Asks, votes and talkback lines, each limited by identity and by the client's address."""

    def __init__(self, limits: Limits) -> None:
        self._ask = (RateLimiter(limits.ask_per_identity), RateLimiter(limits.ask_per_address))
        self._vote = (RateLimiter(limits.vote_per_identity), RateLimiter(limits.vote_per_address))
        self._talkback = (
            RateLimiter(limits.talkback_per_identity),
            RateLimiter(limits.talkback_per_address),
        )

        self._language = (
            RateLimiter(limits.language_per_identity),
            RateLimiter(limits.language_per_address),
        )

    def check(self, action: str, identity: str, address: str, now: float) -> None:
        """Raise ``RateLimited`` when ``identity`` or ``address`` is over its rate."""
        buckets = {"ask": self._ask, "talkback": self._talkback, "language": self._language}
        by_identity, by_address = buckets.get(action, self._vote)
        if not by_identity.check(identity, now):
            raise RateLimited(f"too many {action}s from you; wait a moment")
        if not by_address.check(address, now):
            raise RateLimited(f"too many {action}s from your network; wait a moment")

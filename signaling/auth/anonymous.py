"""Identities for people who arrive without a token, minted at a bounded rate per address.

Each vote belongs to an identity, so whoever can mint identities freely can stuff votes.
The page keeps the token it is given (the ``welcome`` frame) and presents it again; a
fresh one is minted only for a browser that has none, at most ``rate`` per address.
"""

from __future__ import annotations

from signaling.auth.grants import Grant
from signaling.auth.tokens import TokenAuthority
from signaling.errors import RateLimited
from signaling.qa.limits import Rate, RateLimiter


class AnonymousMinter:
    """Mints anonymous viewer identities, refusing an address that asks too often."""

    def __init__(self, authority: TokenAuthority, rate: Rate) -> None:
        self._authority = authority
        self._by_address = RateLimiter(rate)

    def mint(self, address: str, now: float) -> tuple[Grant, str]:
        """A new identity and its token for a client at ``address``; ``RateLimited`` if over."""
        if not self._by_address.check(address, now):
            raise RateLimited("too many new visitors from your network; try again in a moment")
        return self._authority.anonymous_viewer()

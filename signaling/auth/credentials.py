"""Turning a presented token into a ``Grant``: a signed token, or the event's ingest key.

Every HTTP check (pages, API, WHIP/WHEP) resolves tokens here, so the ingest key is one
more grant rather than a special case in each check.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from signaling.auth.grants import ALL, Grant, Role
from signaling.auth.tokens import TokenAuthority

INGEST_KEY_IDENTITY = "ingest key"


def ingest_key_grant() -> Grant:
    """What the settings' ``producer_secret`` may do: publish any channel and direct.

    Like a broadcast stream key, configured once in an encoder for the whole event; it
    routes venues (and so plays every channel and venue output), as it always has.
    """
    return Grant(INGEST_KEY_IDENTITY, Role.PRODUCER, channels=(ALL,), also_directs=True)


class Credentials:
    """Resolves tokens with the event's token authority and its optional ingest key."""

    def __init__(
        self,
        authority: TokenAuthority,
        ingest_key: str | None = None,
        on_use: Callable[[Grant], None] | None = None,
    ) -> None:
        self.authority = authority
        # Told of every signed token that verifies (the invites' "last seen"); must be cheap.
        self._on_use = on_use
        # Minted once at start-up: the key's grant never changes while the server runs.
        self._ingest = (ingest_key.encode(), ingest_key_grant()) if ingest_key else None

    def grant(self, token: str) -> Grant:
        """The grant ``token`` carries; ``Unauthorized`` when it is neither valid nor the key."""
        if self._ingest is not None:
            key, grant = self._ingest
            if hmac.compare_digest(token.encode(), key):
                return grant
        grant = self.authority.verify(token)
        if self._on_use is not None:
            self._on_use(grant)
        return grant

    def pass_grant(self, token: str, scope: str) -> Grant:
        """The grant behind a redirect's pass valid for ``scope``; ``Unauthorized`` if not."""
        grant = self.authority.verify_pass(token, scope)
        if self._on_use is not None:
            self._on_use(grant)
        return grant

    def revoked(self, token: str) -> bool:
        """Whether ``token`` has been revoked since it was checked (never the ingest key)."""
        if self._ingest is not None and hmac.compare_digest(token.encode(), self._ingest[0]):
            return False
        return self.authority.is_revoked(token)

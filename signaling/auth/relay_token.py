"""This node's own credentials for pulling from other nodes: a short-lived relay token.

Nodes on one Redis share the signing secret (``signaling/auth/secret.py``), so a node
can mint a token every other node accepts, instead of carrying a person's (director)
token around. The grant is the narrow ``relay`` role: it plays channels and nothing else
(no publishing, routing, pages or the websocket). The token is renewed when half its
life has passed, and at once when the revocation list names it: revoking relay tokens
forces every node to renew, it cannot lock a node out (the node holds the secret; take
the secret, or the node, away for that).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from signaling.auth.grants import Grant, Role
from signaling.auth.tokens import TokenAuthority


def relay_identity(node_id: str) -> str:
    """The identity a node's relay token carries (it shows in the upstream's logs)."""
    return f"node:{node_id}"


class RelayToken:
    """Mints and renews this node's relay token; ``current()`` is cheap to call per request."""

    def __init__(
        self,
        authority: TokenAuthority,
        node_id: str,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._authority = authority
        self._grant = Grant(relay_identity(node_id), Role.RELAY)
        self._ttl = ttl
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self.minted = 0

    def current(self) -> str:
        """A token with at least half its life left that is not revoked."""
        now = self._clock()
        token = self._token
        if token is None or now >= self._renew_at or self._authority.is_revoked(token):
            token = self._token = self._authority.mint(self._grant, self._ttl, now=now)
            self._renew_at = now + self._ttl / 2
            self.minted += 1
        return token

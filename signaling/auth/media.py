"""The media plane's publish/play hook, answered from control-plane grants.

``streaming`` never imports this: ``web/app.py`` hands it over as a Protocol-typed port.
"""

from __future__ import annotations

from config import ChannelKind, Event
from signaling.auth.credentials import Credentials
from signaling.auth.grants import Grant, Role
from signaling.errors import Unauthorized


class TokenMediaAccess:
    """WHIP/WHEP Bearer tokens: who may publish or play which channel or venue output.

    Routing is not asked here: ``POST /api/venues/{venue}/route`` checks ``Grant.directs``
    like every other director action.
    """

    def __init__(self, credentials: Credentials, event: Event) -> None:
        self._credentials = credentials
        self._event = event

    def _grant(self, token: str | None) -> Grant | None:
        if not token:
            return None
        try:
            return self._credentials.grant(token)
        except Unauthorized:
            return None

    def may_publish(self, token: str | None, channel: str) -> bool:
        """Producers publish their channels; operators their venue's return channel."""
        grant = self._grant(token)
        found = self._event.channel(channel)
        if grant is None or found is None:
            return False
        if grant.produces(channel):
            return True
        if grant.role is Role.OPERATOR:
            return found.kind is ChannelKind.RETURN and found.venue == grant.venue
        return False

    def may_play(self, token: str | None, channel: str) -> bool:
        """Programme channels are public (no token, or any valid one); return feeds need more."""
        found = self._event.channel(channel)
        if found is None:
            return False
        grant = self._grant(token)
        if found.kind is ChannelKind.PROGRAMME:
            # No token is a public viewer; a bad token is refused, not silently downgraded.
            return not token or grant is not None
        if grant is None:
            return False
        if grant.directs:
            return True
        return grant.produces(channel)

    def may_play_venue(self, token: str | None, venue: str) -> bool:
        """Operators play their own venue output; directors and admins play any."""
        grant = self._grant(token)
        if grant is None or self._event.venue(venue) is None:
            return False
        if grant.directs:
            return True
        return grant.role is Role.OPERATOR and grant.venue == venue

    def revoked(self, token: str) -> bool:
        """A session opened with ``token`` must end: the token has been revoked since."""
        return self._credentials.revoked(token)
